#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# systemd's own tools (Debian 13's systemd 257, in the trixie chroot of tests/lib/trixie-chroot.sh)
# as the judges of ephroot's measurement log, against a host swtpm with 1 bank and with 3 banks
# (issue 16 items 2 and 3):
# - ephroot measure (kernel, initrd, command line: PCRs 11, 12) and ephroot volume (disk and
#   volume-key events: PCR 15) write the log; trixie's systemd-pcrextend appends its leave-initrd
#   phase event to it (systemd's sticky-bit protocol on ephroot's file);
# - systemd-pcrlock's PCR check (its H column) passes for 11, 12, 15 and its replay equals the TPM in
#   every bank (tests/lib/pcrlock.sh: pcrlock_check), and ephroot's side agrees on the same log
#   (the Python replay, `ephroot predict` + H("leave-initrd"));
# - `systemd-pcrlock cel` and `log --json` show how pcrlock reads ephroot's records (no content, no
#   description for content_type ephroot; systemd's records described);
# - `ephroot predict --pcrlock-dir` components: pcrlock maps each of ephroot's records to its
#   component (R column), `make-policy` over 11, 12, 15 keeps 11 and 12 (policy values = the TPM's)
#   and drops 15 (the disk and volume-key events cannot be predicted); with systemd's shipped
#   components too, 750-enter-initrd (absent on a GRUB boot) drops 11 until it is masked;
# - a changed record (a sha256 digest; in 3 banks only a sha384 digest) makes pcrlock fail;
# - ephroot appends again after systemd (boot-failed) and the log still checks out.
# - a log ephroot left marked (sticky bit): systemd-pcrextend extends without appending, pcrlock's
#   H column shows the gap.
#   test-pcrlock.sh EPHROOT
set -uo pipefail
EPHROOT=$(readlink -f "${1:?usage: test-pcrlock.sh EPHROOT}")
here=$(dirname "$(readlink -f "$0")")
. "$here/../lib/swtpm.sh"
. "$here/../lib/trixie-chroot.sh"
. "$here/../lib/pcrlock.sh"
for t in swtpm swtpm_setup tpm2_pcrread tpm2_pcrextend python3 unshare; do
        command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
trixie_chroot
rc=$?
[ $rc = 0 ] || { [ $rc = 77 ] && echo "SKIP: no trixie chroot (needs root and debootstrap)"; exit $rc; }
echo "judge: $(trixie_chroot_run /usr/lib/systemd/systemd-pcrlock --version | head -n 1)"

work=$(mktemp -d)
trap 'swtpm_stop; rm -rf "$work"' EXIT
export EPHROOT_LOG_TARGET=stderr
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
pcrread() { # BANK PCR -> lower-case hex
        tpm2_pcrread "$1:$2" | awk -v p="$2" '$1 == p":" { print tolower(substr($2, 3)) }'
}

head -c 300000 /dev/urandom >"$work/vmlinuz"
head -c 500001 /dev/urandom >"$work/initrd.img"
cmdline="BOOT_IMAGE=/vmlinuz root=UUID=0b1c quiet"
printf '%s\n' "$cmdline" >"$work/cmdline"
: >"$work/empty-cmdline"

# A copy of LOG with the DIGEST of the record INDEX (0-based) in BANK changed.
change_digest() { # LOG INDEX BANK OUT
        python3 - "$@" <<'PY'
import json, sys
log, idx, bank, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
recs = open(log, "rb").read().split(b"\x1e")[1:]
j = json.loads(recs[idx])
d = [x for x in j["digests"] if x["hashAlg"] == bank][0]
d["digest"] = ("0" if d["digest"][0] != "0" else "1") + d["digest"][1:]
recs[idx] = (json.dumps(j, separators=(",", ":")) + "\n").encode()
open(out, "wb").write(b"".join(b"\x1e" + r for r in recs))
PY
}

