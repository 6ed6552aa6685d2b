/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>

#include "attest-key.h"
#include "json-util.h"
#include "jwk.h"
#include "log.h"
#include "tpm-credential.h"
#include "tpm-public.h"

int attest_key_new(AttestKeyType type, EVP_PKEY **ret_key, json_object **ret_jwk) {
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        _cleanup_json_ json_object *jwk = NULL;
        JwkAlg alg;
        int r;

        assert_return(ret_key && ret_jwk, -EINVAL);

        if (type == ATTEST_KEY_RSA) {
                key = EVP_RSA_gen(3072);
                alg = JWK_ALG_RSA_OAEP_256;
        } else {
                key = EVP_EC_gen("P-256");
                alg = JWK_ALG_ECDH_ES_A256KW;
        }
        if (!key) {
                log_debug("Failed to generate the TEE key: %s", ERR_reason_error_string(ERR_get_error()));
                ERR_clear_error();
                return -EIO;
        }
        r = jwk_from_pkey(key, alg, &jwk);
        if (r < 0)
                return r;

        *ret_key = TAKE_PTR(key);
        *ret_jwk = TAKE_PTR(jwk);
        return 0;
}

int attest_tpm_public_to_spki(const uint8_t *tpm2b_public, size_t size, uint8_t **ret, size_t *ret_size) {
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        unsigned char *der = NULL;
        TpmPublic pub;
        int r, n;

        assert_return(tpm2b_public && ret && ret_size, -EINVAL);

        r = tpm_public_parse(tpm2b_public, size, &pub);
        if (r < 0)
                return r;
        r = tpm_public_to_pkey(&pub, &key);
        if (r < 0)
                return r;
        n = i2d_PUBKEY(key, &der);
        if (n <= 0) {
                ERR_clear_error();
                return -EIO;
        }
        *ret = malloc((size_t) n);
        if (!*ret) {
                OPENSSL_free(der);
                return -ENOMEM;
        }
        memcpy(*ret, der, (size_t) n);
        *ret_size = (size_t) n;
        OPENSSL_free(der);
        return 0;
}
