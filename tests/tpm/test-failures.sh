#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Failure paths of measure and predict: each gives one clear line naming the object, the documented
# exit code, and leaves the PCRs untouched when it fails before the TPM (nothing half-measured).
set -uo pipefail
EPHROOT=${1:?usage: test-failures.sh EPHROOT}
here=$(dirname "$(readlink -f "$0")")
. "$here/../lib/swtpm.sh"
for t in swtpm tpm2_pcrread flock; do
        command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

work=$(mktemp -d)
holder=
trap 'swtpm_stop; [ -n "$holder" ] && kill "$holder" 2>/dev/null; rm -rf "$work"' EXIT
export EPHROOT_LOG_TARGET=stderr
head -c 4096 /dev/urandom >"$work/k"
head -c 4096 /dev/urandom >"$work/i"
zero=0000000000000000000000000000000000000000000000000000000000000000
fail=0

# expect NAME EXIT_CODE GREP_PATTERN -- COMMAND...
expect() {
        local name=$1 code=$2 pattern=$3; shift 4
        "$@" >"$work/out" 2>"$work/err"
        local rc=$?
        if [ "$rc" = "$code" ] && grep -qF -- "$pattern" "$work/err"; then
                echo "ok $name (exit $rc): $(head -n1 "$work/err")"
        else
                echo "FAIL $name: exit $rc (expected $code), stderr:"; sed 's/^/    /' "$work/err"
                fail=1
        fi
}

pcrs_untouched() {
        local name=$1 v
        for p in 11 12; do
                v=$(tpm2_pcrread "sha256:$p" | awk -v p="$p" '$1 == p":" { print tolower(substr($2, 3)) }')
                if [ "$v" != "$zero" ]; then
                        echo "FAIL $name: PCR $p was extended ($v)"; fail=1
                fi
        done
}

cmd() { # CMDLINE-TEXT -> file
        printf '%s\n' "$1" >"$work/cmdline"
        echo "$work/cmdline"
}

# 1. No TPM reachable.
port=$(swtpm_free_port)
expect no-tpm 1 "Failed to open the TPM through TCTI 'swtpm:host=127.0.0.1,port=$port'" -- \
        "$EPHROOT" --tcti "swtpm:host=127.0.0.1,port=$port" --config /dev/null measure --kernel "$work/k" --initrd "$work/i" \
        --cmdline-file "$(cmd "ephroot.measure-log=$work/l1/log")"
expect no-tcti-module 1 "Failed to open the TPM through TCTI 'nosuchmodule:x'" -- \
        "$EPHROOT" --tcti "nosuchmodule:x" --config /dev/null measure --kernel "$work/k" --initrd "$work/i" \
        --cmdline-file "$(cmd "")"

swtpm_start "$work/tpm" sha256

# 2. Missing kernel and initrd files.
expect no-kernel 1 "Failed to open kernel '/nonexistent/vmlinuz'" -- \
        "$EPHROOT" --tcti "$SWTPM_TCTI" --config /dev/null measure --kernel /nonexistent/vmlinuz --initrd "$work/i" \
        --cmdline-file "$(cmd "ephroot.measure-log=$work/l2/log")"
pcrs_untouched no-kernel
expect no-initrd 1 "Failed to open initrd '/nonexistent/initrd.img'" -- \
        "$EPHROOT" --tcti "$SWTPM_TCTI" --config /dev/null measure --kernel "$work/k" --initrd /nonexistent/initrd.img \
        --cmdline-file "$(cmd "ephroot.measure-log=$work/l2/log")"
expect kernel-is-dir 1 "Failed to measure kernel '$work': not a regular file" -- \
        "$EPHROOT" --tcti "$SWTPM_TCTI" --config /dev/null measure --kernel "$work" --initrd "$work/i" \
        --cmdline-file "$(cmd "ephroot.measure-log=$work/l2/log")"
expect predict-no-initrd 1 "Failed to open initrd '/nonexistent/initrd.img'" -- \
        "$EPHROOT" predict --kernel "$work/k" --initrd /nonexistent/initrd.img --cmdline ""
