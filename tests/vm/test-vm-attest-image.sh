#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Attestation in the real boot of the Debian test image: ephroot=on ephroot.attest=required with
# kbs-url and a secret.<name> on the kernel command line, ip=dhcp so initramfs-tools'
# configure_networking brings the network up (the local-bottom script does, only because attest is
# on). The broker (ephroot-kbs) listens on the host's loopback; the guest reaches it only through
# QEMU user networking with restrict=on and one guestfwd rule (10.0.2.100:8080 -> a fresh
# `busybox nc` to the broker per connection), as in test-vm-attest.sh.
#  1. broker up (root in copy mode, or overlay with VM_ATTEST_MODE=overlay): the booted system (after switch_root, multi-user: the report unit) has
#     /run/ephroot/secrets/<name> with the host file's SHA-256, mode 0400, root:root, on tmpfs, and
#     status.json's attest phase ok (attested, 1 secret);
#  2. broker stopped: the boot fails closed in the initramfs: one "ephroot: boot failed:" line naming
#     the broker's auth endpoint, in the attest phase (measure-disk done, no attest or root line),
#     the machine powers off by itself (failure-action=poweroff), no report line, no systemd.
# The vTPM's state is made on the host first and copied for each boot, so the broker's policy can
# trust its AK (the `tpm` evidence's AK is a primary key of that state's seeds).
#   test-vm-attest-image.sh SRCDIR BUILDROOT EPHROOT EPHROOT-KBS
set -u
KBS=$(readlink -f "${4:?usage: test-vm-attest-image.sh SRCDIR BUILDROOT EPHROOT EPHROOT-KBS}")
. "$(dirname "$0")/lib/checks.sh"
vm_test_init attest-image "$1" "$2" "$3"
command -v busybox >/dev/null || { echo "SKIP: busybox (nc) not found" >&2; exit 77; }