run() { # BANKS
        local banks=$1 name="[$1]" log="$work/log/tpm2-measure.log" bank pcr out n
        rm -rf "$work/tpm" "$work/log" "$work/hdr" "$work/pcrlock.d" "$work/etc" "$work/var" "$work/other" "$work"/policy*.json
        truncate -s 0 "$work/disk.img"; truncate -s 48M "$work/disk.img"
        printf 'measure-log = %s\n' "$log" >"$work/t.conf"
        swtpm_start "$work/tpm" "$banks" || { bad "$name swtpm"; return; }

        # 1. ephroot writes the log: PCRs 11, 12 (measure), 15 (volume: disk, volume-key).
        "$EPHROOT" --tcti "$SWTPM_TCTI" --config "$work/t.conf" measure --kernel "$work/vmlinuz" \
                --initrd "$work/initrd.img" --cmdline-file "$work/cmdline" 2>"$work/err" ||
                { bad "$name ephroot measure"; cat "$work/err"; swtpm_stop; return; }
        "$EPHROOT" --tcti "$SWTPM_TCTI" --config "$work/t.conf" volume --cmdline-file "$work/empty-cmdline" \
                --no-activate --device "$work/disk.img" --header-dir "$work/hdr" --dm-name data0 --json \
                >"$work/volume.json" 2>"$work/err" || { bad "$name ephroot volume"; cat "$work/err"; swtpm_stop; return; }

        # 2. systemd-pcrextend (trixie's) appends its leave-initrd phase event to ephroot's log.
        # SYSTEMD_FORCE_MEASURE=1: it measures only after systemd-stub did, which no UKI did here.
        out=$(trixie_chroot_run --bind "$work" SYSTEMD_TPM2_DEVICE="$SWTPM_TCTI" SYSTEMD_MEASURE_LOG_USERSPACE="$log" \
                SYSTEMD_FORCE_MEASURE=1 /usr/lib/systemd/systemd-pcrextend leave-initrd 2>&1)
        n=$(grep -c $'\x1e' "$log")
        if [ "$out" = "Extended PCR index 11 with 'leave-initrd' (banks ${banks//,/, })." ] && [ "$n" = 6 ] &&
                [ "$(stat -c %a "$log")" = 600 ] && tail -n 1 "$log" | grep -q '"content_type":"systemd".*"eventType":"phase"'; then
                ok "$name systemd-pcrextend appended to ephroot's log ('$out'): 6 records, sticky bit cleared"
        else
                bad "$name systemd-pcrextend: '$out', $n records, mode $(stat -c %a "$log")"
        fi

        # 3. systemd-pcrlock's check in every bank, and ephroot's side on the same log.
        PCRLOCK_BANKS=$banks pcrlock_check "$log" tpm "11 12 15" || bad "$name systemd-pcrlock's check of the log"
        "$EPHROOT" predict --kernel "$work/vmlinuz" --initrd "$work/initrd.img" --cmdline "$cmdline" \
                --banks "$banks" --json >"$work/predict.json" || bad "$name ephroot predict"
        for bank in ${banks//,/ }; do
                printf '%s %s %s %s %s\n' "$bank" "$(pcrread "$bank" 11)" "$(pcrread "$bank" 12)" "$(pcrread "$bank" 15)" \
                        "$(for pcr in 11 12 15; do python3 "$here/../lib/replay-log.py" "$log" "$bank" $pcr; done | paste -sd' ')"
        done >"$work/pcrs.txt"
        python3 - "$work/pcrs.txt" "$work/predict.json" <<'PY' || fail=1
import hashlib, json, sys
pred = json.load(open(sys.argv[2]))["pcrs"]
for line in open(sys.argv[1]):
    bank, t11, t12, t15, r11, r12, r15 = line.split()
    leave = hashlib.new(bank, bytes.fromhex(pred[bank]["11"]) + hashlib.new(bank, b"leave-initrd").digest()).hexdigest()
    if (r11, r12, r15) == (t11, t12, t15) and t12 == pred[bank]["12"] and t11 == leave and int(t15, 16):
        print(f"ok   ephroot's side, {bank}: Python replay = TPM for 11, 12, 15; predict = 12, predict + H(leave-initrd) = 11")
    else:
        print(f"FAIL ephroot's side, {bank}: tpm {t11} {t12} {t15} replay {r11} {r12} {r15} predict {pred[bank]}")
        sys.exit(1)
PY

        # pcrlock_check with values instead of the live TPM (as the VM tests give a guest's): a fresh
        # swtpm gets the log extended; one value off fails.
        for bank in ${banks//,/ }; do
                for pcr in 11 12 15; do
                        echo "$bank $pcr $(pcrread "$bank" $pcr)"
                done
        done >"$work/values.txt"
        awk -v n="$(wc -l <"$work/values.txt")" 'NR == n { $3 = (substr($3, 1, 1) == "0" ? "1" : "0") substr($3, 2) } 1' \
                "$work/values.txt" >"$work/values-off.txt"
        pcrlock_check "$log" "$work/values.txt" >"$work/v.out" &&
                pcrlock_check "$log" "$work/values-off.txt" >"$work/v-off.out"
        rc=$?
        [ $rc = 1 ] && [ "$(grep -c '^ok   pcrlock' "$work/v.out")" = $((3 * $(echo "${banks//,/ }" | wc -w))) ] &&
                [ "$(grep -c '^FAIL pcrlock' "$work/v-off.out")" = 1 ] &&
                ok "$name pcrlock_check LOG VALUES (a fresh swtpm with the log extended): agrees; one value changed: '$(grep '^FAIL' "$work/v-off.out" | cut -c1-60)…'" ||
                { bad "$name pcrlock_check with values (rc $rc)"; cat "$work/v.out" "$work/v-off.out" 2>/dev/null; }

        # 4. How pcrlock reads the records: CEL (content only for content_type systemd), and log.
        pcrlock_run "$log" "$work" cel --json=short >"$work/cel.json" 2>"$work/cel.err" || bad "$name pcrlock cel"
        "$EPHROOT" predict --kernel "$work/vmlinuz" --initrd "$work/initrd.img" --cmdline "$cmdline" \
                --pcrlock-dir "$work/pcrlock.d" >/dev/null || bad "$name predict --pcrlock-dir"
        pcrlock_run "$log" "$work" log --json=short --components="$work/pcrlock.d" >"$work/comp.json" 2>"$work/comp.err" ||
                bad "$name pcrlock log --components"
        python3 - "$log" "$work/cel.json" "$work/comp.json" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uuid"])' "$work/volume.json")" <<'PY' || fail=1
import json, sys
log = [json.loads(r) for r in open(sys.argv[1], "rb").read().split(b"\x1e")[1:]]
cel = json.load(open(sys.argv[2]))
comp = json.load(open(sys.argv[3]))
uuid = sys.argv[4]
assert [c["recnum"] for c in cel] == list(range(1, 7)), cel
for c, r in zip(cel, log):
    assert c["pcr"] == r["pcr"] and sorted(map(tuple, (x.items() for x in c["digests"]))) == \
        sorted(map(tuple, (x.items() for x in r["digests"]))), (c, r)
    if r["content_type"] == "systemd":
        assert c["content_type"] == "systemd" and c["content"] == r["content"], c
    else:
        assert "content" not in c and "content_type" not in c, c
print("ok   pcrlock cel: 6 records, digests = the log's; content only for the 2 systemd records")
want = [  # pcr, event, match, component, description: as pcrlock's log table shows them
    (11, None, None, "760-ephroot-kernel", None),
    (11, None, None, "761-ephroot-initrd", None),
    (12, None, None, "762-ephroot-cmdline", None),
    (15, None, None, None, None),
    (15, "volume-key", False, None, f"cryptsetup:data0:{uuid}"),
    (11, "phase", True, "800-leave-initrd", "leave-initrd"),
]
got = [(x["pcr"], x["event"], x["match"], x["component"], x["description"]) for x in comp["log"]]
if got != want:
    sys.exit(f"FAIL pcrlock log rows {got}")
print("ok   pcrlock log: ephroot's kernel, initrd, cmdline records matched to 760/761/762-ephroot-*, the leave-initrd"
      " phase to 800-leave-initrd; disk and volume-key unmatched; volume-key described, its match ✗ (an HMAC, not H(string))")
p = {x["pcr"]: x for x in comp["pcrs"]}
assert p[11]["allEventsMatched"] and p[12]["allEventsMatched"] and not p[15]["allEventsMatched"], p
assert all(p[n]["hashMatchesEventLog"] and p[n]["noMissingComponents"] for n in (11, 12, 15)), p
print("ok   pcrlock R column: ✓ for 11 and 12 (every record has its component), ✗ for 15")
PY

        # 5. make-policy over 11, 12, 15 with ephroot's components, after ephroot's events (770-).
        pcrlock_run "$log" "$work" make-policy --pcr=11,12,15 --components="$work/pcrlock.d" --location=770-:940- \
                --policy="$work/policy.json" >"$work/mp.out" 2>&1 || { bad "$name make-policy failed"; cat "$work/mp.out"; }
        grep -q '^PCRs in protection mask: 11 (kernel-boot), 12 (kernel-config)$' "$work/mp.out" &&
                grep -q '^PCR 15 (system-identity) event log contains unrecognized measurements. Removing' "$work/mp.out" &&
                ok "$name make-policy: $(grep '^PCRs in protection mask' "$work/mp.out"); 15 dropped (unrecognized measurements)" ||
                { bad "$name make-policy's PCRs"; cat "$work/mp.out"; }
        python3 - "$work/policy.json" "$work/predict.json" "$(pcrread sha256 11)" "$(pcrread sha256 12)" <<'PY' || fail=1
import hashlib, json, sys
pol = json.load(open(sys.argv[1]))
pred = json.load(open(sys.argv[2]))["pcrs"]["sha256"]
t11, t12 = sys.argv[3:5]
v = {x["pcr"]: x["values"] for x in pol["pcrValues"]}
leave = hashlib.sha256(bytes.fromhex(pred["11"]) + hashlib.sha256(b"leave-initrd").digest()).hexdigest()
# PCR 11 as the initrd leaves it after ephroot's events, and after leave-initrd (the TPM's now).
assert pol["pcrBank"] == "sha256" and sorted(v) == [11, 12], pol
assert sorted(v[11]) == sorted([pred["11"], leave]) and t11 == leave, (v[11], pred["11"], t11)
assert v[12] == [t12] == [pred["12"]], (v[12], t12)
print("ok   policy: PCR 11 in {predict, predict + leave-initrd (= TPM)}, PCR 12 = predict = TPM; no value before ephroot's events")
PY
        # pcrlock's default location (760-:940-) also admits PCR 11 before ephroot's events (zero here).
        pcrlock_run "$log" "$work" predict --pcr=11 --components="$work/pcrlock.d" >"$work/pd.out" 2>&1
        sed -n '/^Results for PCR 11/,$p' "$work/pd.out" | grep -q "^  sha256: $(printf '%064d' 0)$" &&
                ok "$name default location 760-:940-: PCR 11 zero (before ephroot's events) among the predicted values" ||
                { bad "$name default location"; cat "$work/pd.out"; }

        # Variants (docs/measurements.md): the kernel component as a directory with this kernel and
        # another; pcrlock predicts PCR 11 for both.
        head -c 1000 /dev/urandom >"$work/vmlinuz-other"
        mkdir -p "$work/var/760-ephroot-kernel.pcrlock.d"
        cp "$work/pcrlock.d"/76[12]-* "$work/pcrlock.d/800-leave-initrd.pcrlock" "$work/var/"
        cp "$work/pcrlock.d/760-ephroot-kernel.pcrlock" "$work/var/760-ephroot-kernel.pcrlock.d/this.pcrlock"
        "$EPHROOT" predict --kernel "$work/vmlinuz-other" --initrd "$work/initrd.img" --cmdline "$cmdline" \
                --pcrlock-dir "$work/other" >/dev/null &&
                cp "$work/other/760-ephroot-kernel.pcrlock" "$work/var/760-ephroot-kernel.pcrlock.d/other.pcrlock"
        pcrlock_run "$log" "$work" predict --pcr=11 --components="$work/var" --location=770-:940- >"$work/pv.out" 2>&1
        n=$(sed -n '/^Results for PCR 11/,$p' "$work/pv.out" | grep -c '^  sha256: ')
        grep -q '^2 combinations of components.$' "$work/pv.out" && [ "$n" = 4 ] &&
                sed -n '/^Results for PCR 11/,$p' "$work/pv.out" | grep -q "^  sha256: $(pcrread sha256 11)$" &&
                ok "$name kernel variants in 760-ephroot-kernel.pcrlock.d: 2 combinations, 4 values for PCR 11, the TPM's among them" ||
                { bad "$name kernel variants"; cat "$work/pv.out"; }

        # The same with systemd's shipped components and ephroot's in a directory before them (as
        # /etc/pcrlock.d or /var/lib/pcrlock.d): 750-enter-initrd (systemd-pcrphase in a UKI's
        # initrd) is not in a GRUB boot's log and takes PCR 11 out until it is masked.
        mkdir -p "$work/etc" && cp "$work/pcrlock.d"/* "$work/etc/"
        pcrlock_run "$log" "$work" predict --pcr=11,12 --components="$work/etc" --components=/usr/lib/pcrlock.d \
                --location=770-:940- >"$work/p1.out" 2>&1
        ln -s /dev/null "$work/etc/750-enter-initrd.pcrlock"
        pcrlock_run "$log" "$work" predict --pcr=11,12 --components="$work/etc" --components=/usr/lib/pcrlock.d \
                --location=770-:940- >"$work/p2.out" 2>&1
        if grep -q "^Couldn't find component '750-enter-initrd' in event log.$" "$work/p1.out" &&
                grep -q "^PCR 11 (kernel-boot) is touched by component we can't find in event log. Removing" "$work/p1.out" &&
                grep -q '^PCRs in protection mask: 12 (kernel-config)$' "$work/p1.out" &&
                grep -q '^PCRs in protection mask: 11 (kernel-boot), 12 (kernel-config)$' "$work/p2.out"; then
                ok "$name with systemd's components: 750-enter-initrd drops 11 ('$(grep -m1 "^Couldn't find component '750" "$work/p1.out")'); masked, 11 and 12 kept"
        else
                bad "$name with systemd's components"; cat "$work/p1.out" "$work/p2.out"
        fi

        # 6. A changed record fails pcrlock's check (and leaves the other PCRs passing).
        change_digest "$log" 0 sha256 "$work/changed.log"
        PCRLOCK_BANKS=$banks pcrlock_check "$work/changed.log" tpm "11 12 15" >"$work/changed.out"
        rc=$?
        sed 's/^/     | /' "$work/changed.out"
        if [ $rc = 1 ] && grep -q '^FAIL pcrlock: PCR 11 sha256' "$work/changed.out" &&
                ! grep -q '^FAIL pcrlock: PCR 1[25]' "$work/changed.out" &&
                grep -q '^     systemd-pcrlock: 11 .* ✗ ' "$work/changed.out"; then
                ok "$name the kernel record's sha256 digest changed: pcrlock fails PCR 11 (H ✗), 12 and 15 pass"
        else
                bad "$name changed kernel record: pcrlock_check rc $rc"
        fi
        if [ "$banks" != sha256 ]; then
                # Not only the bank pcrlock matches components in (sha256) is checked.
                change_digest "$log" 2 sha384 "$work/changed.log"
                PCRLOCK_BANKS=$banks pcrlock_check "$work/changed.log" tpm "11 12 15" >"$work/changed.out"
                rc=$?
                sed 's/^/     | /' "$work/changed.out"
                [ $rc = 1 ] && grep -q '^FAIL pcrlock: PCR 12 sha384' "$work/changed.out" &&
                        grep -q '^FAIL pcrlock: PCR 12 sha256: hashMatchesEventLog False' "$work/changed.out" &&
                        ! grep -q '^FAIL pcrlock: PCR 1[15]' "$work/changed.out" &&
                        ok "$name the command line record's sha384 digest changed: pcrlock fails PCR 12" ||
                        bad "$name changed sha384 digest: pcrlock_check rc $rc"
        fi

        # 7. ephroot appends after systemd (the guard's failure event into 11, 12, 15): still valid.
        "$EPHROOT" --tcti "$SWTPM_TCTI" --config "$work/t.conf" boot-failed --cmdline-file "$work/empty-cmdline" 2>"$work/err" ||
                { bad "$name ephroot boot-failed after systemd-pcrextend"; cat "$work/err"; }
        PCRLOCK_BANKS=$banks pcrlock_check "$log" tpm "11 12 15" >"$work/after.out" && [ "$(grep -c $'\x1e' "$log")" = 9 ] &&
                ok "$name ephroot appended after systemd's record (9 records): pcrlock's check passes in every bank" ||
                { bad "$name after ephroot appended to systemd's record"; cat "$work/after.out"; }
        for bank in ${banks//,/ }; do
                for pcr in 11 12 15; do
                        [ "$(pcrread "$bank" $pcr)" = "$(python3 "$here/../lib/replay-log.py" "$log" "$bank" $pcr)" ] ||
                                bad "$name Python replay after boot-failed: $bank:$pcr"
                done
        done

        if [ "$banks" = sha256 ]; then
                # 8. A log ephroot left marked (a crash between an extend and its record: the last
                # record, the failure event into 15, cut off and the sticky bit set, as
                # measure_log_extend() leaves it): systemd-pcrextend extends but does not append and
                # leaves the mark; pcrlock does not look at the mark, its H column shows the TPM
                # ahead of the log for 11 (systemd's unlogged extend) and 15 (the lost record).
                python3 - "$log" <<'PY'
import sys
recs = open(sys.argv[1], "rb").read().split(b"\x1e")[1:]
open(sys.argv[1], "wb").write(b"".join(b"\x1e" + r for r in recs[:-1]))
PY
                chmod 1600 "$log"
                out=$(trixie_chroot_run --bind "$work" SYSTEMD_TPM2_DEVICE="$SWTPM_TCTI" SYSTEMD_MEASURE_LOG_USERSPACE="$log" \
                        SYSTEMD_FORCE_MEASURE=1 /usr/lib/systemd/systemd-pcrextend leave-initrd 2>&1)
                PCRLOCK_BANKS=$banks pcrlock_check "$log" tpm "11 12 15" >"$work/marked.out"
                rc=$?
                sed 's/^/     | /' "$work/marked.out"
                if [ "$(stat -c %a "$log")" = 1600 ] && [ "$(grep -c $'\x1e' "$log")" = 8 ] && [ $rc = 1 ] &&
                        grep -q '^FAIL pcrlock: PCR 11 ' "$work/marked.out" && grep -q '^FAIL pcrlock: PCR 15 ' "$work/marked.out" &&
                        grep -q '^ok   pcrlock: PCR 12 ' "$work/marked.out"; then
                        ok "$name a log ephroot left marked: systemd-pcrextend extended without appending ('$out'), mark kept; pcrlock H ✗ for 11 and 15"
                else
                        bad "$name marked log: mode $(stat -c %a "$log"), $(grep -c $'\x1e' "$log") records, pcrlock_check rc $rc, pcrextend '$out'"
                fi
        fi
        swtpm_stop
}

run sha256
run sha1,sha256,sha384
[ $fail = 0 ] && echo "systemd-pcrlock and systemd-pcrextend (257) agree with ephroot's log"
exit $fail
