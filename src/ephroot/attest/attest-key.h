/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* The client's OpenSSL side: the ephemeral TEE key, held only in this process's (locked) memory and
 * freed with the attestation; and DER encodings of TPM public keys for the evidence. */

/* A fresh TEE key: EC P-256 for ECDH-ES+A256KW, or RSA-3072 for RSA-OAEP-256; *ret_jwk is its public
 * JWK with "alg", as runtime-data carries it. */
int attest_key_new(AttestKeyType type, EVP_PKEY **ret_key, json_object **ret_jwk);

/* The DER SubjectPublicKeyInfo of a marshaled TPM2B_PUBLIC (RSA or ECC). */
int attest_tpm_public_to_spki(const uint8_t *tpm2b_public, size_t size, uint8_t **ret, size_t *ret_size);
