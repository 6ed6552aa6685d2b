# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the vm tests: setup, assertions on the report, and the host-side checks shared by
# several tests (PCRs against a log replay and `ephroot predict`, no plaintext on the raw disk).
#
#   vm_test_init NAME SRCDIR BUILDROOT EPHROOT
#       Skips (77) without the tools; builds or reuses the image (VM_IMAGE_VARIANT: plain, the
#       default, or dracut; VM_SUITE: bookworm, the default, or trixie); makes the test's directory
#       BUILDROOT/vm-tests/NAME[-VARIANT][-SUITE] (kept:
#       serial logs stay there for reading).
#   check DESCRIPTION COMMAND...        records a failure when COMMAND fails
#   expect OUT KEY VALUE                 the report's KEY equals VALUE
#   vm_test_done                         prints the verdict, exits 0 or 1

VM_CHECKS_DIR=$(dirname "${BASH_SOURCE[0]}")
. "$VM_CHECKS_DIR/image.sh"
. "$VM_CHECKS_DIR/boot.sh"
. "$VM_CHECKS_DIR/pcrlock.sh"

vm_failures=0

vm_test_init() {
        VM_TEST_NAME=$1 VM_SRC=$(readlink -f "$2") VM_BUILDROOT=$(readlink -f "$3") EPHROOT=$(readlink -f "$4")
        VM_IMAGE_VARIANT=${VM_IMAGE_VARIANT:-plain}
        vm_require
        [ -x "$EPHROOT" ] || { echo "FAIL: $EPHROOT is not executable" >&2; exit 1; }
        vm_image_build "$VM_SRC" "$VM_BUILDROOT" "$VM_IMAGE_VARIANT" ||
                { echo "FAIL: the test image could not be built" >&2; exit 1; }
        [ "$VM_IMAGE_VARIANT" = plain ] || VM_TEST_NAME="$VM_TEST_NAME-$VM_IMAGE_VARIANT"
        [ "$VM_SUITE" = bookworm ] || VM_TEST_NAME="$VM_TEST_NAME-$VM_SUITE"
        VM_WORK="$VM_BUILDROOT/vm-tests/$VM_TEST_NAME"
        rm -rf "$VM_WORK" && mkdir -p "$VM_WORK"
        echo "image: $VM_IMAGE_DIR (Debian $VM_SUITE, kernel $VM_KVER, $VM_IMAGE_VARIANT)"
        echo "work:  $VM_WORK"
}

fail() {
        echo "FAIL: $*" >&2
        vm_failures=$((vm_failures + 1))
}

check() {
        local what=$1
        shift
        if "$@"; then
                echo "ok: $what"
        else
                fail "$what"
        fi
}

expect() {
        local out=$1 key=$2 want=$3 got
        got=$(vm_get "$out" "$key") || got="<absent>"
        if [ "$got" = "$want" ]; then
                echo "ok: $key = $want"
        else
                fail "$key: expected '$want', got '$got'"
        fi
}

vm_test_done() {
        if [ "$vm_failures" -ne 0 ]; then
                echo "$vm_failures check(s) failed; console log: $VM_WORK/*/serial.log" >&2
                exit 1
        fi
        echo "all checks passed"
        exit 0
}

# The boot went to the end: QEMU powered off by itself, and the report is complete.
vm_check_reported() {
        local out=$1
        check "QEMU powered off by itself before the deadline ($(sed -n 's/^ms=//p' "$out/boot.env") ms)" \
                grep -qx 'deadline_hit=no' "$out/boot.env"
        check "the report unit ran in the booted system (begin and end)" \
                sh -c "grep -qx 'report=begin' '$out/report' && grep -qx 'report=end' '$out/report'"
        expect "$out" cmdline "$(cat "$out/cmdline")"
}

