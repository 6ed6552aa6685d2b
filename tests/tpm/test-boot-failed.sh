#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `ephroot boot-failed`, the guard's failure event, against swtpm (sha1 + sha256 banks): it extends
# "ephroot-failure:v1 phase=unfinished" into each PCR ephroot uses (11, 12, 15 by default; another
# pcr-disk moves it), with log records whose replay equals the PCRs and whose digests are H(string);
# --if-service-failed does nothing when SERVICE_RESULT=success and measures otherwise; a configuration
# that cannot be read falls back to the built-in PCRs (the boot may have failed because of it); no
# TPM: exit 1 with its line; tpm=none: says so, measures nothing.
#   test-boot-failed.sh EPHROOT
set -uo pipefail
EPHROOT=${1:?usage: test-boot-failed.sh EPHROOT}
here=$(dirname "$(readlink -f "$0")")
. "$here/../lib/swtpm.sh"
for t in swtpm swtpm_setup tpm2_pcrread python3 unshare; do
        command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
work=$(mktemp -d)
trap 'swtpm_stop; rm -rf "$work"' EXIT
export EPHROOT_LOG_TARGET=stderr
fail=0
zero256=0000000000000000000000000000000000000000000000000000000000000000
event="ephroot-failure:v1 phase=unfinished"

ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
pcr() { # BANK PCR -> lower-case hex
        tpm2_pcrread "$1:$2" | awk -v p="$2" '$1 == p":" { print tolower(substr($2, 3)) }'
}
replay() { python3 "$here/../lib/replay-log.py" "$@"; }
fresh() { # a fresh vTPM with sha1 and sha256
        swtpm_stop
        rm -rf "$work/tpm"
        swtpm_start "$work/tpm" sha1,sha256 || { echo "FAIL: swtpm"; exit 1; }
}

# 1. Defaults: PCRs 11, 12, 15, both banks, the log.
fresh
printf 'measure-log = %s\n' "$work/log" >"$work/conf"
: >"$work/cmdline"
"$EPHROOT" --config "$work/conf" --tcti "$SWTPM_TCTI" boot-failed --cmdline-file "$work/cmdline" 2>"$work/err"
rc=$?
cat "$work/err"
[ $rc = 0 ] && grep -q '^ephroot: the boot did not finish: failure event measured into 3 PCRs (2 banks)\.$' "$work/err" &&
        ok "exit 0, one line: 3 PCRs, 2 banks" || bad "exit $rc, stderr: $(cat "$work/err")"
n=$(python3 - "$work/log" "$event" <<'PY'
import hashlib, json, sys
recs = [json.loads(r) for r in open(sys.argv[1], "rb").read().split(b"\x1e")[1:]]
ev = sys.argv[2].encode()
for r in recs:
    assert r["content"]["string"] == sys.argv[2], r["content"]
    for d in r["digests"]:
        assert d["digest"] == hashlib.new(d["hashAlg"], ev).hexdigest(), d
print(",".join(str(r["pcr"]) for r in recs))
PY
)
[ "$n" = "11,12,15" ] && ok "the log: 3 records, PCRs 11,12,15, each '$event' with digest H(string) in both banks" ||
        bad "the log's records: '$n'"
for bank in sha1 sha256; do
        for p in 11 12 15; do
                v=$(pcr "$bank" "$p")
                [ "$v" = "$(replay "$work/log" "$bank" "$p")" ] && [ -n "$(echo "$v" | tr -d 0)" ] &&
                        ok "$bank PCR $p = the log's replay (not zero)" || bad "$bank PCR $p = $v, replay $(replay "$work/log" "$bank" "$p")"
        done
done
[ "$(pcr sha256 14)" = "$zero256" ] && ok "PCR 14 untouched" || bad "PCR 14 extended"

