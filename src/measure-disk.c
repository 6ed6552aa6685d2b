/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The disk event's text: one line that says what was formatted and how, in a fixed grammar so that a
 * verifier can parse it and rebuild the digest from the log record alone (docs/measurements.md).
 * Pure: no I/O. */

#define _GNU_SOURCE
#include <stdio.h>

#include "measure.h"

static bool is_plain(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._:,/+@-", c);
}

/* Appends " key=value" to f with the value escaped: NULL is "-", "-" itself is "%2D", any byte that is
 * not plain (space, '=', '%', control, non-ASCII, ...) is %XX in upper-case hex. */
static void put_field(FILE *f, const char *key, const char *value) {
        fprintf(f, " %s=", key);
        if (!value) {
                fputc('-', f);
                return;
        }
        if (streq(value, "-")) {
                fputs("%2D", f);
                return;
        }
        for (const char *p = value; *p; p++)
                if (is_plain(*p))
                        fputc(*p, f);
                else
                        fprintf(f, "%%%02X", (unsigned) (unsigned char) *p);
}

int measure_disk_string(const MeasureDisk *d, char **ret) {
        char *buf = NULL, num[32];
        size_t size = 0;
        FILE *f;

        assert_return(d && ret, -EINVAL);

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        fputs(MEASURE_DISK_PREFIX, f);
        put_field(f, "identity", d->identity);
        put_field(f, "role", d->role);
        put_field(f, "class", d->classification);
        put_field(f, "uuid", d->uuid);
        put_field(f, "cipher", d->cipher);
        (void) snprintf(num, sizeof(num), "%u", d->key_bits);
        put_field(f, "key-bits", num);
        (void) snprintf(num, sizeof(num), "%u", d->sector_size);
        put_field(f, "sector-size", num);
        put_field(f, "integrity", d->integrity);
        put_field(f, "flags", d->flags);
        put_field(f, "forced", d->forced ? "yes" : "no");

        if (fclose(f) != 0 || !buf) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}