# The boot never reached the OS: one "ephroot: boot failed:" line containing WHAT, the machine
# powered off (failure-action=poweroff), nothing of the report, the OS root's systemd never started
# (with dracut, systemd runs in the initrd too: there, the switch to the real root never began).
vm_check_failed_closed() {
        local out=$1 what=$2 lines
        lines=$(tr -d '\r' <"$out/serial.log" | grep -a 'ephroot: boot failed:')
        echo "   console: $lines"
        check "exactly one 'ephroot: boot failed:' line" [ "$(printf '%s\n' "$lines" | grep -c .)" -eq 1 ]
        check "the failure line says '$what'" grep -qiF -- "$what" <<<"$lines"
        check "QEMU powered off before the deadline (failure-action=poweroff)" grep -qx 'deadline_hit=no' "$out/boot.env"
        check "no report line: the booted system was never reached" [ ! -s "$out/report" ]
        vm_check_never_switched "$out"
}

vm_check_never_switched() {
        local out=$1
        if [ "${VM_IMAGE_VARIANT:-plain}" = dracut ]; then
                check "systemd ran in the initrd (so the check below can fail)" \
                        sh -c "tr -d '\r' <'$out/serial.log' | grep -aq 'systemd\[1\]: Running in initrd'"
                check "the initrd never began the switch to the real root (no initrd-switch-root on the console)" \
                        sh -c "! tr -d '\r' <'$out/serial.log' | grep -aq 'initrd-switch-root'"
        else
                check "systemd of the OS root never started" sh -c "! tr -d '\r' <'$out/serial.log' | grep -aq 'systemd\[1\]'"
        fi
}

# The kernel modules every initrd needs for ephroot (the initramfs-tools hook and the dracut module
# both install them): device-mapper, the ciphers, the disks' buses and drivers, ext4 and overlay.
# One built into the kernel (modules.builtin: Debian 13's cloud kernel has nvme, ext4, virtio_pci
# built in) needs no file in the initrd.
vm_check_initrd_modules() {
        local list=$1 m
        # (Debian 13's kernel versions hold a '+', an ERE operator: escaped in the pattern.)
        for m in dm-mod dm-crypt dm-integrity xts aesni-intel algif_skcipher hv_vmbus hv_storvsc nvme \
                virtio_blk virtio_scsi virtio_pci sd_mod ext4 overlay; do
                if grep -qE "/$m\\.ko\$" "$VM_IMAGE_DIR/modules.builtin"; then
                        echo "ok: module $m is built into the kernel"
                        continue
                fi
                check "initrd holds module $m" grep -qE "[ /]usr/lib/modules/${VM_KVER//+/\\+}/kernel/.*/$m\\.ko(\\.[a-z]+)?( |\$)" "$list"
        done
}

# What ephroot needs of the kernel, built in (y) or as a module (m), from its configuration: TPM
# (tpm_crb, tpm_tis: Azure's vTPM is CRB), device-mapper with crypt, verity and integrity, the ciphers
# and the skcipher API cryptsetup uses, the disks (virtio-scsi/sd for the rig's resource disk,
# Hyper-V's VMBus and storvsc and NVMe for Azure's), ext4 and overlay, and the confidential-guest
# drivers (sev-guest, tdx-guest) of an Azure CVM.
vm_check_kernel_config() {
        local config=$VM_IMAGE_DIR/config c
        for c in TCG_TPM TCG_CRB TCG_TIS BLK_DEV_DM DM_CRYPT DM_VERITY DM_INTEGRITY CRYPTO_XTS CRYPTO_AES_NI_INTEL \
                CRYPTO_USER_API_SKCIPHER SCSI_VIRTIO BLK_DEV_SD VIRTIO_BLK HYPERV HYPERV_STORAGE BLK_DEV_NVME \
                EXT4_FS OVERLAY_FS SEV_GUEST TDX_GUEST_DRIVER; do
                if [ "$c" = TDX_GUEST_DRIVER ] && [ "$VM_SUITE" = bookworm ]; then
                        echo "note: kernel $VM_KVER: CONFIG_$c=$(sed -n "s/^CONFIG_$c=//p" "$config") (Linux 6.1 predates it: not checked)"
                        continue
                fi
                check "kernel $VM_KVER: CONFIG_$c=$(sed -n "s/^CONFIG_$c=//p" "$config")" grep -qE "^CONFIG_$c=[ym]\$" "$config"
        done
}