# 2. The configuration's PCRs: pcr-disk=14 on the command line.
fresh
rm -f "$work/log"
echo "ephroot.pcr-disk=14" >"$work/cmdline"
"$EPHROOT" --config "$work/conf" --tcti "$SWTPM_TCTI" boot-failed --cmdline-file "$work/cmdline" 2>/dev/null
[ "$(pcr sha256 14)" = "$(replay "$work/log" sha256 14)" ] && [ "$(pcr sha256 14)" != "$zero256" ] &&
        [ "$(pcr sha256 15)" = "$zero256" ] && ok "ephroot.pcr-disk=14: PCR 14 gets it, 15 does not" ||
        bad "pcr-disk=14: PCR 14 $(pcr sha256 14), 15 $(pcr sha256 15)"
: >"$work/cmdline"

# 3. --if-service-failed (ExecStopPost= of ephroot.service).
fresh
rm -f "$work/log"
SERVICE_RESULT=success "$EPHROOT" --config "$work/conf" --tcti "$SWTPM_TCTI" boot-failed --if-service-failed \
        --cmdline-file "$work/cmdline" 2>"$work/err"
rc=$?
[ $rc = 0 ] && [ ! -e "$work/log" ] && [ "$(pcr sha256 11)" = "$zero256" ] && [ ! -s "$work/err" ] &&
        ok "SERVICE_RESULT=success --if-service-failed: nothing measured, nothing printed" || bad "success: rc $rc, $(cat "$work/err")"
SERVICE_RESULT=signal "$EPHROOT" --config "$work/conf" --tcti "$SWTPM_TCTI" boot-failed --if-service-failed \
        --cmdline-file "$work/cmdline" 2>"$work/err"
rc=$?
[ $rc = 0 ] && grep -q '^ephroot: the boot did not finish (signal): failure event measured into 3 PCRs' "$work/err" &&
        [ "$(pcr sha256 11)" = "$(replay "$work/log" sha256 11)" ] && [ "$(pcr sha256 11)" != "$zero256" ] &&
        ok "SERVICE_RESULT=signal --if-service-failed: measured, the line names the result" ||
        bad "signal: rc $rc, $(cat "$work/err")"

# 4. A configuration that cannot be read: the built-in PCRs and log path (/run: a private tmpfs here).
fresh
printf 'measure-log = %s\nno-such-key = 1\n' "$work/log" >"$work/bad.conf"
unshare --mount --propagation private sh -c '
        mount -t tmpfs tmpfs /run &&
        "$1" --config "$2" --tcti "$3" boot-failed --cmdline-file "$4" 2>"$5"; echo $? >"$5.rc"
        cp /run/log/systemd/tpm2-measure.log "$6" 2>/dev/null' sh \
        "$EPHROOT" "$work/bad.conf" "$SWTPM_TCTI" "$work/cmdline" "$work/err" "$work/log-default"
rc=$(cat "$work/err.rc")
cat "$work/err"
[ "$rc" = 0 ] && grep -q "no-such-key" "$work/err" && grep -q "using the built-in PCRs and TCTI" "$work/err" &&
        [ "$(pcr sha256 15)" = "$(replay "$work/log-default" sha256 15)" ] && [ "$(pcr sha256 15)" != "$zero256" ] &&
        ok "a bad configuration: named, then the built-in PCRs (15 = replay of the default log)" ||
        bad "bad configuration: rc $rc"

# 5. No TPM: exit 1 and a line naming the TCTI. tpm=none: said, nothing measured.
swtpm_stop
"$EPHROOT" --config "$work/conf" --tcti "swtpm:host=127.0.0.1,port=1" boot-failed --cmdline-file "$work/cmdline" 2>"$work/err"
rc=$?
[ $rc = 1 ] && grep -q "Failed to open the TPM through TCTI 'swtpm:host=127.0.0.1,port=1'" "$work/err" &&
        ok "no TPM: exit 1, $(grep -m1 'Failed to open' "$work/err")" || bad "no TPM: rc $rc, $(cat "$work/err")"
echo "ephroot.tpm=none" >"$work/cmdline"
"$EPHROOT" --config "$work/conf" boot-failed --cmdline-file "$work/cmdline" 2>"$work/err"
rc=$?
[ $rc = 0 ] && grep -q "tpm=none: no failure event can be measured" "$work/err" &&
        ok "tpm=none: said, exit 0" || bad "tpm=none: rc $rc, $(cat "$work/err")"

[ $fail = 0 ] && echo "all boot-failed checks passed"
exit $fail
