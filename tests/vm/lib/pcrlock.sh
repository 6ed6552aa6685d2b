# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the vm tests (checks.sh): Debian 13's systemd-pcrlock as the judge of the guest's
# measurement log (issue 16 item 2).
#
#   vm_check_pcrlock OUT BANKS
#       After a boot whose report holds the log (blob measure_log, already in OUT/measure.log from
#       vm_check_pcrs) and the guest's PCRs 11, 12, 15 of every bank in BANKS: a fresh swtpm with
#       those banks gets every record of the log extended (tpm2_pcrextend, all of the record's
#       digests at once), and its PCRs must equal the guest's (so it stands for the guest's TPM).
#       Then trixie's systemd-pcrlock (from the trixie chroot, tests/lib/trixie-chroot.sh) reads the
#       log (SYSTEMD_MEASURE_LOG_USERSPACE, no firmware log: SYSTEMD_MEASURE_LOG_FIRMWARE=/dev/null)
#       and the swtpm's PCRs (SYSTEMD_TPM2_DEVICE; pcrlock reads PCR values only from a TPM):
#       `systemd-pcrlock log --json=short` must say hashMatchesEventLog for 11, 12 and 15, its
#       calculated value must equal its observed one in every bank, and both the guest's. Then a
#       copy of the log with one digest of the PCR 12 record changed must make pcrlock report the
#       mismatch for PCR 12 (a judge that cannot fail proves nothing).

vm_pcrlock_run() { # DIR LOG -> systemd-pcrlock's JSON on stdout
        trixie_chroot_run --bind "$1" SYSTEMD_TPM2_DEVICE="$SWTPM_TCTI" SYSTEMD_MEASURE_LOG_USERSPACE="$2" \
                SYSTEMD_MEASURE_LOG_FIRMWARE=/dev/null /usr/lib/systemd/systemd-pcrlock --no-pager \
                --pcr=11,12,15 --json=short log 2>"$1/pcrlock.stderr"
}

vm_check_pcrlock() {
        local out=$1 banks=$2 dir spec rc bank pcr guests=""
        dir=$(readlink -f "$out")/pcrlock
        rm -rf "$dir" && mkdir -p "$dir" || return 1
        trixie_chroot
        rc=$?
        [ $rc = 0 ] || { fail "no trixie chroot for systemd-pcrlock (rc $rc)"; return; }
        [ -s "$out/measure.log" ] || { fail "no measurement log to give systemd-pcrlock"; return; }
        cp "$out/measure.log" "$dir/measure.log" || return 1
        for bank in ${banks//,/ }; do
                for pcr in 11 12 15; do
                        guests="$guests $bank:$pcr:$(vm_get "$out" "pcr.$bank.$pcr" || echo absent)"
                done
        done
        swtpm_start "$dir/tpm" "$banks" || { fail "swtpm for systemd-pcrlock did not start"; return; }
        # One tpm2_pcrextend per record: "PCR:alg=hex,alg=hex".
        python3 - "$dir/measure.log" >"$dir/extend.txt" <<'PY' || { swtpm_stop; fail "the log could not be read for extending"; return; }
import json, sys
for r in open(sys.argv[1], "rb").read().split(b"\x1e")[1:]:
    r = json.loads(r)
    print("%d:%s" % (r["pcr"], ",".join("%s=%s" % (d["hashAlg"], d["digest"]) for d in r["digests"])))
PY
        rc=0
        while read -r spec; do
                TPM2TOOLS_TCTI=$SWTPM_TCTI tpm2_pcrextend "$spec" >>"$dir/extend.log" 2>&1 || rc=1
        done <"$dir/extend.txt"
        check "the log's $(wc -l <"$dir/extend.txt") records extended into a swtpm with banks $banks" [ $rc = 0 ]
        vm_pcrlock_run "$dir" "$dir/measure.log" >"$dir/pcrlock.json"
        rc=$?
        check "systemd-pcrlock (trixie's, $(trixie_chroot_run /usr/lib/systemd/systemd-pcrlock --version | head -n 1)) read the log (exit $rc)" [ $rc = 0 ]
        python3 - "$dir/pcrlock.json" "$banks" $guests >"$dir/verdict.txt" 2>&1 <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
banks = sys.argv[2].split(",")
guest = {}
for g in sys.argv[3:]:
    b, p, v = g.split(":")
    guest[(b, int(p))] = v
pcrs = {p["pcr"]: p for p in j["pcrs"]}
bad = []
for n in (11, 12, 15):
    p = pcrs[n]
    if not p["hashMatchesEventLog"]:
        bad.append("PCR %d: hashMatchesEventLog false" % n)
    for b in banks:
        k = b.upper()
        calc, obs = p.get("calculated" + k), p.get("observed" + k)
        if not (calc and calc == obs == guest[(b, n)]):
            bad.append("PCR %d %s: calculated %s observed %s guest %s" % (n, b, calc, obs, guest[(b, n)]))
print("; ".join(bad) if bad else "pcrlock: PCRs 11, 12, 15 match the log in %s" % ", ".join(banks))
PY
        check "$(tail -n 1 "$dir/verdict.txt")" grep -q '^pcrlock: PCRs 11, 12, 15 match' "$dir/verdict.txt"

        # A changed record: the first digest of the PCR 12 record (the command line) altered.
        python3 - "$dir/measure.log" "$dir/changed.log" <<'PY'
import json, sys
recs = open(sys.argv[1], "rb").read().split(b"\x1e")[1:]
out = []
done = False
for r in recs:
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
        vm_pcrlock_run "$dir" "$dir/changed.log" >"$dir/pcrlock-changed.json"
        check "with one digest of the PCR 12 record changed, systemd-pcrlock reports PCR 12 not matching the log" \
                python3 -c 'import json,sys; p={x["pcr"]: x for x in json.load(open(sys.argv[1]))["pcrs"]}
sys.exit(0 if p[12]["hashMatchesEventLog"] is False and p[11]["hashMatchesEventLog"] and p[15]["hashMatchesEventLog"] else 1)' \
                "$dir/pcrlock-changed.json"
        swtpm_stop
}
