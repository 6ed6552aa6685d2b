/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* measure_log_extend() against a fake TPM (-Wl,--wrap=tpm2_pcr_extend) and a write that can be made to
 * fail (-Wl,--wrap=loop_write): the log protocol as systemd's src/shared/tpm2-util.c (commit
 * 506ea38996fcd6a8fd0659d11720b33b4bdcd8fc, tpm2_userspace_log_open() and tpm2_userspace_log()) has it:
 * content.timestamp in CLOCK_BOOTTIME µs; into a log whose sticky bit is set nothing is logged (the
 * events are extended, as systemd does, and the call fails); the bit is set
 * during each extend and cleared after the record is written and synced; a crash between extend and
 * write (a child that exits inside the extend) leaves it set, and the next writer logs nothing. */

#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "measure-log.h"
#include "measure.h"
#include "util.h"

int __wrap_tpm2_pcr_extend(Tpm2Context *c, unsigned pcr, const Digest *digests, size_t n_digests);
int __real_loop_write(int fd, const void *buf, size_t n);
int __wrap_loop_write(int fd, const void *buf, size_t n);

static char log_path[256];
static unsigned extend_calls, extends_with_sticky;
static int extend_result;      /* < 0: the fake TPM fails the extend */
static bool crash_in_extend;   /* the process exits inside the extend, after the TPM took it */
static int write_result;       /* < 0: the record's write fails */

int __wrap_tpm2_pcr_extend(Tpm2Context *c, unsigned pcr, const Digest *digests, size_t n_digests) {
        struct stat st;

        (void) c;
        (void) pcr;
        (void) digests;
        (void) n_digests;
        extend_calls++;
        if (stat(log_path, &st) == 0 && (st.st_mode & S_ISVTX))
                extends_with_sticky++;
        if (crash_in_extend)
                _exit(0); /* as if the machine stopped right after the TPM's answer */
        return extend_result;
}

int __wrap_loop_write(int fd, const void *buf, size_t n) {
        if (write_result < 0)
                return write_result;
        return __real_loop_write(fd, buf, n);
}

static Tpm2Context *const fake_tpm = (Tpm2Context *) 0x1;

static void setup_log(void) {
        char dir[] = "/tmp/test-measure-log.XXXXXX";

        assert_non_null(mkdtemp(dir));
        (void) snprintf(log_path, sizeof(log_path), "%s/sub/tpm2-measure.log", dir);
        extend_calls = extends_with_sticky = 0;
        extend_result = 0;
        crash_in_extend = false;
        write_result = 0;
}

static void teardown_log(void) {
        char *slash;

        (void) unlink(log_path);
        slash = strrchr(log_path, '/');
        *slash = '\0';
        (void) rmdir(log_path);
        slash = strrchr(log_path, '/');
        *slash = '\0';
        (void) rmdir(log_path);
}

static void make_events(MeasureEvent e[2]) {
        assert_int_equal(measure_event_build_string(MEASURE_EVENT_CMDLINE, 12, HASH_BIT(HASH_SHA256), "quiet", e + 0), 0);
        assert_int_equal(measure_event_build_string(MEASURE_EVENT_LEAVE_INITRD, 11, HASH_BIT(HASH_SHA256), "leave-initrd",
                                                    e + 1),
                         0);
}

static mode_t log_mode(void) {
        struct stat st;

        assert_int_equal(stat(log_path, &st), 0);
        return st.st_mode & 07777;
}

static size_t log_records(uint64_t *timestamps, size_t max) {
        _cleanup_free_ char *text = NULL;
        size_t n = 0, size = 0;
        FILE *f = fopen(log_path, "re");

        assert_non_null(f);
        ssize_t got = getdelim(&text, &size, '\0', f);
        assert_int_equal(got >= 0 || feof(f), 1);
        if (got < 0 && text)
                text[0] = '\0'; /* an empty log: getdelim() leaves the buffer unwritten */
        fclose(f);
        for (char *p = text ? strchr(text, '\x1e') : NULL; p; p = strchr(p + 1, '\x1e')) {
                json_object *rec, *content, *ts;
                char *end = strchr(p, '\n');

                assert_non_null(end);
                *end = '\0';
                rec = json_tokener_parse(p + 1);
                assert_non_null(rec);
                assert_true(json_object_object_get_ex(rec, "content", &content));
                assert_true(json_object_object_get_ex(content, "timestamp", &ts));
                if (n < max)
                        timestamps[n] = (uint64_t) json_object_get_int64(ts);
                json_object_put(rec);
                n++;
                *end = '\n';
                p = end;
        }
        return n;
}