# The first line of `BINARY -V` for a binary read back from the image's initrd, run where its C
# library is: on the host for Debian 12, in the trixie chroot for Debian 13 (glibc 2.41).
vm_binary_version() {
        if [ "$VM_SUITE" = trixie ]; then
                trixie_chroot >/dev/null 2>&1 && trixie_chroot_run --bind "$(dirname "$1")" "$1" -V 2>&1 | head -n 1
        else
                "$1" -V 2>&1 | head -n 1
        fi
}

# A file's hash, to show an image is unchanged by a boot.
vm_hash() {
        sha256sum <"$1" | cut -c1-64
}

# The report's marker (written onto / in the guest) is not anywhere in FILE in plaintext. The same
# search must find a planted copy, or the check proves nothing.
vm_check_no_plaintext() {
        local out=$1 file=$2 marker
        marker=$(vm_get "$out" marker) || marker=none
        check "the guest wrote a marker file onto /" [ "$marker" != none ]
        [ "$marker" != none ] || return
        check "the search finds a planted copy of the marker (control)" \
                sh -c "{ head -c 12345 /dev/urandom; printf '%s' '$marker'; } | grep -qaF '$marker'"
        check "marker $marker is not in plaintext on $(basename "$file")" sh -c "! grep -qaF '$marker' '$file'"
}

# vm_extend_words BANK HEX WORD...: HEX extended by H(WORD) for each word, as systemd-pcrphase does.
vm_extend_words() {
        python3 - "$@" <<'PY'
import hashlib, sys
bank, v = sys.argv[1], bytes.fromhex(sys.argv[2])
for w in sys.argv[3:]:
    v = hashlib.new(bank, v + hashlib.new(bank, w.encode()).digest()).digest()
print(v.hex())
PY
}

