#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `ephroot boot` on the host, where it cannot get far (no Azure disk, no device-mapper): what it does
# when it is not enabled (nothing), and how it fails closed: one line beginning "ephroot: boot
# failed:" that names the cause, exit 1 (with --no-failure-action; otherwise it would halt), the
# failure event in every PCR ephroot uses so that PCRs equal a replay of the log and differ from a
# successful boot's, and status.json saying which phase failed.
set -euo pipefail
ephroot=$(readlink -f "$1")
here=$(dirname "$(readlink -f "$0")")
for t in swtpm tpm2_pcrread python3; do
        command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
. "$here/../lib/swtpm.sh"
work=$(mktemp -d)
trap 'swtpm_stop; rm -rf "$work"' EXIT
cd "$work"
fail=0
check() { if eval "$2"; then echo "ok - $1"; else echo "FAIL - $1"; fail=1; fi; }

mkdir -p root/boot
head -c 100000 /dev/urandom >root/boot/vmlinuz-test
head -c 50000 /dev/urandom >root/boot/initrd.img-test
common=(--rootmnt "$work/root" --kernel root/boot/vmlinuz-test --initrd root/boot/initrd.img-test --no-failure-action)
run() { # cmdline, extra args...
        local cl=$1; shift
        printf '%s\n' "$cl" >cmdline
        if "$ephroot" --config /dev/null "$@" boot "${common[@]}" --cmdline-file cmdline --status "$work/status.json" \
                >out.txt 2>err.txt; then rc=0; else rc=$?; fi
}

# Not enabled: exit 0, no output, no status, nothing measured.
run "root=/dev/vda1 ro quiet"
check "not enabled: exit 0" '[ $rc = 0 ]'
check "not enabled: prints nothing" '[ ! -s out.txt ] && [ ! -s err.txt ]'
check "not enabled: writes no status" '[ ! -e status.json ]'
run "root=/dev/vda1 ephroot=off"
check "ephroot=off: exit 0, nothing printed" '[ $rc = 0 ] && [ ! -s out.txt ] && [ ! -s err.txt ]'

# Enabled, no TPM reachable.
run "root=/dev/vda1 ephroot=on ephroot.tcti=swtpm:host=127.0.0.1,port=9" 
check "no TPM: exit 1" '[ $rc = 1 ]'
check "no TPM: one failure line naming the TPM" \
        '[ "$(grep -c "^ephroot: boot failed:" err.txt)" = 1 ] && grep -q "^ephroot: boot failed: Failed to open the TPM through TCTI" err.txt'
check "no TPM: status says phase measure failed" \
        'python3 -c "import json; s=json.load(open(\"status.json\")); assert s[\"result\"]==\"failed\" and s[\"failed_phase\"]==\"measure\""'

# Bad configuration on the command line: never guess whether to run.
run "root=/dev/vda1 ephroot=on ephroot.mode=sideways"
check "bad mode=: exit 1 with the reason" '[ $rc = 1 ] && grep -q "^ephroot: boot failed: .*Invalid .mode. value .sideways." err.txt'
run "root=/dev/vda1 ephroot.device=sdz"
check "malformed ephroot.* setting without ephroot=on: still fails closed" '[ $rc = 1 ] && grep -q "^ephroot: boot failed: .*device" err.txt'

# Enabled, a TPM, but no disk that may be formatted (the host is not Azure): fails in phase disk,
# after measuring; the failure event goes into PCRs 11, 12 and 15.
swtpm_start "$work/tpm" sha256
rm -f status.json
run "root=/dev/vda1 ephroot=on ephroot.measure-log=$work/log" --tcti "$SWTPM_TCTI"
check "no disk: exit 1" '[ $rc = 1 ]'
check "no disk: one failure line naming the cause" \
        '[ "$(grep -c "^ephroot: boot failed:" err.txt)" = 1 ] && grep -q "^ephroot: boot failed: Failed to find a disk to format" err.txt'
check "no disk: phases before it were printed with durations" \
        'grep -qE "^ephroot: measure +[0-9]+ ms" out.txt && grep -qE "^ephroot: key +[0-9]+ ms" out.txt'
check "no disk: status says phase disk failed" \
        'python3 -c "import json; s=json.load(open(\"status.json\")); assert s[\"failed_phase\"]==\"disk\", s"'
