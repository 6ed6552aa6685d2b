#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# `ephroot probe --sysfs-root` end to end on copies of the fake sysfs trees, with small image files
# standing in for the device nodes: the JSON fields, the target and its reason, the configuration
# read from inside the root (etc/ephroot.conf, proc/cmdline), force-format.
# Needs python3 and mkfs.ext4; exits 77 without them.

set -eu

EPHROOT=$(realpath "${1:?usage: test-probe.sh EPHROOT SYSFS-TREES}")
TREES=$(realpath "${2:?usage: test-probe.sh EPHROOT SYSFS-TREES}")
export EPHROOT_LOG_TARGET=stderr
export PATH="$PATH:/usr/sbin:/sbin"
for tool in python3 mkfs.ext4; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool not found" >&2; exit 77; }
done

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0
fail() {
        echo "FAIL: $*" >&2
        failures=$((failures + 1))
}

use() { # LAYOUT: a fresh copy in $dir/root
        rm -rf "$dir/root"
        cp -a "$TREES/$1" "$dir/root"
}

probe() {
        set +e
        "$EPHROOT" probe --sysfs-root "$dir/root" --json "$@" >"$dir/out.json" 2>"$dir/err.txt"
        rc=$?
        set -e
}

# check PYTHON-EXPRESSION: evaluated with d = the JSON output
check() {
        python3 - "$dir/out.json" "$1" <<'PY' || fail "$1 (rc=$rc) $(cat "$dir/err.txt")"
import json, sys
d = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    print(json.dumps(d, indent=1), file=sys.stderr)
    sys.exit(1)
PY
}

# 1. v6: the local NVMe disk with the lowest metadata index, blank.
use azure-v6
truncate -s 32M "$dir/root/dev/nvme2n1"
probe
[ "$rc" = 0 ] || fail "v6: exit status $rc: $(cat "$dir/err.txt")"
check 'd["azure"] is True and len(d["disks"]) == 7'
check 'all(set(x) >= {"node", "role", "identity", "size", "classification", "reason"} for x in d["disks"])'
check '{x["node"]: x["role"] for x in d["disks"]}["/dev/nvme0n1"] == "os"'
check '[x["index"] for x in d["disks"] if x["role"] == "nvme-local"] == [3, 1, 2]'
check 'd["target"]["node"] == "/dev/nvme2n1" and d["target"]["classification"] == "blank"'
check 'd["target"]["identity"] == "nvme:SN-LOCAL-2:ns1:size=439804651008" and d["target"]["forced"] is False'
check 'd["target"]["accepted"] is True and d["target"]["role"] == "nvme-local"'
check '"lowest index" in d["target"]["reason"] and d["reason"] == d["target"]["reason"]'
# One shape for the chosen disk, accepted or refused.
check 'set(d["target"]) == {"node", "role", "identity", "classification", "forced", "accepted", "reason"}'

# 2. The kernel command line inside the root names another local disk.
echo "BOOT_IMAGE=/vmlinuz ephroot ephroot.device=/dev/nvme3n1" >"$dir/root/proc/cmdline"
truncate -s 32M "$dir/root/dev/nvme3n1"
probe
check 'd["target"]["node"] == "/dev/nvme3n1" and "named by device=" in d["target"]["reason"]'
# ... and --device wins over the configuration.
probe --device /dev/nvme2n1
check 'd["target"]["node"] == "/dev/nvme2n1"'
# ... but never the OS namespace.
probe --device /dev/nvme0n1
[ "$rc" = 1 ] || fail "OS namespace accepted"
check 'd["target"]["node"] == "/dev/nvme0n1" and d["target"]["accepted"] is False and d["target"]["role"] == "os"'
check '"Azure OS disk" in d["target"]["reason"] and d["reason"] == d["target"]["reason"]'
check 'set(d["target"]) == {"node", "role", "identity", "classification", "forced", "accepted", "reason"}'
grep -q "Refusing to format '/dev/nvme0n1': it is the Azure OS disk." "$dir/err.txt" || fail "OS refusal: $(cat "$dir/err.txt")"

# 3. A foreign target, then force-format: for another disk (refused), for this one (forced).
: >"$dir/root/proc/cmdline"
rm "$dir/root/dev/nvme2n1"
truncate -s 32M "$dir/root/dev/nvme2n1"
mkfs.ext4 -q -F "$dir/root/dev/nvme2n1" >/dev/null 2>&1
probe
[ "$rc" = 1 ] || fail "foreign: exit status $rc"
check 'd["target"]["node"] == "/dev/nvme2n1" and d["target"]["classification"] == "foreign"'
check 'd["target"]["accepted"] is False and d["target"]["forced"] is False and "it is foreign" in d["target"]["reason"]'
check 'd["target"]["identity"] == "nvme:SN-LOCAL-2:ns1:size=439804651008"'
grep -q "Refusing to format '/dev/nvme2n1': it is foreign (the whole disk holds ext4); only force-format=nvme:SN-LOCAL-2:ns1:size=439804651008 would override." "$dir/err.txt" ||
        fail "foreign refusal: $(cat "$dir/err.txt")"
