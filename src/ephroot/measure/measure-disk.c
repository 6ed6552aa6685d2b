/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The disk event's text: one line that says what was formatted and how, in a fixed grammar so that a
 * verifier can parse it and rebuild the digest from the log record alone (docs/measurements.md); and
 * the volume's two events built from it. Pure: no I/O. */

#define _GNU_SOURCE
#include <stdio.h>

#include "log.h"
#include "luks.h"
#include "measure.h"
#include "util.h"

static bool is_plain(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._:,/+@-", c);
}

/* Appends " key=value" to f with the value escaped: NULL is "-", "-" itself is "%2D", any byte that is
 * not plain (space, '=', '%', control, non-ASCII, ...) is %XX in upper-case hex. */
static void put_value(FILE *f, const char *value) {
        for (const char *p = value; *p; p++)
                if (is_plain(*p))
                        fputc(*p, f);
                else
                        fprintf(f, "%%%02X", (unsigned) (unsigned char) *p);
}

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
        put_value(f, value);
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

int measure_host_mounts_string(const unsigned *lines, const char *const *texts, size_t n, char **ret) {
        char *buf = NULL, num[32];
        size_t size = 0;
        FILE *f;

        assert_return((lines && texts) || n == 0, -EINVAL);
        assert_return(ret, -EINVAL);

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        fputs(MEASURE_HOST_MOUNTS_PREFIX, f);
        put_field(f, "action", "comment");
        (void) snprintf(num, sizeof(num), "%zu", n);
        put_field(f, "count", num);
        for (size_t i = 0; i < n; i++) {
                /* "<number>:" is plain; the line is escaped like any value. */
                fprintf(f, " line=%u:", lines[i]);
                put_value(f, texts[i]);
        }

        if (fclose(f) != 0 || !buf) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

int measure_volume_key_string(const char *dm_name, const char *uuid, char **ret) {
        static const char hex[] = "0123456789abcdef";
        _cleanup_free_ char *s = NULL;
        size_t n = 0;

        assert_return(dm_name && uuid && ret, -EINVAL);

        /* systemd's xescape(name, ":"): a control byte, a byte >= 0x7f, '\\' and ':' become \xHH in
         * lower-case hex, everything else stays as it is. */
        s = malloc(strlen("cryptsetup:") + 4 * strlen(dm_name) + 1 + strlen(uuid) + 1);
        if (!s)
                return -ENOMEM;
        n = stpcpy(s, "cryptsetup:") - s;
        for (const unsigned char *p = (const unsigned char *) dm_name; *p; p++) {
                if (*p < ' ' || *p >= 127 || *p == '\\' || *p == ':') {
                        s[n++] = '\\';
                        s[n++] = 'x';
                        s[n++] = hex[*p >> 4];
                        s[n++] = hex[*p & 15];
                } else
                        s[n++] = (char) *p;
        }
        s[n++] = ':';
        strcpy(s + n, uuid);
        *ret = TAKE_PTR(s);
        return 0;
}

int measure_volume_events_build(const MeasureDisk *target, const LuksVolume *v, const char *dm_name,
                                const Secret *key, unsigned pcr, unsigned banks, MeasureEvent *ret) {
        _cleanup_free_ char *flags = NULL, *disk = NULL, *vk = NULL;
        _cleanup_(secret_freep) Secret *volume_key = NULL;
        MeasureEvent e[2] = {};
        MeasureDisk d;
        int r;

        assert_return(target && v && dm_name && key && ret, -EINVAL);
        assert_return(v->uuid && v->cipher, -EINVAL);

        r = luks_activate_flags_to_string(v->activate_flags, &flags);
        if (r < 0)
                return log_error_errno(r, "Failed to describe the activation flags of '%s': %m", strempty(v->device));

        d = *target;
        d.uuid = v->uuid;
        d.cipher = v->cipher;
        d.key_bits = v->key_bits;
        d.sector_size = v->sector_size;
        d.integrity = luks_integrity_to_string(v->integrity);
        d.flags = flags;
        r = measure_disk_string(&d, &disk);
        if (r < 0)
                return log_oom();
        if (measure_volume_key_string(dm_name, v->uuid, &vk) < 0)
                return log_oom();
        /* Keyed, as systemd-cryptsetup keys it, by the whole volume key libcryptsetup holds (96 bytes with
         * integrity), not by the 64-byte cipher key alone. */
        r = luks_volume_key(key, v->integrity, &volume_key);
        if (r < 0)
                return log_error_errno(r, "Failed to prepare the volume key of '%s' for its measurement: %m",
                                       strempty(v->device));

        r = measure_event_build_string(MEASURE_EVENT_DISK, pcr, banks, disk, e + 0);
        if (r < 0)
                return r;
        r = measure_event_build_hmac(MEASURE_EVENT_VOLUME_KEY, pcr, banks, vk, volume_key, e + 1);
        if (r < 0) {
                measure_event_done(e + 0);
                return r;
        }
        ret[0] = e[0];
        ret[1] = e[1];
        return 0;
}

int measure_verity_string(const uint8_t *root_hash, const char *error_mode, char **ret) {
        _cleanup_free_ char *hex = NULL;

        assert_return(root_hash && error_mode && ret, -EINVAL);

        hex = hexmem(root_hash, 32);
        if (!hex)
                return -ENOMEM;
        return asprintf(ret, MEASURE_VERITY_PREFIX " root-hash=%s error=%s", hex, error_mode) < 0 ? -ENOMEM : 0;
}
