# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by tests: Debian 13's systemd-pcrlock (systemd 257, from the trixie chroot of
# tests/lib/trixie-chroot.sh) as the judge of a measurement log in systemd's format (issue 16 item 2).
# Needs tests/lib/swtpm.sh and tests/lib/trixie-chroot.sh sourced first; root (the chroot).
#
#   pcrlock_run LOG DIR [VAR=VALUE]... ARG...
#       Runs trixie's `systemd-pcrlock --no-pager ARG...` with LOG as the userspace log
#       (SYSTEMD_MEASURE_LOG_USERSPACE), no firmware log (SYSTEMD_MEASURE_LOG_FIRMWARE=/dev/null) and
#       the TPM at $SWTPM_TCTI (SYSTEMD_TPM2_DEVICE takes a TCTI string: pcrlock has no
#       --tpm2-device= option and reads PCR values only from a TPM). DIR (and LOG's directory) are
#       bound into the chroot at the same paths: give paths under DIR for --components=, --policy=.
#       (trixie's tpm2-tss 4.1 also takes `swtpm:path=SOCK` for an swtpm on a unix socket, with its
#       control socket at SOCK.ctrl; the host's tpm2-tss 3.2 does not, so the tests use TCP.)
#       The VAR=VALUE go to pcrlock's environment. pcrlock's exit status.
#
#   pcrlock_check LOG VALUES [PCRS]
#       Does systemd-pcrlock agree with the log LOG and the PCR values VALUES? VALUES is a file of
#       lines "BANK PCR HEX" (e.g. "sha256 11 3cd9…", as a guest read them: every PCR of PCRS, default
#       "11 12 15", in every bank to check), or the word `tpm`: the live TPM at $SWTPM_TCTI (its
#       banks are read with tpm2_pcrread, those in $PCRLOCK_BANKS, comma-separated, required).
#       With a file, a fresh swtpm with the file's banks gets every record of LOG extended
#       (tpm2_pcrextend, all digests of a record at once), so that it stands for the TPM the values
#       come from. Then `systemd-pcrlock log --json=short` must report, for each PCR of PCRS,
#       hashMatchesEventLog (its H column) and, in every bank, its calculated value (its replay of
#       LOG) = the observed one (the TPM's) = VALUES. Prints one "ok"/"FAIL" line per PCR and bank
#       and pcrlock's own lines for a failing PCR; keeps pcrlock's outputs (pcrlock.json, the
#       table in pcrlock.txt, stderr in pcrlock.err) in $PCRLOCK_OUT when set. Returns 0 when all
#       agree, 1 when not (or on error), 77 when there is no trixie chroot (not root, no
#       debootstrap). Runs in a subshell: the caller's swtpm and variables are left alone; call it in
#       a condition under `set -e`.
#
# Example, after a VM boot whose report gave the log and the guest's PCRs:
#   . tests/lib/swtpm.sh; . tests/lib/trixie-chroot.sh; . tests/lib/pcrlock.sh
#   printf 'sha256 11 %s\nsha256 12 %s\nsha256 15 %s\n' "$p11" "$p12" "$p15" >"$out/pcrs.txt"
#   PCRLOCK_OUT="$out/pcrlock" pcrlock_check "$out/measure.log" "$out/pcrs.txt"

pcrlock_run() {
        local log dir
        log=$(readlink -f "$1") dir=$(readlink -f "$2")
        shift 2
        local env=()
        while [[ "${1:-}" == [A-Z]*=* ]]; do
                env+=("$1")
                shift
        done
        trixie_chroot_run --bind "$dir" --bind "$(dirname "$log")" SYSTEMD_TPM2_DEVICE="${SWTPM_TCTI:?no swtpm}" \
                SYSTEMD_MEASURE_LOG_USERSPACE="$log" SYSTEMD_MEASURE_LOG_FIRMWARE=/dev/null "${env[@]}" \
                /usr/lib/systemd/systemd-pcrlock --no-pager "$@"
}

