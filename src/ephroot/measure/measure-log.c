/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "measure-json.h"
#include "measure-log.h"
#include "util.h"

#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

static int mkdir_parents(const char *path, mode_t mode) {
        _cleanup_free_ char *copy = strdup(path);
        char *p;

        if (!copy)
                return -ENOMEM;
        p = copy;
        while ((p = strchr(p + 1, '/'))) {
                *p = '\0';
                if (mkdir(copy, mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        return 0;
}

static int lock_with_deadline(int fd, uint64_t timeout_usec) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;

        for (;;) {
                if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                        return 0;
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return -errno;
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        return -ETIMEDOUT;
                (void) usleep(10 * 1000);
        }
}

/* systemd writes the boot ID without dashes; so do we, so both kinds of records look alike. */
static char *read_boot_id(void) {
        _cleanup_free_ char *s = NULL;
        char *d, *q;

        if (read_one_line_file(BOOT_ID_PATH, 64, &s) < 0)
                return NULL;
        for (d = q = s; *q; q++)
                if (*q != '-')
                        *d++ = *q;
        *d = '\0';
        return TAKE_PTR(s);
}

int measure_log_extend(Tpm2Context *tpm, const char *log_path, const MeasureEvent *events, size_t n) {
        _cleanup_free_ char *boot_id = read_boot_id();
        _cleanup_close_ int fd = -EBADF;
        int r;

        assert_return(tpm && log_path && (events || n == 0), -EINVAL);

        r = mkdir_parents(log_path, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create the directory of measurement log '%s': %m", log_path);

        fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open measurement log '%s': %m", log_path);

        r = lock_with_deadline(fd, MEASURE_LOG_LOCK_TIMEOUT_USEC);
        if (r < 0)
                return log_error_errno(r, "Failed to lock measurement log '%s': %m", log_path);

        for (size_t i = 0; i < n; i++) {
                const MeasureEvent *e = events + i;
                const char *what = measure_event_type_to_string(e->type);
                _cleanup_free_ char *json = NULL, *line = NULL;
                Digest digests[_HASH_ALG_MAX];
                size_t nd = 0;

                /* Serialise before extending: a record we could not write must not exist as an extend. */
                r = measure_json_record(e, boot_id, now_usec(CLOCK_REALTIME), &json);
                if (r < 0)
                        return log_error_errno(r, "Failed to format the log record of the %s event: %m", what);
                if (asprintf(&line, "\x1e%s\n", json) < 0)
                        return log_oom();

                FOREACH_HASH_ALG(a, e->banks)
                        digests[nd++] = e->digests[a];

                r = tpm2_pcr_extend(tpm, e->pcr, digests, nd);
                if (r < 0)
                        return log_error_errno(r, "Failed to extend PCR %u with the %s event: %m", e->pcr, what);

                r = loop_write(fd, line, strlen(line));
                if (r < 0) {
                        /* The TPM has the extend but the log does not: mark the log incomplete, as systemd
                         * does, so a verifier does not trust a replay of it. */
                        (void) fchmod(fd, 0600 | S_ISVTX);
                        return log_error_errno(r, "Failed to append the %s event to measurement log '%s': %m", what,
                                               log_path);
                }
        }

        return 0;
}
