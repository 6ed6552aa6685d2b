# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by tests and benchmarks: a private swtpm per caller, with a fresh state directory (an
# ephemeral vTPM: new seeds, PCRs at zero), on loopback TCP ports (tpm2-tss 3.2's swtpm TCTI speaks
# TCP only). Sets SWTPM_TCTI for ephroot and tpm2-tools.
#   swtpm_start DIR [BANKS]   BANKS: comma list for swtpm_setup --pcr-banks (default: swtpm's own)
#   swtpm_stop

swtpm_free_port() {
        # Two consecutive ports that can be bound now: swtpm takes PORT (commands) and PORT+1
        # (control). Trying to connect is not enough: swtpm binds without SO_REUSEADDR, so a port
        # still in TIME-WAIT from an earlier connection accepts no connection yet refuses the bind.
        # Ports are drawn below the kernel's ephemeral range (ip_local_port_range), so outgoing
        # connections of concurrent tests cannot take them between this check and swtpm's bind.
        python3 - <<'PY'
import random, socket, sys
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
low = max(low, 12000)
for _ in range(200):
    port = random.randrange(10000, low - 2, 2)
    socks = []
    try:
        for p in (port, port + 1):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(port)
    sys.exit(0)
sys.exit(1)
PY
}

swtpm_start() {
        local dir=$1 banks=${2:-} port i
        mkdir -p "$dir/state"
        if [ -n "$banks" ]; then
                swtpm_setup --tpm2 --tpmstate "$dir/state" --pcr-banks "$banks" \
                        --config /dev/null >"$dir/setup.log" 2>&1 || {
                        echo "swtpm_setup failed:" >&2; cat "$dir/setup.log" >&2; return 1; }
        fi
        # Another process may still take the ports between the check and swtpm's bind: try again.
        for i in 1 2 3 4 5; do
                port=$(swtpm_free_port) || return 1
                swtpm socket --tpm2 --tpmstate dir="$dir/state" \
                        --server type=tcp,port="$port",bindaddr=127.0.0.1 \
                        --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
                        --flags "${SWTPM_FLAGS:-not-need-init,startup-clear}" --pid file="$dir/swtpm.pid" \
                        --log file="$dir/swtpm.log" &
                SWTPM_PID=$!
                # Wait (bounded) until it accepts connections.
                for _ in $(seq 1 100); do
                        if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && kill -0 "$SWTPM_PID" 2>/dev/null; then
                                SWTPM_TCTI="swtpm:host=127.0.0.1,port=$port"
                                export SWTPM_TCTI SWTPM_PID
                                export TPM2TOOLS_TCTI="$SWTPM_TCTI"
                                return 0
                        fi
                        kill -0 "$SWTPM_PID" 2>/dev/null || break
                        sleep 0.05
                done
                # Under set -e: neither the kill of an swtpm that already exited nor wait's status
                # (swtpm's exit code) may end the caller.
                kill "$SWTPM_PID" 2>/dev/null || true
                wait "$SWTPM_PID" 2>/dev/null || true
                SWTPM_PID=
                echo "swtpm could not listen on port $port or $((port + 1)) (try $i of 5), trying other ports" >&2
        done
        echo "swtpm did not start after 5 tries:" >&2
        cat "$dir/swtpm.log" >&2 2>/dev/null
        return 1
}

swtpm_stop() {
        [ -n "${SWTPM_PID:-}" ] || return 0
        kill "$SWTPM_PID" 2>/dev/null || true
        wait "$SWTPM_PID" 2>/dev/null || true
        SWTPM_PID=
}

# For a QEMU guest: swtpm with a unix control socket that QEMU's tpm-emulator chardev connects to.
# A fresh DIR per boot is an ephemeral vTPM. swtpm exits when the VM powers off, unless
# SWTPM_KEEP=yes: then it stays for swtpm_ioctl (tests/vm/lib/boot.sh VM_TPM_KEEP). Sets SWTPM_SOCK
# and SWTPM_QEMU_ARGS (the QEMU arguments for a TIS TPM on that socket).
#   swtpm_start_vm DIR [BANKS]
swtpm_start_vm() {
        local dir=$1 banks=${2:-} i terminate=--terminate
        [ "${SWTPM_KEEP:-no}" = yes ] && terminate=
        mkdir -p "$dir/state"
        if [ -n "$banks" ]; then
                swtpm_setup --tpm2 --tpmstate "$dir/state" --pcr-banks "$banks" \
                        --config /dev/null >"$dir/setup.log" 2>&1 || {
                        echo "swtpm_setup failed:" >&2; cat "$dir/setup.log" >&2; return 1; }
        fi
        SWTPM_SOCK="$dir/swtpm.sock"
        rm -f "$SWTPM_SOCK"
        swtpm socket --tpm2 --tpmstate dir="$dir/state" --ctrl type=unixio,path="$SWTPM_SOCK" \
                --flags startup-clear $terminate --pid file="$dir/swtpm.pid" --log file="$dir/swtpm.log" &
        SWTPM_PID=$!
        for i in $(seq 1 100); do
                [ -S "$SWTPM_SOCK" ] && break
                kill -0 "$SWTPM_PID" 2>/dev/null || { cat "$dir/swtpm.log" >&2; return 1; }
                sleep 0.05
        done
        [ -S "$SWTPM_SOCK" ] || { echo "swtpm did not create $SWTPM_SOCK" >&2; return 1; }
        SWTPM_QEMU_ARGS="-chardev socket,id=chrtpm,path=$SWTPM_SOCK -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0"
        export SWTPM_SOCK SWTPM_PID SWTPM_QEMU_ARGS
}
