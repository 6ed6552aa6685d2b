#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copy mode's block copy, on the host: ext2/3/4 images in several layouts made by mkfs, copied by
# `ephroot root-hash --copy-to` into a destination pre-filled with random bytes (what a fresh dm-crypt
# volume reads as), must pass `e2fsck -fn` and hold the same files (extracted with debugfs, no
# mount needed); only used blocks are copied; the root hash changes with a used byte and not with an
# unused one; a too-small destination and a lying superblock are refused with the disk untouched.
set -euo pipefail
ephroot=$(readlink -f "$1")
for t in mkfs.ext4 mkfs.ext2 e2fsck debugfs python3; do
        command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail=0
check() { if eval "$2"; then echo "ok - $1"; else echo "FAIL - $1"; fail=1; fi; }
json() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

mkdir -p tree/d/e
head -c 3000000 /dev/urandom >tree/rand
dd if=/dev/zero of=tree/zeros bs=1M count=3 status=none   # used blocks that are all zeros
echo hello >tree/d/e/f
ln -s d/e/f tree/link
head -c 70000 /dev/urandom >tree/d/small

layouts=(
        "ext4-default|mkfs.ext4 -q|"
        "ext4-4k-blocks|mkfs.ext4 -q -b 4096|4096"
        "ext4-1k-blocks|mkfs.ext4 -q -b 1024|1024"
        "ext4-no-64bit-no-csum|mkfs.ext4 -q -O ^64bit,^metadata_csum"
        "ext4-no-flex-bg|mkfs.ext4 -q -O ^flex_bg"
        "ext4-no-sparse-super|mkfs.ext4 -q -O ^sparse_super,^resize_inode"
        "ext3|mkfs.ext4 -q -t ext3"
        "ext2|mkfs.ext2 -q"
)
for l in "${layouts[@]}"; do
        IFS='|' read -r name mkfs bs <<<"$l"
        rm -rf img dst out && $mkfs -d tree img 96M >/dev/null 2>&1
        head -c 128M /dev/urandom >dst
        out_json=$("$ephroot" root-hash img --copy-to dst --json)
        copied=$(json copied <<<"$out_json") layout=$(json layout <<<"$out_json")
        check "$name: read as ext4 used blocks" '[ "$layout" = ext4-used-blocks ]'
        [ -z "$bs" ] || check "$name: block size $bs" '[ "$(json block_size <<<"$out_json")" = "$bs" ]'
        check "$name: copied only part of the image ($copied of $((96 << 20)) bytes)" '[ "$copied" -lt $((48 << 20)) ]'
        check "$name: e2fsck -fn on the copy is clean" 'e2fsck -fn dst >e2fsck.log 2>&1'
        mkdir out && debugfs -R "rdump / $work/out" dst >/dev/null 2>&1
        check "$name: the copy holds the same files" 'diff -r -x lost+found tree out >/dev/null'
        check "$name: root-hash alone equals the hash of the copy" \
                '[ "$("$ephroot" root-hash img)" = "sha256:$(json root_hash <<<"$out_json" | cut -d: -f2)" ]'
done

# The hash covers used blocks, not unused ones.
mkfs.ext4 -q -b 4096 -d tree img 96M
h0=$("$ephroot" root-hash img)
blk=$(debugfs -R "bmap /d/small 0" img 2>/dev/null)
cp img img-used && printf 'X' | dd of=img-used bs=1 seek=$((blk * 4096 + 10)) conv=notrunc status=none
check "a changed byte in a used block changes the hash" '[ "$("$ephroot" root-hash img-used)" != "$h0" ]'
cp img img-unused && printf 'X' | dd of=img-unused bs=1 seek=$(((96 << 20) - 4096)) conv=notrunc status=none
check "a changed byte in an unused block (the last) leaves it" '[ "$("$ephroot" root-hash img-unused)" = "$h0" ]'

# Not ext: copied whole.
head -c 5M /dev/urandom >raw
check "a non-ext image is copied whole" \
        '[ "$("$ephroot" root-hash raw --json | json copied)" = $((5 << 20)) ] && [ "$("$ephroot" root-hash raw --json | json layout)" = whole ]'

# Too small a destination: refused before anything is written.
head -c 32M /dev/urandom >small && before=$(sha256sum <small)
if "$ephroot" root-hash img --copy-to small >out.txt 2>err.txt; then rc=0; else rc=$?; fi
check "too-small destination: exit 1" '[ $rc = 1 ]'
check "too-small destination: says how much is needed" 'grep -q "the copy needs 100663296 bytes, the destination has 33554432" err.txt || { cat err.txt; false; }'
check "too-small destination: left untouched" '[ "$(sha256sum <small)" = "$before" ]'

# A superblock that claims more blocks than the device has.
cp img liar && python3 - liar <<'PY'
import struct, sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(1024 + 4); f.write(struct.pack('<I', 10**8))
PY
head -c 200M /dev/zero >big 2>/dev/null || true
if "$ephroot" root-hash liar --copy-to big 2>err.txt >/dev/null; then rc=0; else rc=$?; fi
check "superblock larger than its device: refused (exit 1)" '[ $rc = 1 ] && grep -q "Failed to copy .*liar.*Bad message" err.txt'
check "superblock larger than its device: nothing written" '! grep -q . <(tr -d "\0" <big | head -c 1)'

# Missing image, missing destination.
if "$ephroot" root-hash nope 2>err.txt; then rc=0; else rc=$?; fi
check "missing image: exit 1 naming it" '[ $rc = 1 ] && grep -q "Failed to open .nope." err.txt'
if "$ephroot" root-hash img --copy-to nope 2>err.txt; then rc=0; else rc=$?; fi
check "missing destination: exit 1, not created" '[ $rc = 1 ] && [ ! -e nope ]'

exit $fail