# PCRs 11, 12 and 15 of BANKS as read in the guest equal a Python replay of the guest's measurement
# log (sharing no code with ephroot), and 11 and 12 equal `ephroot predict` run on the host for the
# same kernel, initrd and command line: 12 directly, 11 after the closing "leave-initrd" event
# (predict stops before it, docs/measurements.md), whose digest is checked to be H("leave-initrd").
# A UKI boot: VM_UKI (the UKI, for `predict --uki`), VM_PCR11_START (PCR 11 after systemd-stub's
# events, from the firmware log; the replay of ephroot's log starts there) and VM_PCR11_PHASES (the
# words systemd-pcrphase measures into PCR 11 in the booted system after ephroot's leave-initrd, when
# the stub ran, systemd 252 logging them nowhere; alternatives separated by "|", as "sysinit|sysinit
# ready": the report may run before or after "ready").
vm_check_pcrs() {
        local out=$1 banks=$2 bank pcr guest replay pred11 pred12 leave start phases alt alts how
        vm_blob "$out" measure_log "$out/measure.log" || { fail "no measurement log in the report"; return; }
        "$EPHROOT" predict --kernel "$VM_KERNEL" --initrd "$VM_INITRD" --cmdline "$(cat "$out/cmdline")" \
                ${VM_UKI:+--uki "$VM_UKI"} --banks "$banks" --json >"$out/predict.json" || { fail "ephroot predict failed"; return; }
        check "the guest's TPM has exactly the banks $banks active" [ "$( (vm_get "$out" tpm.banks || true) |
                tr ',' '\n' | sort | paste -sd,)" = "$(echo "$banks" | tr ',' '\n' | sort | paste -sd,)" ]
        for bank in ${banks//,/ }; do
                # which of the alternatives of VM_PCR11_PHASES the guest's PCR 11 went through
                phases= alt=
                if [ -n "${VM_PCR11_PHASES:-}" ]; then
                        replay=$(python3 "$VM_SRC/tests/lib/replay-log.py" "$out/measure.log" "$bank" 11 ${VM_PCR11_START:-})
                        IFS='|' read -r -a alts <<<"$VM_PCR11_PHASES"
                        for alt in "${alts[@]}"; do
                                phases=$alt
                                [ "$(vm_extend_words "$bank" "$replay" $alt)" = "$(vm_get "$out" "pcr.$bank.11")" ] && break
                        done
                fi
                for pcr in 11 12 15; do
                        guest=$(vm_get "$out" "pcr.$bank.$pcr") || guest=absent
                        start=
                        [ "$pcr" = 11 ] && start=${VM_PCR11_START:-}
                        replay=$(python3 "$VM_SRC/tests/lib/replay-log.py" "$out/measure.log" "$bank" "$pcr" $start)
                        [ "$pcr" = 11 ] && replay=$(vm_extend_words "$bank" "$replay" $phases)
                        how=
                        [ "$pcr" = 11 ] && how="${VM_PCR11_START:+ from the value of the firmware log}${phases:+ then systemd-pcrphase: $phases}"
                        check "$bank PCR $pcr read in the guest ($guest) = replay of the log$how" [ "$guest" = "$replay" ]
                        check "$bank PCR $pcr is not zero (something was measured)" \
                                sh -c "[ -n '$guest' ] && [ -n \"\$(echo '$guest' | tr -d 0)\" ]"
                done
                pred11=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pcrs"][sys.argv[2]]["11"])' \
                        "$out/predict.json" "$bank")
                pred12=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pcrs"][sys.argv[2]]["12"])' \
                        "$out/predict.json" "$bank")
                check "$bank PCR 12 = ephroot predict on the host ($pred12)" [ "$(vm_get "$out" "pcr.$bank.12")" = "$pred12" ]
                leave=$(vm_extend_words "$bank" "$pred11" leave-initrd $phases)
                check "$bank PCR 11 = predict ($pred11) extended by H(\"leave-initrd\")${phases:+ and systemd-pcrphase: $phases}" \
                        [ "$(vm_get "$out" "pcr.$bank.11")" = "$leave" ]
        done
        # The log's file events name the bytes the host has: digests of the very kernel and initrd
        # QEMU loaded, and the command line it passed.
        python3 - "$out/measure.log" "$VM_KERNEL" "$VM_INITRD" "$(cat "$out/cmdline")" "$banks" >"$out/log-check.txt" 2>&1 <<'PY'
import hashlib, json, sys
log, kernel, initrd, cmdline, banks = sys.argv[1:6]
recs = [json.loads(r) for r in open(log, "rb").read().split(b"\x1e")[1:]]
files = {"kernel": open(kernel, "rb").read(), "initrd": open(initrd, "rb").read()}
seen = set()
for r in recs:
    c = r["content"]
    t = c.get("eventType")
    for d in r["digests"]:
        if t in files:
            want = hashlib.new(d["hashAlg"], files[t]).hexdigest()
        elif t == "cmdline":
            assert c["string"] == cmdline, "cmdline string differs: %r" % c["string"]
            want = hashlib.new(d["hashAlg"], cmdline.encode()).hexdigest()
        elif t == "phase":
            assert c["string"] == "leave-initrd" and r["pcr"] == 11, "unexpected phase event %r" % c
            want = hashlib.new(d["hashAlg"], b"leave-initrd").hexdigest()
        else:
            continue
        assert d["digest"] == want, "%s %s digest %s != %s" % (t, d["hashAlg"], d["digest"], want)
        seen.add(t)
    assert set(x["hashAlg"] for x in r["digests"]) == set(banks.split(",")), "record banks %r" % r["digests"]
assert seen == {"kernel", "initrd", "cmdline", "phase"}, "events seen: %r" % sorted(seen)
print("log events match the host's kernel, initrd, command line and H(leave-initrd)")
PY
        check "the log's kernel/initrd/cmdline/leave-initrd digests = hashes of the host's files ($(tail -n 1 "$out/log-check.txt"))" \
                grep -q '^log events match' "$out/log-check.txt"
}
