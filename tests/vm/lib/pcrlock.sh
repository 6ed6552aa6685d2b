# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the vm tests (checks.sh): Debian 13's systemd-pcrlock as the judge of a guest's
# measurement log (issue 16 item 2), through tests/lib/pcrlock.sh (pcrlock_check).
#
#   vm_check_pcrlock OUT BANKS
#       After a boot whose report gave the log (OUT/measure.log, from vm_check_pcrs) and the guest's
#       PCRs 11, 12, 15 in every bank of BANKS: pcrlock_check with those values (a fresh swtpm with
#       the log's records extended stands for the guest's TPM; trixie's `systemd-pcrlock log` must
#       report H for 11, 12, 15 and its replay = the TPM = the guest's values in every bank). Then a
#       copy of the log with one digest of the PCR 12 record (the command line) changed, read by
#       pcrlock against a swtpm holding the guest's PCRs (the original log extended): pcrlock's H
#       must fail for PCR 12, and only there (a judge that cannot fail proves nothing). pcrlock's
#       outputs stay in OUT/pcrlock and OUT/pcrlock-changed.

VM_PCRLOCK_LIB_DIR=$(dirname "${BASH_SOURCE[0]}")
. "$VM_PCRLOCK_LIB_DIR/../../lib/pcrlock.sh"

vm_check_pcrlock() {
        local out=$1 banks=$2 bank pcr rc
        out=$(readlink -f "$out")
        [ -s "$out/measure.log" ] || { fail "no measurement log to give systemd-pcrlock"; return; }
        trixie_chroot >/dev/null || { fail "no trixie chroot for systemd-pcrlock"; return; }
        for bank in ${banks//,/ }; do
                for pcr in 11 12 15; do
                        echo "$bank $pcr $(vm_get "$out" "pcr.$bank.$pcr" || echo absent)"
                done
        done >"$out/pcrs.txt"
        PCRLOCK_OUT="$out/pcrlock" pcrlock_check "$out/measure.log" "$out/pcrs.txt" >"$out/pcrlock-check.txt" 2>&1
        rc=$?
        sed 's/^/   /' "$out/pcrlock-check.txt"
        check "trixie's systemd-pcrlock ($(trixie_chroot_run /usr/lib/systemd/systemd-pcrlock --version | head -n 1)) agrees with the guest's log and PCRs 11, 12, 15 in $banks (rc $rc)" [ $rc = 0 ]

        # A changed record: the first digest of the first PCR 12 record altered.
        python3 - "$out/measure.log" "$out/changed.log" <<'PY' || { fail "could not change the log"; return; }
import json, sys
out, done = [], False
for r in open(sys.argv[1], "rb").read().split(b"\x1e")[1:]:
    j = json.loads(r)
    if j["pcr"] == 12 and not done:
        d = j["digests"][0]
        d["digest"] = ("0" if d["digest"][0] != "0" else "1") + d["digest"][1:]
        r = (json.dumps(j, separators=(",", ":")) + "\n").encode()
        done = True
    out.append(b"\x1e" + r)
assert done, "no PCR 12 record"
open(sys.argv[2], "wb").write(b"".join(out))
PY
        # The guest's TPM stands in again (a swtpm with the original log extended, checked equal to
        # the guest's values); pcrlock reads the changed log against it: its H column must fail for 12.
        PCRLOCK_OUT="$out/pcrlock-changed" vm_pcrlock_changed "$out" "$banks" >"$out/pcrlock-changed.txt" 2>&1
        rc=$?
        grep -E '^(FAIL|     systemd-pcrlock)' "$out/pcrlock-changed.txt" | sed 's/^/   changed: /'
        check "with one digest of the PCR 12 record changed, pcrlock's H fails for PCR 12 only (rc $rc)" \
                sh -c "[ $rc = 1 ] && grep -q '^FAIL pcrlock: PCR 12 .*hashMatchesEventLog False' '$out/pcrlock-changed.txt' &&
                        ! grep -Eq '^FAIL pcrlock: PCR 1[15] ' '$out/pcrlock-changed.txt'"
}

# A swtpm with OUT/measure.log extended, its PCRs = the guest's (OUT/pcrs.txt), then pcrlock_check of
# OUT/changed.log against that live TPM. pcrlock_check's status.
vm_pcrlock_changed() (
        out=$1 banks=$2
        SWTPM_PID=
        trap 'swtpm_stop' EXIT
        swtpm_start "$out/pcrlock-changed-tpm" "$banks" || exit 1
        python3 - "$out/measure.log" >"$out/extend.txt" <<'PY' || exit 1
import json, sys
for r in open(sys.argv[1], "rb").read().split(b"\x1e")[1:]:
    r = json.loads(r)
    print("%d:%s" % (r["pcr"], ",".join("%s=%s" % (d["hashAlg"], d["digest"]) for d in r["digests"])))
PY
        while read -r spec; do
                TPM2TOOLS_TCTI=$SWTPM_TCTI tpm2_pcrextend "$spec" || exit 1
        done <"$out/extend.txt"
        while read -r bank pcr want; do
                got=$(TPM2TOOLS_TCTI=$SWTPM_TCTI tpm2_pcrread "$bank:$pcr" | awk -v p="$pcr" '$1 == p":" { print tolower(substr($2, 3)) }')
                [ "$got" = "$want" ] || { echo "FAIL the swtpm's $bank PCR $pcr $got is not the guest's $want"; exit 1; }
        done <"$out/pcrs.txt"
        PCRLOCK_BANKS=$banks pcrlock_check "$out/changed.log" tpm
)
