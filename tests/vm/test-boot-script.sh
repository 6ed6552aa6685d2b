#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The initramfs boot script (initramfs-hooks/initramfs-tools/scripts/local-bottom/ephroot) run under
# busybox in a chroot, with stubs for ephroot and for halt/poweroff/reboot/sleep that record their
# calls: ephroot's exit status 0 lets the boot go on; anything else (an exit status, a signal, a
# missing binary) prints "ephroot: boot failed:", runs `ephroot boot-failed` (the failure event; it
# may crash too) and stops the machine the configured way, and never returns to initramfs-tools.
# The way is failure-action=, which the script asks ephroot for: the stub hands `ephroot config` to
# the real binary (copied into the chroot with its libraries), so the file and the kernel command
# line are read as ephroot reads them. Needs root (chroot) and busybox (static); exits 77 without
# them.
#   test-boot-script.sh SRCDIR EPHROOT
set -u
src=$1
ephroot_bin=$(readlink -f "$2")
script="$src/initramfs-hooks/initramfs-tools/scripts/local-bottom/ephroot"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || { echo "SKIP: busybox not found" >&2; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for chroot" >&2; exit 77; }
file "$(readlink -f "$busybox")" 2>/dev/null | grep -q 'dynamically linked' && {
        echo "SKIP: busybox is not the static one (busybox-static)" >&2; exit 77; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
        echo "FAIL: $*" >&2
        failures=$((failures + 1))
}

# The chroot's template: busybox and its applets.
template=$work/template
mkdir -p "$template"/{bin,usr/sbin,proc,etc,scripts/local-bottom,tmp,dev}
mknod "$template/dev/null" c 1 3
cp "$busybox" "$template/bin/busybox"
for a in $("$busybox" --list); do
        [ "$a" = busybox ] || ln -s busybox "$template/bin/$a"
done
# The real ephroot, for the stub's `ephroot config`, with the libraries it links.
cp "$ephroot_bin" "$template/usr/sbin/ephroot.real"
for lib in $(ldd "$ephroot_bin" | grep -o '/[^ ]*'); do
        mkdir -p "$template$(dirname "$lib")"
        cp -L "$lib" "$template$lib"
done

# A fresh chroot: the template, the script, stubs.
setup() {
        local r=$work/root
        rm -rf "$r"
        cp -a "$template" "$r"
        cp "$script" "$r/scripts/local-bottom/ephroot"
        : >"$r/calls"
        : >"$r/proc/sysrq-trigger"
        for t in halt poweroff reboot; do
                rm -f "$r/bin/$t"
                printf '#!/bin/sh\necho "%s $*" >>/calls\nexit 0\n' "$t" >"$r/bin/$t"
                chmod +x "$r/bin/$t"
        done
        # sleep 3600 is the script's final loop: record it and end the script there.
        rm -f "$r/bin/sleep"
        printf '#!/bin/sh\necho "sleep $*" >>/calls\n[ "$1" = 3600 ] && kill -KILL $PPID\nexit 0\n' >"$r/bin/sleep"
        chmod +x "$r/bin/sleep"
}

# stub_ephroot EXIT|signal|missing: records its calls and exits so or dies; `ephroot ... config ...`
# runs the real binary instead, unrecorded.
stub_ephroot() {
        local r=$work/root end
        case "$1" in
        missing) rm -f "$r/usr/sbin/ephroot"; return 0 ;;
        signal) end='kill -SEGV $$' ;;
        *) end="exit $1" ;;
        esac
        cat >"$r/usr/sbin/ephroot" <<EOF
#!/bin/sh
case " \$* " in *" config "*) exec /usr/sbin/ephroot.real "\$@" ;; esac
echo "ephroot \$*" >>/calls
$end
EOF
        chmod +x "$r/usr/sbin/ephroot"
}