pcrlock_check() (
        log=$1 values=$2 pcrs=${3:-11 12 15}
        SWTPM_PID= # the caller's swtpm, if any, is not ours to stop
        [ -s "$log" ] || { echo "FAIL pcrlock_check: no log '$log'"; exit 1; }
        trixie_chroot || exit $?
        out=${PCRLOCK_OUT:-}
        if [ -z "$out" ]; then
                out=$(mktemp -d) || exit 1
                trap 'swtpm_stop; rm -rf "$out"' EXIT
        else
                rm -rf "$out" && mkdir -p "$out" || exit 1
                trap 'swtpm_stop' EXIT
        fi
        out=$(readlink -f "$out")
        cp "$log" "$out/measure.log" || exit 1

        if [ "$values" = tpm ]; then
                [ -n "${SWTPM_TCTI:-}" ] && [ -n "${PCRLOCK_BANKS:-}" ] ||
                        { echo "FAIL pcrlock_check: 'tpm' needs SWTPM_TCTI and PCRLOCK_BANKS"; exit 1; }
                for bank in ${PCRLOCK_BANKS//,/ }; do
                        for pcr in $pcrs; do
                                v=$(TPM2TOOLS_TCTI=$SWTPM_TCTI tpm2_pcrread "$bank:$pcr" |
                                        awk -v p="$pcr" '$1 == p":" { print tolower(substr($2, 3)) }')
                                echo "$bank $pcr $v"
                        done
                done >"$out/values.txt"
        else
                cp "$values" "$out/values.txt" || exit 1
                banks=$(awk '{ print $1 }' "$out/values.txt" | sort -u | paste -sd,)
                [ -n "$banks" ] || { echo "FAIL pcrlock_check: no values in '$values'"; exit 1; }
                swtpm_start "$out/tpm" "$banks" >"$out/swtpm.out" 2>&1 ||
                        { echo "FAIL pcrlock_check: swtpm did not start"; cat "$out/swtpm.out"; exit 1; }
                # One tpm2_pcrextend per record: "PCR:alg=hex,alg=hex".
                python3 - "$out/measure.log" >"$out/extend.txt" <<'PY' || { echo "FAIL pcrlock_check: the log does not parse"; exit 1; }
import json, sys
for r in open(sys.argv[1], "rb").read().split(b"\x1e")[1:]:
    r = json.loads(r)
    print("%d:%s" % (r["pcr"], ",".join("%s=%s" % (d["hashAlg"], d["digest"]) for d in r["digests"])))
PY
                while read -r spec; do
                        TPM2TOOLS_TCTI=$SWTPM_TCTI tpm2_pcrextend "$spec" >>"$out/extend.log" 2>&1 ||
                                { echo "FAIL pcrlock_check: tpm2_pcrextend $spec"; cat "$out/extend.log"; exit 1; }
                done <"$out/extend.txt"
        fi

        pcrlock_run "$out/measure.log" "$out" log --json=short >"$out/pcrlock.json" 2>"$out/pcrlock.err" ||
                { echo "FAIL pcrlock_check: systemd-pcrlock log failed:"; cat "$out/pcrlock.err"; exit 1; }
        pcrlock_run "$out/measure.log" "$out" log >"$out/pcrlock.txt" 2>>"$out/pcrlock.err" || true
        python3 - "$out/pcrlock.json" "$out/values.txt" "$out/pcrlock.txt" $pcrs <<'PY'
import json, re, sys
j = json.load(open(sys.argv[1]))
want = {}
for line in open(sys.argv[2]):
    if line.strip():
        b, p, v = line.split()
        want[(b, int(p))] = v.lower()
table = open(sys.argv[3], encoding="utf-8", errors="replace").read().splitlines()
banks = sorted({b for b, _ in want})
pcrs = {p["pcr"]: p for p in j["pcrs"]}
bad = 0
for n in map(int, sys.argv[4:]):
    p = pcrs.get(n, {})
    h = p.get("hashMatchesEventLog") is True
    for b in banks:
        calc, obs, v = p.get("calculated" + b.upper()), p.get("observed" + b.upper()), want.get((b, n))
        if h and calc and calc == obs == v:
            print(f"ok   pcrlock: PCR {n} {b}: H ✓, its replay of the log = the TPM = {v}")
        else:
            bad = 1
            print(f"FAIL pcrlock: PCR {n} {b}: hashMatchesEventLog {p.get('hashMatchesEventLog')}, "
                  f"calculated {calc}, observed {obs}, expected {v}")
    if not h:
        for line in table:  # pcrlock's own row for this PCR (the H column is the first ✓/✗)
            if re.match(rf"\s*{n} .* [✓✗] [✓✗] [✓✗] ", line):
                print("     systemd-pcrlock:", " ".join(line.split()))
sys.exit(bad)
PY
)
