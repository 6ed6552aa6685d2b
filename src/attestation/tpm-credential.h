/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <openssl/evp.h>

#include "tpm-public.h"

/* TPM keys in OpenSSL, and TPM2_MakeCredential in software (TPM 2.0 Part 1, 24.4-24.5): a secret
 * only the TPM holding the EK can recover with ActivateCredential, and only for the object whose Name
 * is given (the AK). Neutral. */

/* An RSA or ECC (P-256/P-384) public key from a parsed TPMT_PUBLIC. */
int tpm_public_to_pkey(const TpmPublic *pub, EVP_PKEY **ret);

/* MakeCredential(ek, name, secret): *ret_id_object is a marshaled TPM2B_ID_OBJECT, *ret_secret a
 * marshaled TPM2B_ENCRYPTED_SECRET. Only RSA EKs with AES-CFB symmetric parameters (the TCG default
 * EK template) are supported. */
int tpm_make_credential(const TpmPublic *ek, const uint8_t *name, size_t name_size, const uint8_t *secret,
                        size_t secret_size, uint8_t **ret_id_object, size_t *ret_id_object_size,
                        uint8_t **ret_secret, size_t *ret_secret_size);