KBS_PID=
cleanup() { [ -n "$KBS_PID" ] && kill "$KBS_PID" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT

# The vTPM's state (sha256 bank, as the rig's default), and the AK it will make.
tpm=$VM_WORK/tpm0
mkdir -p "$tpm/state"
swtpm_setup --tpm2 --tpmstate "$tpm/state" --pcr-banks sha256 --config /dev/null >"$tpm/setup.log" 2>&1 ||
        { cat "$tpm/setup.log" >&2; echo "FAIL: swtpm_setup" >&2; exit 1; }
swtpm_start "$tpm" || { echo "FAIL: swtpm" >&2; exit 1; }
AK=$("$EPHROOT" --config /dev/null --tcti "$SWTPM_TCTI" attest --print-ak --cmdline-file /dev/null)
swtpm_stop
rm -f "$tpm/state/"*.lock "$tpm/swtpm.pid" 2>/dev/null
[ -n "$AK" ] || { echo "FAIL: no AK from ephroot attest --print-ak" >&2; exit 1; }

# The broker: one secret, a policy trusting that AK for the tpm evidence.
res=$VM_WORK/res
mkdir -p "$res/default/key" && head -c 32 /dev/urandom >"$res/default/key/disk"
want=$(sha256sum <"$res/default/key/disk" | cut -c1-64)
echo "{\"policies\":[{\"name\":\"vm\",\"tee\":[\"tpm\"],\"trusted_aks\":[\"$AK\"],\"resources\":[\"default/key/*\"]}]}" >"$VM_WORK/policy.json"
echo "{\"port\":0,\"insecure_http\":true,\"resource_dir\":\"$res\",\"policy\":\"$VM_WORK/policy.json\"}" >"$VM_WORK/kbs.json"
: >"$VM_WORK/kbs.log"
"$KBS" --config "$VM_WORK/kbs.json" >"$VM_WORK/kbs.log" 2>&1 &
KBS_PID=$!
PORT=
for _ in $(seq 1 100); do
        PORT=$(sed -n 's/.*Listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$VM_WORK/kbs.log")
        [ -n "$PORT" ] && break
        sleep 0.05
done
[ -n "$PORT" ] || { cat "$VM_WORK/kbs.log" >&2; echo "FAIL: the broker did not start" >&2; exit 1; }
# guestfwd with a command: one fresh connection to the broker per guest connection.
printf '#!/bin/sh\nexec busybox nc 127.0.0.1 %s 2>/dev/null\n' "$PORT" >"$VM_WORK/fwd.sh"
chmod +x "$VM_WORK/fwd.sh"

export VM_TPM_STATE=$tpm/state
export VM_QEMU_ARGS="-netdev user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:8080-cmd:$VM_WORK/fwd.sh -device virtio-net-pci,netdev=n0"
# VM_ATTEST_MODE: the root's mode (copy, the default, or overlay: the trixie run covers overlay here).
mode=${VM_ATTEST_MODE:-copy}
append="ephroot=on ephroot.device=/dev/sda ephroot.mode=$mode ephroot.failure-action=poweroff"
append="$append ephroot.attest=required ephroot.kbs-url=http://10.0.2.100:8080 ephroot.kbs-insecure=yes ephroot.secret.disk=default/key/disk ip=dhcp"

# 1. The broker up.
out=$VM_WORK/boot
vm_resource_disk "$VM_WORK/resource.img" 2048 azure || exit 1
VM_RESOURCE_DISK=$VM_WORK/resource.img VM_APPEND="$append" vm_boot "$out"
tr -d '\r' <"$out/serial.log" | grep -a -e '^ephroot: ' -e 'IP-Config' -e 'Waiting up to' -e 'resolv.conf' | sed 's/^/   console: /'
vm_check_reported "$out"
check "the boot script brought the network up (attest=required) and DHCP completed" \
        sh -c "tr -d '\r' <'$out/serial.log' | grep -aq 'ephroot: attest is on: bringing up the network' &&
                tr -d '\r' <'$out/serial.log' | grep -aq 'IP-Config: .* complete'"
# QEMU's DHCP under restrict=on announces no name server (dns0 0.0.0.0): ephroot writes no
# resolv.conf then (the second boot's static ip= gives two).
check "DHCP under restrict=on gave no name server, and ephroot wrote no resolv.conf" \
        sh -c "tr -d '\r' <'$out/serial.log' | grep -aqE 'dns0 +: 0\.0\.0\.0' &&
                ! tr -d '\r' <'$out/serial.log' | grep -aq 'Wrote /etc/resolv.conf'"
check "the attest phase line names the broker and 1 secret" \
        sh -c "tr -d '\r' <'$out/serial.log' | grep -aq '^ephroot: attest .* http://10.0.2.100:8080: 1 secret'"
if [ "$mode" = overlay ]; then
        expect "$out" root.fstype overlay
        expect "$out" root.upper_source /dev/mapper/ephroot
        expect "$out" root.lowerdir /run/ephroot/lower
else
        expect "$out" root.source /dev/mapper/ephroot
fi
expect "$out" root.dm_target crypt
expect "$out" root.writable yes
expect "$out" secrets.names disk
expect "$out" secret.disk.sha256 "$want"
expect "$out" secret.disk.mode 400
expect "$out" secret.disk.owner root:root
expect "$out" secrets.fstype tmpfs
expect "$out" secrets.dir "700 root:root"
expect "$out" failed_units ""
check "the broker released the secret" grep -q released "$VM_WORK/kbs.log"
if vm_blob "$out" status "$out/status.json"; then
        python3 - "$out/status.json" >"$out/status-check.txt" 2>&1 <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["result"] == "ok", s
names = [p["name"] for p in s["phases"]]
assert "attest" in names and names.index("attest") > names.index("measure-disk"), names
a = s["attest"]
assert a["mode"] == "required" and a["attested"] is True and a["secrets"] == 1 and a["error"] is None, a
assert a["kbs_url"] == "http://10.0.2.100:8080" and a["tee"] == "tpm", a
print("attest phase %.0f ms" % [p["ms"] for p in s["phases"] if p["name"] == "attest"][0])
PY
        check "status.json: result ok, the attest phase after measure-disk, attested, 1 secret ($(tail -n 1 "$out/status-check.txt"))" \
                grep -q '^attest phase' "$out/status-check.txt"
else
        fail "no status.json in the report"
fi

# 2. The broker stopped: the boot fails closed in the initramfs. This boot's network is static, with
# two name servers in ip= (klibc's client:server:gw:netmask:host:device:autoconf:dns0:dns1): ipconfig
# records them in /run/net-enp0s3.conf and ephroot writes them into the initramfs's resolv.conf.
kill "$KBS_PID"; wait "$KBS_PID" 2>/dev/null; KBS_PID=
out=$VM_WORK/boot-no-broker
vm_resource_disk "$VM_WORK/resource.img" 2048 azure || exit 1
static="ip=10.0.2.15::10.0.2.2:255.255.255.0::enp0s3:off:10.0.2.3:192.0.2.53"
VM_RESOURCE_DISK=$VM_WORK/resource.img VM_APPEND="${append% ip=dhcp} $static" vm_boot "$out"
tr -d '\r' <"$out/serial.log" | grep -a -e '^ephroot: ' -e 'resolv.conf' -e 'IP-Config' | sed 's/^/   console: /'
if [ "$VM_SUITE" = trixie ]; then
        # Debian 13's initramfs-tools (0.148) writes /etc/resolv.conf itself in configure_networking
        # (netinfo_to_resolv_conf); ephroot leaves an existing file as it is.
        check "initramfs-tools wrote the initramfs's resolv.conf itself (ipconfig: dns0 10.0.2.3, dns1 192.0.2.53); ephroot left it" \
                sh -c "tr -d '\r' <'$out/serial.log' | grep -aqE 'dns0 +: 10\.0\.2\.3 +dns1 +: 192\.0\.2\.53' &&
                        ! tr -d '\r' <'$out/serial.log' | grep -aq 'Wrote /etc/resolv.conf'"
else
        check "ephroot wrote the initramfs's /etc/resolv.conf from ipconfig's file (nameserver 10.0.2.3, 192.0.2.53)" \
                sh -c "tr -d '\r' <'$out/serial.log' | grep -aq \"Wrote /etc/resolv.conf from initramfs-tools' network configuration: nameserver 10.0.2.3;nameserver 192.0.2.53;options\""
fi
# The line names the broker's endpoint (the attest phase's first request); the phase is the one
# after measure-disk: its line was printed, no attest and no root line.
vm_check_failed_closed "$out" "'http://10.0.2.100:8080/kbs/v0/auth'"
check "the boot script brought the network up (attest=required)" \
        sh -c "tr -d '\r' <'$out/serial.log' | grep -aq 'ephroot: attest is on: bringing up the network'"
console_has() { tr -d '\r' <"$1/serial.log" | grep -aqE -- "$2"; }
phase_line() { console_has "$1" "^ephroot: $2 +[0-9]+ ms "; }
check "it failed in the attest phase: measure-disk done, no attest or root phase line" \
        eval 'phase_line "$out" measure-disk && ! phase_line "$out" attest && ! phase_line "$out" root'
vm_test_done
