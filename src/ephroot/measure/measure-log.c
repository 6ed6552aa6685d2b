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

/* systemd's protocol (src/shared/tpm2-util.c, tpm2_userspace_log_open() and tpm2_userspace_log()): the
 * sticky bit is set before each extend and cleared only once its record is written and synced, so a
 * writer that dies in between leaves the log marked incomplete for every later writer and reader. */
static int log_mark(int fd, bool incomplete) {
        if (fchmod(fd, incomplete ? 0600 | S_ISVTX : 0600) < 0)
                return -errno;
        return 0;
}

static int log_append_synced(int fd, const char *line) {
        int r;

        r = loop_write(fd, line, strlen(line));
        if (r < 0)
                return r;
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

/* Opens and locks the log; ret_marked: its sticky bit was already set (read under the lock). */
static int log_open_locked(const char *log_path, int *ret_fd, bool *ret_marked) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        r = mkdir_parents(log_path, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create the directory of measurement log '%s': %m", log_path);

        fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open measurement log '%s': %m", log_path);

        r = lock_with_deadline(fd, MEASURE_LOG_LOCK_TIMEOUT_USEC);
        if (r < 0)
                return log_error_errno(r, "Failed to lock measurement log '%s': %m", log_path);

        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Failed to stat measurement log '%s': %m", log_path);
        if (!S_ISREG(st.st_mode))
                return log_error_errno(SYNTHETIC_ERRNO(EBADFD), "Failed to use measurement log '%s': not a regular file.",
                                       log_path);
        *ret_marked = st.st_mode & S_ISVTX;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* The log is marked incomplete: a writer set the bit and never cleared it, so a PCR may hold an extend
 * without its record. As systemd does, extend but do not log (appending would make the log look
 * whole); extending can only move the PCRs away from any reference, never towards one, which is what
 * a failure event needs. Then fail: nothing measured here can be replayed. */
static int extend_unlogged(Tpm2Context *tpm, const char *log_path, const MeasureEvent *events, size_t n) {
        int r;

        for (size_t i = 0; i < n; i++) {
                const MeasureEvent *e = events + i;
                Digest digests[_HASH_ALG_MAX];
                size_t nd = 0;

                FOREACH_HASH_ALG(a, e->banks)
                        digests[nd++] = e->digests[a];
                r = tpm2_pcr_extend(tpm, e->pcr, digests, nd);
                if (r < 0)
                        return log_error_errno(r, "Failed to extend PCR %u with the %s event: %m", e->pcr,
                                               measure_event_type_to_string(e->type));
        }
        return log_error_errno(SYNTHETIC_ERRNO(ESTALE),
                               "Measurement log '%s' is marked incomplete (sticky bit set: an earlier writer extended "
                               "a PCR without its record): extended without logging, failing.", log_path);
}

int measure_log_extend(Tpm2Context *tpm, const char *log_path, const MeasureEvent *events, size_t n) {
        _cleanup_free_ char *boot_id = read_boot_id();
        _cleanup_close_ int fd = -EBADF;
        bool marked = false;
        int r;

        assert_return(tpm && log_path && (events || n == 0), -EINVAL);

        r = log_open_locked(log_path, &fd, &marked);
        if (r < 0)
                return r;
        if (marked)
                return extend_unlogged(tpm, log_path, events, n);

        for (size_t i = 0; i < n; i++) {
                const MeasureEvent *e = events + i;
                const char *what = measure_event_type_to_string(e->type);
                _cleanup_free_ char *json = NULL, *line = NULL;
                Digest digests[_HASH_ALG_MAX];
                size_t nd = 0;

                /* Serialise before extending: a record we could not write must not exist as an extend.
                 * The timestamp is CLOCK_BOOTTIME in µs, as systemd's records have it. */
                r = measure_json_record(e, boot_id, now_usec(CLOCK_BOOTTIME), &json);
                if (r < 0)
                        return log_error_errno(r, "Failed to format the log record of the %s event: %m", what);
                if (asprintf(&line, "\x1e%s\n", json) < 0)
                        return log_oom();

                FOREACH_HASH_ALG(a, e->banks)
                        digests[nd++] = e->digests[a];

                r = log_mark(fd, /* incomplete= */ true);
                if (r < 0)
                        return log_error_errno(r, "Failed to mark measurement log '%s' as being written: %m", log_path);

                /* From here on a failure leaves the sticky bit set, as systemd leaves it: a failed extend
                 * may still have reached the TPM (a lost answer), and after it the log may lack a record. */
                r = tpm2_pcr_extend(tpm, e->pcr, digests, nd);
                if (r < 0)
                        return log_error_errno(r, "Failed to extend PCR %u with the %s event (measurement log '%s' "
                                               "left marked incomplete): %m", e->pcr, what, log_path);

                r = log_append_synced(fd, line);
                if (r < 0)
                        return log_error_errno(r, "Failed to append the %s event to measurement log '%s' (left marked "
                                               "incomplete): %m", what, log_path);
                r = log_mark(fd, /* incomplete= */ false);
                if (r >= 0 && fsync(fd) < 0)
                        r = -errno;
                if (r < 0)
                        return log_error_errno(r, "Failed to clear the incomplete mark of measurement log '%s': %m",
                                               log_path);
        }

        return 0;
}
