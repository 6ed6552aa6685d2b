# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the guest jobs (inside the VM, busybox sh): small helpers that print results.
result() { echo "EPHROOT-RESULT $1=$2"; }
now() { cut -d' ' -f1 /proc/uptime; }              # seconds, 10 ms resolution
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
# A 4 MiB block of recognisable plaintext (the marker repeated), for write/read-back checks.
plaintext() { yes "EPHROOT-PLAINTEXT-MARKER-0123456789abcdef" | head -c 4194304; }
# cryptsetup status FIELD -> value
status_field() { cryptsetup status "$1" | sed -n "s/^ *$2: *//p" | head -n1; }
# Hex key file -> raw key file.
unhex() { xxd -r -p "$1" >"$2"; }
