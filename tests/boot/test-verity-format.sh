#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `ephroot verity-format` on image files, checked by Debian's veritysetup (an independent tool): the
# tree after the filesystem and on a hash device of its own verifies with the printed root hash; one
# changed data byte makes veritysetup verify fail; bad input is refused with a clear error and the
# image untouched.
set -euo pipefail
ephroot=$(readlink -f "$1")
for t in mkfs.ext4 debugfs veritysetup python3 cmp; do
        command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail=0
check() { if eval "$2"; then echo "ok - $1"; else echo "FAIL - $1"; fail=1; fi; }
json() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# refuses NAME PATTERN ARGS...: exits 1 with PATTERN in the one error, the image files unchanged.
refuses() {
        local name=$1 pattern=$2 rc=0
        shift 2
        sha256sum img* >before 2>/dev/null || true
        "$ephroot" verity-format "$@" >out 2>err || rc=$?
        check "$name: exit 1 ($rc)" '[ "$rc" = 1 ]'
        check "$name: says '$pattern'" 'grep -q -- "$pattern" err || { cat err; false; }'
        check "$name: nothing written" 'sha256sum img* 2>/dev/null | cmp -s - before'
}

mkdir tree
echo "ephroot verity marker" >tree/marker
head -c 3000000 /dev/urandom >tree/rand
mkfs.ext4 -q -b 4096 -d tree img 40M >/dev/null 2>&1
fs=$((40 << 20))

check "--help exits 0 and names the root hash" '"$ephroot" verity-format --help | grep -q verity-root-hash'

refuses "no space after the filesystem" "it needs" img
truncate -s +1M img
cp img img.orig

out=$("$ephroot" verity-format img --json)
h=$(json root_hash <<<"$out")
check "root hash is 64 hex digits" '[[ "$h" =~ ^[0-9a-f]{64}$ ]]'
check "hash offset auto = filesystem size" '[ "$(json hash_offset <<<"$out")" = "$fs" ]'
check "data size = filesystem size" '[ "$(json data_size <<<"$out")" = "$fs" ]'
check "the filesystem is untouched" 'cmp -s -n "$fs" img img.orig'
check "veritysetup verify accepts the root hash" 'veritysetup verify img img "$h" --hash-offset="$fs"'
check "veritysetup verify refuses another root hash" '! veritysetup verify img img "$(tr 0-9a-f 1-9a-f0 <<<"$h")" --hash-offset="$fs" 2>/dev/null'

# Plain output is the root hash alone; the salt is new each time, so the root hash too.
h2=$("$ephroot" verity-format img)
check "plain output: the root hash alone, a new salt each run" '[[ "$h2" =~ ^[0-9a-f]{64}$ ]] && [ "$h2" != "$h" ]'
check "the second tree verifies" 'veritysetup verify img img "$h2" --hash-offset="$fs"'

# One changed byte in the marker's data block.
blk=$(debugfs -R "bmap /marker 0" img 2>/dev/null)
check "marker block found ($blk)" '[ "$blk" -gt 0 ]'
cp img img.bad
printf 'X' | dd of=img.bad bs=1 seek=$((blk * 4096 + 3)) conv=notrunc status=none
check "a changed data byte: veritysetup verify fails" '! veritysetup verify img.bad img.bad "$h2" --hash-offset="$fs" 2>verify.err'
check "... naming the data area" 'grep -q "data area" verify.err || { cat verify.err; false; }'
rm img.bad

# A hash device of its own.
cp img.orig img-data
truncate -s 1M hashdev
out=$("$ephroot" verity-format img-data --hash-device hashdev --json)
h=$(json root_hash <<<"$out")
check "hash device: offset 0" '[ "$(json hash_offset <<<"$out")" = 0 ]'
check "hash device: veritysetup verify accepts it" 'veritysetup verify img-data hashdev "$h"'
check "hash device: the data image is untouched" 'cmp -s img-data img.orig'
rm img-data

# Explicit offset beyond the filesystem.
cp img.orig img-off && truncate -s +1M img-off
out=$("$ephroot" verity-format img-off --hash-offset $((fs + (1 << 20))) --json)
check "--hash-offset BYTES: veritysetup verify at that offset" \
        'veritysetup verify img-off img-off "$(json root_hash <<<"$out")" --hash-offset=$((fs + (1 << 20)))'
rm img-off

# Bad input.
cp img.orig img
refuses "missing file" "Failed to open 'missing'" missing
refuses "offset inside the filesystem" "the filesystem takes" img --hash-offset 4096
refuses "the image as its own hash device" "it is the image itself" img --hash-device img
truncate -s 64K hashsmall
refuses "hash device too small" "it needs" img --hash-device hashsmall
head -c 100 /dev/urandom >img-tiny
refuses "no filesystem, no hash device" "use --hash-device" img-tiny
head -c 100 /dev/urandom >img-tiny2
refuses "too small for dm-verity" "too small" img-tiny2 --hash-device hashdev
rc=0; "$ephroot" verity-format img --hash-offset 100 2>err || rc=$?
check "unaligned --hash-offset: usage error (2)" '[ "$rc" = 2 ] && grep -q "multiple of 4096" err'
rc=0; "$ephroot" verity-format img --hash-offset 0 --hash-device hashdev 2>err || rc=$?
check "--hash-offset with --hash-device: usage error (2)" '[ "$rc" = 2 ]'
exit $fail