pcrs_untouched missing-files

# 3. A log directory that cannot be used: its parent is a regular file.
touch "$work/notadir"
expect log-parent-is-file 1 "Failed to create the directory of measurement log '$work/notadir/sub/log'" -- \
        "$EPHROOT" --tcti "$SWTPM_TCTI" --config /dev/null measure --kernel "$work/k" --initrd "$work/i" \
        --cmdline-file "$(cmd "ephroot.measure-log=$work/notadir/sub/log")"
pcrs_untouched log-parent-is-file

# 4. A log directory the process may not write (permissions only bind a non-root user).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        mkdir -p "$work/rodir" && chmod 0555 "$work/rodir" && chmod 0755 "$work"
        chmod 0644 "$work/k" "$work/i" "$(cmd "ephroot.measure-log=$work/rodir/log")"
        expect log-dir-unwritable 1 "Failed to open measurement log '$work/rodir/log': Permission denied" -- \
                setpriv --reuid=nobody --regid=nogroup --clear-groups \
                "$EPHROOT" --tcti "$SWTPM_TCTI" --config /dev/null measure --kernel "$work/k" --initrd "$work/i" \
                --cmdline-file "$work/cmdline"
        pcrs_untouched log-dir-unwritable
else
        echo "FAIL: not root or no setpriv: cannot test an unwritable log directory"; fail=1
fi

# 5. The log held by another writer: a bounded wait, then a clear failure.
mkdir -p "$work/l5" && touch "$work/l5/log"
flock "$work/l5/log" sleep 30 >/dev/null 2>&1 &
holder=$!
sleep 0.2
expect log-locked 1 "Failed to lock measurement log '$work/l5/log': Connection timed out" -- \
        "$EPHROOT" --tcti "$SWTPM_TCTI" --config /dev/null measure --kernel "$work/k" --initrd "$work/i" \
        --cmdline-file "$(cmd "ephroot.measure-log=$work/l5/log")"
pcrs_untouched log-locked
pkill -P "$holder" 2>/dev/null; kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null

# 6. Configuration and usage errors: exit 2, naming the key.
expect bad-pcr 2 "Invalid PCR '3' for 'pcr-kernel'" -- \
        "$EPHROOT" --tcti "$SWTPM_TCTI" --config /dev/null measure --kernel "$work/k" --initrd "$work/i" \
        --cmdline-file "$(cmd "ephroot.pcr-kernel=3")"
expect unknown-key 2 "Unknown setting 'nosuchkey'" -- \
        "$EPHROOT" --tcti "$SWTPM_TCTI" --config /dev/null measure --kernel "$work/k" --initrd "$work/i" \
        --cmdline-file "$(cmd "ephroot.nosuchkey=1")"
printf 'tcti = device:/dev/tpm0\ntcti = device:/dev/tpmrm0\n' >"$work/dup.conf"
expect duplicate-key 2 "$work/dup.conf:2: Setting 'tcti' given more than once" -- \
        "$EPHROOT" --config "$work/dup.conf" config --cmdline-file=/dev/null
expect missing-config 2 "Failed to read configuration '/nonexistent.conf'" -- \
        "$EPHROOT" --config /nonexistent.conf config --cmdline-file=/dev/null
expect usage 2 "--kernel is required" -- "$EPHROOT" predict --initrd "$work/i" --cmdline ""
expect unknown-verb 2 "Unknown verb 'frobnicate'" -- "$EPHROOT" frobnicate
pcrs_untouched config-errors

# 7. After all that, a good run still works on the same TPM (nothing was left locked or half-done).
expect good-run 0 "Measured cmdline into PCR 12" -- \
        "$EPHROOT" --tcti "$SWTPM_TCTI" --config /dev/null measure --kernel "$work/k" --initrd "$work/i" \
        --cmdline-file "$(cmd "ephroot.measure-log=$work/l7/log")"

exit $fail