echo "force-format = nvme:SN-LOCAL-1:ns1:size=439804651008" >"$dir/root/etc/ephroot.conf"
probe
[ "$rc" = 1 ] || fail "force-format for another disk: exit status $rc"
grep -q "Refusing to format '/dev/nvme2n1': it is foreign (the whole disk holds ext4), and force-format=nvme:SN-LOCAL-1:ns1:size=439804651008 names another disk" "$dir/err.txt" ||
        fail "force-format for another disk: $(cat "$dir/err.txt")"
echo "force-format = nvme:SN-LOCAL-2:ns1:size=439804651008" >"$dir/root/etc/ephroot.conf"
probe
[ "$rc" = 0 ] || fail "force-format for this disk: exit status $rc"
check 'd["target"]["node"] == "/dev/nvme2n1" and d["target"]["forced"] is True and d["target"]["accepted"] is True'
grep -q "FORCED: '/dev/nvme2n1'" "$dir/err.txt" || fail "forced format not logged loudly: $(cat "$dir/err.txt")"

# 4. Gen2: the resource disk is the candidate, but cloud-init has it mounted on /mnt.
use azure-gen2
probe
[ "$rc" = 1 ] || fail "gen2 mounted: exit status $rc"
check 'd["target"]["node"] == "/dev/sdb" and d["target"]["accepted"] is False and "mounted" in d["target"]["reason"]'
check 'd["target"]["role"] == "resource" and d["target"]["classification"] is None'
check '{x["node"]: (x["role"], x["lun"]) for x in d["disks"]} == {"/dev/sda": ("os", 0), "/dev/sdb": ("resource", 1), "/dev/sr0": ("cdrom", 2), "/dev/sdc": ("data", 0), "/dev/sdd": ("data", 5), "/dev/sde": ("data", 6)}'
# Unmounted, with a fresh "Temporary Storage" layout it would be picked: simulate by blank content.
sed -i '/\/mnt /d' "$dir/root/proc/self/mountinfo"
truncate -s 32M "$dir/root/dev/sdb"
probe
check 'd["target"]["node"] == "/dev/sdb" and d["target"]["role"] == "resource" and "LUN 1" in d["target"]["reason"]'

# 4b. v5 with native multipath: the hidden path device nvme0c0n1 is not a second local disk.
use azure-v5-nvme
truncate -s 32M "$dir/root/dev/nvme0n1"
probe
[ "$rc" = 0 ] || fail "v5: exit status $rc: $(cat "$dir/err.txt")"
check '[x["node"] for x in d["disks"]] == ["/dev/nvme0n1", "/dev/sda", "/dev/sr0"]'
check 'd["target"]["node"] == "/dev/nvme0n1" and d["target"]["classification"] == "blank"'

# 5. No Azure identity: nothing, and it says so.
use hyperv-gen2
probe
[ "$rc" = 1 ] || fail "hyperv: exit status $rc"
check 'd["target"] is None and "no positive Azure identity" in d["reason"]'
check 'all(x["role"] == "unknown" for x in d["disks"])'

# 5b. An error is reported, never nothing: with --json as {"error": ...} on stdout (wherever the log
# goes), and logged.
probe --sysfs-root "$dir/nonexistent"
[ "$rc" = 1 ] || fail "bad --sysfs-root: exit status $rc"
check '"Failed to enumerate the disks under" in d["error"] and "nonexistent" in d["error"]'
grep -q "Failed to enumerate the disks under '$dir/nonexistent'" "$dir/err.txt" ||
        fail "bad --sysfs-root: not logged: $(cat "$dir/err.txt")"
echo "no-such-key = 1" >"$dir/root/etc/ephroot.conf"
probe
[ "$rc" = 2 ] || fail "bad configuration: exit status $rc"
check '"Unknown setting" in d["error"] and "no-such-key" in d["error"]'
grep -q "Unknown setting 'no-such-key'" "$dir/err.txt" || fail "bad configuration: not logged: $(cat "$dir/err.txt")"

# 6. Text output works too.
use azure-gen1
"$EPHROOT" probe --sysfs-root "$dir/root" >"$dir/out.txt" 2>/dev/null || true
grep -q "^/dev/sdb .*resource" "$dir/out.txt" || fail "text output: $(cat "$dir/out.txt")"

if [ "$failures" -gt 0 ]; then
        echo "$failures failure(s)" >&2
        exit 1
fi
echo "all probe checks passed"
