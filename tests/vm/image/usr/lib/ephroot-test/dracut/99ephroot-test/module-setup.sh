#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# VM test rig only: the crash unit (ephroot-test-crash.service), started with the initrd's other
# units, inert unless ephroot-test.crash is on the kernel command line.
check() {
        return 0
}

depends() {
        echo systemd
}

install() {
        inst_script /usr/lib/ephroot-test/crash
        inst_multiple sleep cat
        inst_simple "$moddir/ephroot-test-crash.service" "$systemdsystemunitdir/ephroot-test-crash.service"
        mkdir -p "$initdir$systemdsystemunitdir/initrd.target.wants"
        ln_r "$systemdsystemunitdir/ephroot-test-crash.service" \
                "$systemdsystemunitdir/initrd.target.wants/ephroot-test-crash.service"
}
