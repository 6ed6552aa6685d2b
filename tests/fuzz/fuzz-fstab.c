/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes the fstab judge and rewrite: the input is an /etc/fstab from the host's disk. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "measure.h"
#include "root-fstab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        FstabHostMounts m = {};
        char *text, *out = NULL, *s = NULL;

        log_set_max_level(LOG_CRIT);
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';

        if (fstab_host_mounts(text, "/dev/sdb", &m) >= 0) {
                if (measure_host_mounts_string(m.lines, (const char *const *) m.texts, m.n, &s) >= 0)
                        free(s);
                /* Refused exactly when there is a host line. */
                if ((fstab_rewrite(text, "/dev/mapper/ephroot / ext4 defaults 0 0", "/dev/sdb", false, &out, NULL) ==
                     -EPERM) != (m.n > 0))
                        abort();
                free(out);
                out = NULL;
                fstab_host_mounts_done(&m);
        }
        if (fstab_rewrite(text, "overlay / overlay defaults 0 0", "/dev/nvme0n1", true, &out, NULL) >= 0)
                free(out);
        free(text);
        return 0;
}