static uint64_t boottime_usec(void) {
        struct timespec ts;

        assert_int_equal(clock_gettime(CLOCK_BOOTTIME, &ts), 0);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* Every extend happens with the bit set; afterwards the bit is clear and both records are there. */
static void test_sticky_during_extend(void **state) {
        MeasureEvent e[2];

        setup_log();
        make_events(e);
        assert_int_equal(measure_log_extend(fake_tpm, log_path, e, 2), 0);
        assert_int_equal(extend_calls, 2);
        assert_int_equal(extends_with_sticky, 2);
        assert_int_equal(log_mode(), 0600);
        assert_int_equal(log_records(NULL, 0), 2);
        measure_event_done(e + 0);
        measure_event_done(e + 1);
        teardown_log();
        (void) state;
}

/* The timestamps are CLOCK_BOOTTIME: between two readings of that clock taken around the call. */
static void test_timestamp_boottime(void **state) {
        MeasureEvent e[2];
        uint64_t t0, t1, ts[2];

        setup_log();
        make_events(e);
        t0 = boottime_usec();
        assert_int_equal(measure_log_extend(fake_tpm, log_path, e, 2), 0);
        t1 = boottime_usec();
        assert_int_equal(log_records(ts, 2), 2);
        for (size_t i = 0; i < 2; i++) {
                assert_true(ts[i] >= t0);
                assert_true(ts[i] <= t1);
        }
        assert_true(ts[0] <= ts[1]);
        measure_event_done(e + 0);
        measure_event_done(e + 1);
        teardown_log();
        (void) state;
}

/* A log already marked incomplete gets no record and stays marked; the event is still extended (as
 * systemd extends it: a PCR moved away from its reference is what a failure needs) and the call fails. */
static void test_marked_log_not_logged(void **state) {
        MeasureEvent e[2];

        setup_log();
        make_events(e);
        assert_int_equal(measure_log_extend(fake_tpm, log_path, e, 1), 0);
        assert_int_equal(chmod(log_path, 0600 | S_ISVTX), 0);
        extend_calls = 0;
        assert_int_equal(measure_log_extend(fake_tpm, log_path, e + 1, 1), -ESTALE);
        assert_int_equal(extend_calls, 1);
        assert_int_equal(log_records(NULL, 0), 1);
        assert_int_equal(log_mode(), 0600 | S_ISVTX);
        measure_event_done(e + 0);
        measure_event_done(e + 1);
        teardown_log();
        (void) state;
}

/* The process dies between the extend and the write: the bit stays set, no record; the next writer
 * logs nothing and fails. */
static void test_crash_between_extend_and_write(void **state) {
        MeasureEvent e[2];
        int status;
        pid_t pid;

        setup_log();
        make_events(e);
        assert_int_equal(measure_log_extend(fake_tpm, log_path, e, 1), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                crash_in_extend = true;
                (void) measure_log_extend(fake_tpm, log_path, e + 1, 1);
                _exit(3); /* not reached: the extend exits */
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(log_mode(), 0600 | S_ISVTX);
        assert_int_equal(log_records(NULL, 0), 1);
        extend_calls = 0;
        assert_int_equal(measure_log_extend(fake_tpm, log_path, e, 2), -ESTALE);
        assert_int_equal(extend_calls, 2);
        assert_int_equal(log_records(NULL, 0), 1);
        assert_int_equal(log_mode(), 0600 | S_ISVTX);
        measure_event_done(e + 0);
        measure_event_done(e + 1);
        teardown_log();
        (void) state;
}

/* The record cannot be written after the extend, or the extend itself fails (its answer may have been
 * lost after the TPM took it): the log stays marked, as systemd leaves it. */
static void test_failures_leave_mark(void **state) {
        MeasureEvent e[2];

        setup_log();
        make_events(e);
        write_result = -ENOSPC;
        assert_int_equal(measure_log_extend(fake_tpm, log_path, e, 2), -ENOSPC);
        assert_int_equal(extend_calls, 1);
        assert_int_equal(log_mode(), 0600 | S_ISVTX);
        teardown_log();

        setup_log();
        extend_result = -EIO;
        assert_int_equal(measure_log_extend(fake_tpm, log_path, e, 2), -EIO);
        assert_int_equal(extend_calls, 1);
        assert_int_equal(log_mode(), 0600 | S_ISVTX);
        assert_int_equal(log_records(NULL, 0), 0);
        measure_event_done(e + 0);
        measure_event_done(e + 1);
        teardown_log();
        (void) state;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sticky_during_extend),
                cmocka_unit_test(test_timestamp_boottime),
                cmocka_unit_test(test_marked_log_not_logged),
                cmocka_unit_test(test_crash_between_extend_and_write),
                cmocka_unit_test(test_failures_leave_mark),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
