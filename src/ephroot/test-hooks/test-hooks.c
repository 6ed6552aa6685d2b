/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The test build's hooks (test-hooks.h): linked into ephroot-test only, never into ephroot. Each is
 * inert unless its environment variable is set. */

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attest-proto.h"
#include "b64.h"
#include "json-util.h"
#include "jwk.h"
#include "log.h"
#include "test-hooks.h"
#include "util.h"

#ifndef EPHROOT_TEST_HOOKS
#error "test-hooks.c is for the test build only"
#endif

void test_hook_volume_key(const Secret *key) {
        _cleanup_free_ char *hex = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *path = secure_getenv("EPHROOT_TEST_KEY_FILE");

        if (!path)
                return;
        hex = hexmem(key->data, key->size);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (!hex || fd < 0 || loop_write(fd, hex, strlen(hex)) < 0)
                log_error("TEST BUILD: failed to write the key to '%s'.", path);
        else
                log_warning("TEST BUILD: wrote the volume key to '%s'.", path);
        if (hex)
                explicit_bzero(hex, strlen(hex));
}

static int run_after_mark(const char *cmd, const char *device, const char *header_path) {
        int status;
        pid_t pid;

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                (void) setenv("EPHROOT_DEVICE", device, 1);
                (void) setenv("EPHROOT_HEADER", header_path, 1);
                execl("/bin/sh", "sh", "-c", cmd, (char *) NULL);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

int test_hook_after_mark(const char *device, const char *header_path) {
        const char *cmd = secure_getenv("EPHROOT_TEST_AFTER_MARK");
        int r;

        if (!cmd)
                return 0;
        log_warning("TEST BUILD: running the after-mark hook on '%s'.", device);
        r = run_after_mark(cmd, device, header_path);
        if (r < 0)
                return log_error_errno(r, "TEST BUILD: the after-mark hook failed on '%s': %m", device);
        return 0;
}

/* $EPHROOT_TEST_ATTEST=<name>[=<value>]: the value ("" without one), or NULL when the fault named is
 * not the one asked for. */
static const char *attest_fault(const char *name) {
        const char *v = secure_getenv("EPHROOT_TEST_ATTEST");
        size_t l = strlen(name);

        if (!v || strncmp(v, name, l) != 0 || (v[l] != '\0' && v[l] != '='))
                return NULL;
        return v[l] == '=' ? v + l + 1 : v + l;
}

void test_hook_attest_nonce(char *nonce) {
        if (attest_fault("nonce"))
                nonce[0] = nonce[0] == 'A' ? 'B' : 'A';
}

static void write_file(const char *path, const char *text) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd >= 0)
                (void) loop_write(fd, text, strlen(text));
}

void test_hook_evidence_out(const char *evidence, const uint8_t *report_data, size_t report_data_size) {
        const char *out = secure_getenv("EPHROOT_TEST_EVIDENCE_OUT");
        _cleanup_free_ char *rd = NULL, *path = NULL;

        if (!out)
                return;
        write_file(out, evidence);
        rd = hexmem(report_data, report_data_size);
        if (rd && asprintf(&path, "%s.report-data", out) >= 0)
                write_file(path, rd);
}

static int tamper_quote(char **evidence) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_free_ uint8_t *msg = NULL;
        _cleanup_free_ char *s = NULL;
        json_object *q, *m;
        size_t n;

        if (attest_proto_parse_json(*evidence, strlen(*evidence), &o) < 0 ||
            !json_object_object_get_ex(o, "tpm_quote", &q) || !json_object_object_get_ex(q, "message", &m) ||
            b64_decode(json_object_get_string(m), (size_t) json_object_get_string_len(m), B64_PAD_OPTIONAL, &msg, &n) < 0 ||
            n < 40)
                return -EINVAL;
        msg[n - 40] ^= 0x01; /* inside the PCR selection/digest region, past the header */
        if (json_add_b64(q, "message", msg, n, B64_PAD) < 0 ||
            json_to_string(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &s) < 0)
                return -ENOMEM;
        free(*evidence);
        *evidence = TAKE_PTR(s);
        return 0;
}

void test_hook_attest_quote(char **evidence) {
        if (attest_fault("quote") && tamper_quote(evidence) < 0)
                log_warning("EPHROOT_TEST_ATTEST=quote: the evidence has no quote to tamper with.");
}

void test_hook_attest_delay(void) {
        const char *v = attest_fault("delay");
        unsigned n;

        if (v && safe_atou(v, &n) >= 0)
                (void) nanosleep(&(struct timespec) { .tv_sec = n }, NULL);
}

bool test_hook_attest_replay(void) {
        return attest_fault("replay");
}
