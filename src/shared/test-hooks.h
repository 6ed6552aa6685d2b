/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secret.h"

/* The seams of the test build (docs/testing.md). ephroot-test is linked from the modules that call
 * these compiled a second time with EPHROOT_TEST_HOOKS, and from src/ephroot/test-hooks/test-hooks.c,
 * which implements them, each driven by an environment variable read with secure_getenv(). Without
 * EPHROOT_TEST_HOOKS (the ephroot binary, the unit tests, the fuzzers) every hook compiles to nothing:
 * no code, no symbol, not even the name of a hook or of its variable reaches the ephroot binary. Call
 * sites need no #ifdef. */

#ifdef EPHROOT_TEST_HOOKS

/* $EPHROOT_TEST_KEY_FILE: the volume key, as hex, written to that file, for the tests that check the
 * volume-key HMAC and look for the key on disk. */
void test_hook_volume_key(const Secret *key);

/* $EPHROOT_TEST_AFTER_MARK: a shell command run between writing the LUKS2 mark and activation, with
 * $EPHROOT_DEVICE and $EPHROOT_HEADER set, so that a test can play the host and rewrite the disk.
 * Logs its failure; < 0 when the command could not run or did not exit with 0. */
int test_hook_after_mark(const char *device, const char *header_path);

/* $EPHROOT_TEST_ATTEST=nonce: the nonce (base64 text, as it came) changed in place, so that the client
 * binds and sends another nonce than the session's. */
void test_hook_attest_nonce(char *nonce);

/* $EPHROOT_TEST_EVIDENCE_OUT=FILE: the evidence as sent to FILE and the report data (hex) to
 * FILE.report-data, for independent checkers (tpm2_checkquote). */
void test_hook_evidence_out(const char *evidence, const uint8_t *report_data, size_t report_data_size);

/* $EPHROOT_TEST_ATTEST=quote: one bit of the TPM quote's message in *evidence flipped. */
void test_hook_attest_quote(char **evidence);

/* $EPHROOT_TEST_ATTEST=delay=N: N seconds of sleep between the evidence and the attest request. */
void test_hook_attest_delay(void);

/* $EPHROOT_TEST_ATTEST=replay: true when the attest request is to be sent twice in one session. */
bool test_hook_attest_replay(void);

#else

/* The release build: each hook is a macro that expands to nothing (its arguments are not evaluated).
 * Not static inline functions: those leave their names in the debug information, and at -O0 their
 * code and symbols. The test build compiles the same call sites against the prototypes above, so
 * they are type-checked all the same. */
#define test_hook_volume_key(key) ((void) 0)
#define test_hook_after_mark(device, header_path) 0
#define test_hook_attest_nonce(nonce) ((void) 0)
#define test_hook_evidence_out(evidence, report_data, report_data_size) ((void) 0)
#define test_hook_attest_quote(evidence) ((void) 0)
#define test_hook_attest_delay() ((void) 0)
#define test_hook_attest_replay() false

#endif
