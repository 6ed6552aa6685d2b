/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "jwk.h"

/* JWE (RFC 7516) in the flattened JSON serialization the KBS protocol uses for resources:
 * {"protected","encrypted_key","iv","ciphertext","tag"}, all base64url without padding, the AAD being
 * the ASCII of "protected". Key management ECDH-ES+A256KW (P-256, Concat KDF SHA-256, AES key wrap)
 * or RSA-OAEP-256; content A256GCM. Neutral: the server encrypts, the client decrypts. */

/* Encrypts plaintext to the public key; alg must match the key type. *ret is a JSON string. */
int jwe_encrypt(EVP_PKEY *key, JwkAlg alg, const void *plaintext, size_t size, char **ret);

/* Decrypts a flattened JWE with the private key. Refuses any header other than the two above, a
 * ciphertext over max_size, and any authentication failure (-EBADMSG). The plaintext is malloc'd;
 * wipe it before freeing. */
int jwe_decrypt(EVP_PKEY *key, const char *jwe, size_t jwe_size, size_t max_size, uint8_t **ret,
                size_t *ret_size);