# run NAME CMDLINE [ROOTMNT]: runs the script; sets rc, output, calls.
run() {
        local r=$work/root env=()
        printf '%s\n' "$2" >"$r/proc/cmdline"
        [ $# -ge 3 ] && env=(rootmnt="$3")
        output=$(timeout -s KILL 20 chroot "$r" /bin/env -i PATH=/bin:/usr/sbin "${env[@]}" \
                /bin/sh /scripts/local-bottom/ephroot 2>&1)
        rc=$?
        calls=$(cat "$r/calls")
        sysrq=$(cat "$r/proc/sysrq-trigger")
}

# expect_stop NAME ACTION MESSAGE: the script printed MESSAGE, stopped the machine with ACTION and
# never returned (it was in its final loop when the sleep stub ended it).
expect_stop() {
        local name=$1 action=$2 message=$3 before=$failures
        grep -qF "ephroot: boot failed: $message" <<<"$output" || fail "$name: no 'ephroot: boot failed: $message' in: $output"
        grep -qx "$action -f" <<<"$calls" || fail "$name: '$action -f' not called; calls: $calls"
        for other in halt poweroff reboot; do
                [ "$other" = "$action" ] && continue
                grep -q "^$other" <<<"$calls" && fail "$name: '$other' called besides $action; calls: $calls"
        done
        grep -qx 'sleep 3600' <<<"$calls" || fail "$name: did not end in the endless loop; calls: $calls"
        # The failure event for a boot ephroot did not finish, before the machine stops (not when
        # the binary is missing: nothing can measure then).
        if [ "$message" != "/usr/sbin/ephroot is missing from the initramfs" ]; then
                local bf stop
                bf=$(grep -nx 'ephroot boot-failed' <<<"$calls" | cut -d: -f1)
                stop=$(grep -nx "$action -f" <<<"$calls" | cut -d: -f1)
                [ -n "$bf" ] && [ -n "$stop" ] && [ "$bf" -lt "$stop" ] ||
                        fail "$name: 'ephroot boot-failed' not run before '$action -f'; calls: $calls"
        fi
        [ "$rc" -eq 137 ] || fail "$name: the script returned (status $rc) instead of looping"
        case "$action" in
        poweroff) [ "$sysrq" = o ] || fail "$name: no sysrq poweroff fallback (got '$sysrq')" ;;
        reboot) [ "$sysrq" = b ] || fail "$name: no sysrq reboot fallback (got '$sysrq')"
                grep -qx 'sleep 10' <<<"$calls" || fail "$name: reboot without the bounded delay" ;;
        halt) [ -z "$sysrq" ] || fail "$name: sysrq written on halt ('$sysrq')" ;;
        esac
        [ "$failures" -eq "$before" ] && echo "ok: $name"
}

base="root=UUID=0 ro console=ttyS0 ephroot=on"

setup; stub_ephroot 0; run success "$base" /root
if [ "$rc" -eq 0 ] && [ "$calls" = "ephroot boot --rootmnt /root" ] && [ -z "$output" ] && [ -z "$sysrq" ]; then
        echo "ok: ephroot exits 0: the script exits 0, prints nothing and stops nothing"
else
        fail "success: rc=$rc calls='$calls' output='$output'"
fi

setup; stub_ephroot 0; run rootmnt-default "$base"
r1=$rc c1=$calls
setup; stub_ephroot 0; run rootmnt-other "$base" /sysroot
if [ "$r1" -eq 0 ] && [ "$c1" = "ephroot boot --rootmnt /root" ] && [ "$calls" = "ephroot boot --rootmnt /sysroot" ]; then
        echo "ok: \${rootmnt} is passed through (default /root)"
else
        fail "rootmnt: unset gave '$c1' (rc $r1), /sysroot gave '$calls'"
fi

setup; stub_ephroot 1; run exit1 "$base"
expect_stop "exit status 1, default action" halt "ephroot exited with status 1"

setup; stub_ephroot 2; run exit2 "$base ephroot.failure-action=poweroff"
expect_stop "exit status 2, failure-action=poweroff" poweroff "ephroot exited with status 2"

setup; stub_ephroot signal; run signal "$base"
expect_stop "killed by SIGSEGV" halt "ephroot was killed by signal 11"

# Without the binary nothing can read the configuration: halt, whatever it says.
setup; stub_ephroot missing; run missing "$base ephroot.failure-action=poweroff"
expect_stop "binary missing: halts" halt "/usr/sbin/ephroot is missing from the initramfs"

