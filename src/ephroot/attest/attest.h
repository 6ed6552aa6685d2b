/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "config.h"
#include "tpm2.h"

/* The attestation client (docs/attestation.md): RCAR 0.4.0 against the configured broker (auth,
 * attest, one resource per secret.<name>), evidence from the configured provider (evidence.h), the
 * resources decrypted with an ephemeral TEE key and written to secrets_dir, which must be on tmpfs. */

#define ATTEST_SECRETS_DIR "/run/ephroot/secrets"

typedef struct AttestResult {
        unsigned n_secrets;        /* written */
        uint64_t usec;             /* auth to the last resource */
        uint64_t evidence_usec;    /* of which: making the evidence (TPM) */
        unsigned http_attempts;    /* requests sent, retries included */
} AttestResult;

/* Runs the whole exchange. Logs every failure once ("Failed to ... '<url>': <the server's reason>").
 * Nothing is written unless every secret was fetched and decrypted, and a write that fails midway
 * removes what was written. *ret is filled on failure too: the time and the requests it took. */
int attest_run(const Config *c, Tpm2Context *tpm, const char *secrets_dir, AttestResult *ret);

/* The checks attest_run() makes of the configuration before any request (kbs-url set, a provider for
 * attest-tee). */
int attest_check_config(const Config *c);