# The events, as "pcr:eventType" words.
events=$(python3 -c 'import json, sys
print(" ".join("%d:%s" % (r["pcr"], r["content"].get("eventType")) for r in
      (json.loads(x) for x in open(sys.argv[1], "rb").read().split(b"\x1e") if x.strip())))' "$work/log")
check "no disk: the log has the failure event in PCR 11, 12 and 15" \
        '[[ " $events " == *" 11:failure "* && " $events " == *" 12:failure "* && " $events " == *" 15:failure "* ]]'
for p in 11 12 15; do
        tpm=$(tpm2_pcrread "sha256:$p" | awk -v p="$p" '$1 == p":" { print tolower(substr($2, 3)) }')
        check "no disk: PCR $p equals the replay of the log" '[ "$tpm" = "$(python3 "$here/../lib/replay-log.py" "$work/log" sha256 $p)" ]'
done
h=$(python3 -c 'import hashlib; print(hashlib.sha256(b"ephroot-failure:v1 phase=disk").hexdigest())')
check "no disk: the failure digest is sha256(\"ephroot-failure:v1 phase=disk\")" 'grep -q "$h" "$work/log"'
predict=$("$ephroot" predict --kernel root/boot/vmlinuz-test --initrd root/boot/initrd.img-test --cmdline-file cmdline --banks sha256 | awk '$1 == "11:" { print $2 }')
check "no disk: PCR 11 no longer equals the successful prediction" '[ "$(python3 "$here/../lib/replay-log.py" "$work/log" sha256 11)" != "$predict" ]'

# lock = yes in the configuration file: the kernel command line cannot turn ephroot off or loosen a
# security-relevant key; trying is a failure, not an override.
printf 'enabled = yes\nlock = yes\nattest = required\nkbs-url = https://kbs.example\n' >locked.conf
for cl in "root=/dev/vda1 ephroot=off" "root=/dev/vda1 ephroot.attest=optional" "root=/dev/vda1 ephroot.lock=no"; do
        printf '%s\n' "$cl" >cmdline
        if "$ephroot" --config locked.conf boot "${common[@]}" --cmdline-file cmdline >out.txt 2>err.txt; then rc=0; else rc=$?; fi
        check "lock = yes, '$cl': refused, one failure line naming the key" \
                '[ $rc = 1 ] && [ "$(grep -c "^ephroot: boot failed:" err.txt)" = 1 ] && grep -qE "^ephroot: boot failed: kernel command line: Setting .(enabled|attest|lock). (is locked|belongs)" err.txt'
done

# The OS root's own kernel and initrd (no --kernel/--initrd): opened inside the root, never through a
# symlink, never blocking on a FIFO. The host controls these files.
rel=$(uname -r)
mkdir -p os/boot outside
head -c 1000 /dev/urandom >outside/vmlinuz
head -c 1000 /dev/urandom >os/boot/vmlinuz-"$rel"
head -c 1000 /dev/urandom >os/boot/initrd.img-"$rel"
run_os() { # cmdline: boot of the OS root at $work/os with its own files, 30 s at most
        printf '%s\n' "$1" >cmdline
        if timeout 30 "$ephroot" --config /dev/null --tcti "$SWTPM_TCTI" boot --rootmnt "$work/os" --no-failure-action \
                --cmdline-file cmdline --status "$work/status.json" >out.txt 2>err.txt; then rc=0; else rc=$?; fi
}
run_os "root=/dev/vda1 ephroot=on ephroot.measure-log=$work/log-os"
check "OS root files: measured from inside the root, then fails at the disk" \
        '[ $rc = 1 ] && grep -q "^ephroot: boot failed: Failed to find a disk to format" err.txt && grep -q "$work/os/boot/vmlinuz-$rel" "$work/log-os"'
mv os/boot/vmlinuz-"$rel" os/boot/vmlinuz-real
ln -s "$work/outside/vmlinuz" os/boot/vmlinuz-"$rel"
run_os "root=/dev/vda1 ephroot=on"
check "kernel a symlink out of the OS root: refused, naming it" \
        '[ $rc = 1 ] && grep -q "^ephroot: boot failed: Failed to open kernel .$work/os/boot/vmlinuz-$rel.: it is a symbolic link" err.txt'
rm os/boot/vmlinuz-"$rel" && ln -s vmlinuz-real os/boot/vmlinuz-"$rel"
run_os "root=/dev/vda1 ephroot=on"
check "kernel a symlink inside the OS root: refused too" \
        '[ $rc = 1 ] && grep -q "^ephroot: boot failed: Failed to open kernel .*: it is a symbolic link" err.txt'
rm os/boot/vmlinuz-"$rel" && mv os/boot/vmlinuz-real os/boot/vmlinuz-"$rel"
mv os/boot os/boot-real && ln -s "$work/os/boot-real" os/boot
run_os "root=/dev/vda1 ephroot=on"
check "/boot a symlink with an absolute target: resolved inside the OS root (not found), not outside" \
        '[ $rc = 1 ] && grep -q "^ephroot: boot failed: Failed to open kernel .$work/os/boot/vmlinuz-$rel.: No such file" err.txt'
rm os/boot && mv os/boot-real os/boot
rm os/boot/initrd.img-"$rel" && mkfifo os/boot/initrd.img-"$rel"
run_os "root=/dev/vda1 ephroot=on"
check "initrd a FIFO: refused at once (no hang), naming it" \
        '[ $rc = 1 ] && grep -q "^ephroot: boot failed: Failed to measure initrd .$work/os/boot/initrd.img-$rel.: not a regular file" err.txt'
"$ephroot" --config /dev/null boot --rootmnt "$work/os" --kernel os/boot/vmlinuz-"$rel" --no-failure-action \
        >out.txt 2>err.txt && rc=0 || rc=$?
check "--kernel without --initrd: usage error" '[ $rc = 2 ] && grep -q "kernel and --initrd go together" err.txt'
exit $fail