setup; stub_ephroot 1; printf 'failure-action = reboot\n' >"$work/root/etc/ephroot.conf"; run conf "$base"
expect_stop "failure-action = reboot in the file" reboot "ephroot exited with status 1"

setup; stub_ephroot 1; printf 'failure_action = "poweroff"\n' >"$work/root/etc/ephroot.conf"
run cmdline-wins "$base ephroot.failure-action=halt"
expect_stop "the command line wins over the file" halt "ephroot exited with status 1"

setup; stub_ephroot 1; run after-dashdash "$base -- ephroot.failure-action=poweroff"
expect_stop "words after -- belong to init" halt "ephroot exited with status 1"

setup; stub_ephroot 1; run unknown-action "$base ephroot.failure-action=continue"
expect_stop "an unknown action halts" halt "ephroot exited with status 1"

setup; stub_ephroot 1; run underscore "$base ephroot.failure_action=poweroff"
expect_stop "- and _ alike in the key" poweroff "ephroot exited with status 1"

# A configuration ephroot refuses (failure-action= twice in one source) halts, as ephroot does.
setup; stub_ephroot 1; run twice "$base ephroot.failure-action=halt ephroot.failure_action=poweroff"
expect_stop "a refused configuration halts" halt "ephroot exited with status 1"

# attest= on (file or command line): the script brings the network up first, with initramfs-tools'
# configure_networking (here missing: it says so and goes on); off (the default): no network.
setup; stub_ephroot 0; printf 'attest = optional\n' >"$work/root/etc/ephroot.conf"; run attest-file "$base"
if [ "$rc" -eq 0 ] && grep -qx "ephroot: attest is on but configure_networking is missing; ephroot will report the failure" <<<"$output" &&
        [ "$calls" = "ephroot boot --rootmnt /root" ]; then
        echo "ok: attest = optional in the file: the network is brought up first"
else
        fail "attest in the file: rc=$rc calls='$calls' output='$output'"
fi
setup; stub_ephroot 0; run attest-cmdline "$base ephroot.attest=required"
grep -q "attest is on" <<<"$output" || fail "ephroot.attest=required: no network: $output"
setup; stub_ephroot 0; printf 'attest = required\n' >"$work/root/etc/ephroot.conf"; run attest-off "$base ephroot.attest=off"
[ "$rc" -eq 0 ] && [ -z "$output" ] && echo "ok: ephroot.attest=off on the command line wins: no network" ||
        fail "ephroot.attest=off: rc=$rc output='$output'"

# securityfs (the firmware's event log, boot-chain=): initramfs-tools mounts /sys but not securityfs;
# the script mounts it before `ephroot boot` when it is not mounted yet, and leaves it otherwise.
stub_mount() {
        local r=$work/root
        mkdir -p "$r/sys/kernel/security"
        rm -f "$r/bin/mount"
        printf '#!/bin/sh\necho "mount $*" >>/calls\nexit 0\n' >"$r/bin/mount"
        chmod +x "$r/bin/mount"
        printf '%s\n' "$1" >"$r/proc/mounts"
}
setup; stub_ephroot 0; stub_mount "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0"; run securityfs "$base" /root
if [ "$rc" -eq 0 ] && [ "$calls" = "$(printf 'mount -t securityfs securityfs /sys/kernel/security\nephroot boot --rootmnt /root')" ]; then
        echo "ok: securityfs not mounted: the script mounts it before ephroot boot"
else
        fail "securityfs: rc=$rc calls='$calls' output='$output'"
fi
setup; stub_ephroot 0; stub_mount "securityfs /sys/kernel/security securityfs rw,nosuid,nodev,noexec,relatime 0 0"
run securityfs-mounted "$base" /root
if [ "$rc" -eq 0 ] && [ "$calls" = "ephroot boot --rootmnt /root" ]; then
        echo "ok: securityfs already mounted: not mounted again"
else
        fail "securityfs-mounted: rc=$rc calls='$calls' output='$output'"
fi

# The script passes `sh -n` under busybox (the initramfs's shell) and under dash.
"$busybox" sh -n "$script" || fail "busybox sh -n"
if command -v dash >/dev/null; then dash -n "$script" || fail "dash -n"; fi

[ "$failures" -eq 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "all boot-script checks passed"
