/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#define JWK_RSA_MAX_BITS 4096 /* TPM, HCL and TEE RSA keys are 2048 to 4096 bits */

#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>

#include "json-util.h"
#include "macro.h"

/* JSON Web Keys (RFC 7517/7518) as the KBS protocol uses them for the TEE key: EC P-256 (and P-384,
 * P-521 for verification keys) and RSA public keys. Neutral: the client builds its TEE key here too.
 * Parsing validates the key (the EC point is on the curve, RSA modulus 2048..4096 bits, odd exponent > 1; no primality test on RSA moduli). */

typedef enum JwkAlg {
        JWK_ALG_ECDH_ES_A256KW,
        JWK_ALG_RSA_OAEP_256,
        _JWK_ALG_MAX,
        _JWK_ALG_INVALID = -EINVAL,
} JwkAlg;

const char *jwk_alg_to_string(JwkAlg a);
int jwk_alg_from_string(const char *s);

/* A TEE public key: {"kty":"EC","crv":"P-256","alg":"ECDH-ES+A256KW","x","y"} or
 * {"kty":"RSA","alg":"RSA-OAEP-256","n","e"}. A missing "alg" takes the key type's default. */
int jwk_parse_tee_key(json_object *jwk, EVP_PKEY **ret_key, JwkAlg *ret_alg);

/* Any public key of type EC (P-256/384/521) or RSA, without an "alg" check (for AK keys in the
 * HCL report and the ECDH epk). */
int jwk_parse_public(json_object *jwk, EVP_PKEY **ret_key);

/* The public JWK of key (EC P-256/384/521 or RSA), with "alg" when alg >= 0. */
int jwk_from_pkey(EVP_PKEY *key, int alg, json_object **ret);

/* An RSA public key from big-endian modulus and exponent. */
int jwk_rsa_from_ne(const uint8_t *n, size_t n_size, const uint8_t *e, size_t e_size, EVP_PKEY **ret);

static inline void EVP_PKEY_freep(EVP_PKEY **p) {
        EVP_PKEY_free(*p);
}
#define _cleanup_pkey_ _cleanup_(EVP_PKEY_freep)
