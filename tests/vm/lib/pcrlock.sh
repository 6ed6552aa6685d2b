# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the vm tests (checks.sh): Debian 13's systemd-pcrlock as the judge of a guest's
# measurement log (issue 16 item 2), through tests/lib/pcrlock.sh (pcrlock_check).
#
#   vm_check_pcrlock OUT BANKS
#       After a boot whose report gave the log (OUT/measure.log, from vm_check_pcrs) and the guest's
#       PCRs 11, 12, 15 in every bank of BANKS: pcrlock_check with those values (a fresh swtpm with
#       the log's records extended stands for the guest's TPM; trixie's `systemd-pcrlock log` must
#       report H for 11, 12, 15 and its replay = the TPM = the guest's values in every bank). Then a
#       copy of the log with one digest of the PCR 12 record (the command line) changed must make
#       pcrlock_check fail, on PCR 12 (a judge that cannot fail proves nothing). pcrlock's outputs
#       stay in OUT/pcrlock and OUT/pcrlock-changed.

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
        PCRLOCK_OUT="$out/pcrlock-changed" pcrlock_check "$out/changed.log" "$out/pcrs.txt" >"$out/pcrlock-changed.txt" 2>&1
        rc=$?
        grep -E '^FAIL' "$out/pcrlock-changed.txt" | sed 's/^/   changed: /'
        check "with one digest of the PCR 12 record changed, pcrlock disagrees (rc $rc), on PCR 12 only" \
                sh -c "[ $rc = 1 ] && grep -q '^FAIL pcrlock: PCR 12 ' '$out/pcrlock-changed.txt' &&
                        ! grep -Eq '^FAIL pcrlock: PCR 1[15] ' '$out/pcrlock-changed.txt'"
}
