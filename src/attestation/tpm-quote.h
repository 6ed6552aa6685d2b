/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <openssl/evp.h>
#include <stdbool.h>

#include "tpm-attest.h"

#define TPM_PCRS 24

/* Checks of a parsed quote, with OpenSSL. Neutral (the client checks its own quote in tests). */

/* The signature over the raw TPMS_ATTEST bytes with the AK public key (RSA or EC); -EBADMSG when it
 * does not verify, -EOPNOTSUPP for a scheme that does not fit the key. */
/* The OpenSSL digest of a TPM_ALG_ID (sha1, sha256, sha384, sha512), else NULL. */
const EVP_MD *tpm_alg_md(uint16_t alg);

int tpm_quote_verify_signature(EVP_PKEY *ak, const uint8_t *msg, size_t msg_size, const TpmSignature *sig);

/* extraData == expected (same length, same bytes). */
bool tpm_quote_nonce_matches(const TpmQuoteInfo *q, const uint8_t *expected, size_t expected_size);

/* pcrDigest == H(the selected sha256 PCRs in selection order), H = hash (a TPM_ALG_ID). Only the
 * sha256 bank can be checked against 24 sha256 values; any other selected bank is -EOPNOTSUPP.
 * ret_mask gets the selected PCRs. */
int tpm_quote_check_pcrs(const TpmQuoteInfo *q, uint16_t hash, const uint8_t pcrs[TPM_PCRS][32], uint32_t *ret_mask);
