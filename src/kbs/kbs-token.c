/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "json-util.h"
#include "kbs-token.h"
#include "util.h"

int kbs_token_key_new(EVP_PKEY **ret) {
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

        if (!k) {
                ERR_clear_error();
                return -EIO;
        }
        *ret = k;
        return 0;
}

static int sign_es256(EVP_PKEY *key, const char *input, uint8_t out[64]) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned char der[80];
        const unsigned char *p = der;
        size_t der_size = sizeof(der);
        ECDSA_SIG *sig = NULL;
        int r = -EIO;

        if (!ctx)
                return -ENOMEM;
        if (EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL, key, NULL) == 1 &&
            EVP_DigestSign(ctx, der, &der_size, (const unsigned char *) input, strlen(input)) == 1 &&
            (sig = d2i_ECDSA_SIG(NULL, &p, (long) der_size)) &&
            BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, 32) == 32 && BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + 32, 32) == 32)
                r = 0;
        ECDSA_SIG_free(sig);
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        return r;
}

int kbs_token_issue(EVP_PKEY *signer, const KbsClaims *claims, const KbsPolicySet *policies, uint64_t mask,
                    json_object *tee_pubkey, unsigned lifetime_sec, char **ret) {
        _cleanup_json_ json_object *body = json_object_new_object(), *names = json_object_new_array(),
                                   *warnings = json_object_new_array();
        _cleanup_free_ char *h64 = NULL, *b64 = NULL, *s64 = NULL, *input = NULL;
        static const char header[] = "{\"alg\":\"ES256\",\"typ\":\"JWT\"}";
        time_t now = time(NULL);
        uint8_t sig[64];
        const char *s;
        int r;

        if (!body || !names || !warnings)
                return -ENOMEM;
        for (size_t i = 0; i < policies->n; i++)
                if (mask & (UINT64_C(1) << i)) {
                        r = json_append(names, json_object_new_string(policies->policies[i].name));
                        if (r < 0)
                                return r;
                }
        if (claims->td_quote_unverified) {
                r = json_append(warnings, json_object_new_string("td-quote-signature-unverified"));
                if (r < 0)
                        return r;
        }
        if (claims->td_tcb_unevaluated) {
                r = json_append(warnings, json_object_new_string("td-quote-tcb-status-unevaluated"));
                if (r < 0)
                        return r;
        }
        if (json_add_string(body, "iss", "ephroot-kbs") < 0 ||
            json_add_int(body, "iat", now) < 0 ||
            json_add_int(body, "exp", now + lifetime_sec) < 0 ||
            json_add_string(body, "tee", kbs_tee_to_string(claims->tee)) < 0 ||
            json_add(body, "policies", TAKE_PTR(names)) < 0 ||
            json_add(body, "warnings", TAKE_PTR(warnings)) < 0 ||
            json_add(body, "tee-pubkey", json_object_get(tee_pubkey)) < 0)
                return -ENOMEM;
        s = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        h64 = b64url_encode(header, sizeof(header) - 1);
        b64 = s ? b64url_encode(s, strlen(s)) : NULL;
        if (!h64 || !b64 || asprintf(&input, "%s.%s", h64, b64) < 0)
                return -ENOMEM;
        r = sign_es256(signer, input, sig);
        if (r < 0)
                return r;
        s64 = b64url_encode(sig, sizeof(sig));
        if (!s64 || asprintf(ret, "%s.%s", input, s64) < 0)
                return -ENOMEM;
        return 0;
}

int kbs_token_key_load(const char *path, EVP_PKEY **ret) {
        _cleanup_free_ char *pem = NULL;
        EVP_PKEY *k = NULL;
        size_t size;
        BIO *bio;
        int r;

        r = read_full_file_bounded(path, 16 * 1024, &pem, &size);
        if (r < 0)
                return r;
        bio = BIO_new_mem_buf(pem, (int) size);
        if (bio)
                k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        BIO_free(bio);
        OPENSSL_cleanse(pem, size);
        ERR_clear_error();
        if (!k)
                return -EBADMSG;
        if (!EVP_PKEY_is_a(k, "EC") || EVP_PKEY_get_bits(k) != 256) {
                EVP_PKEY_free(k);
                return -EOPNOTSUPP;
        }
        *ret = k;
        return 0;
}

static int verify_es256(EVP_PKEY *key, const char *input, size_t input_size, const uint8_t sig[64]) {
        BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
        ECDSA_SIG *es = ECDSA_SIG_new();
        unsigned char *der = NULL;
        EVP_MD_CTX *ctx = NULL;
        int n, ret = -EBADMSG;

        if (!r || !s || !es || ECDSA_SIG_set0(es, r, s) != 1) {
                BN_free(r);
                BN_free(s);
                ret = -ENOMEM;
                goto finish;
        }
        n = i2d_ECDSA_SIG(es, &der);
        ctx = EVP_MD_CTX_new();
        if (n > 0 && ctx && EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, key, NULL) == 1 &&
            EVP_DigestVerify(ctx, der, (size_t) n, (const unsigned char *) input, input_size) == 1)
                ret = 0;
finish:
        ECDSA_SIG_free(es);
        OPENSSL_free(der);
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        return ret;
}

int kbs_token_verify(EVP_PKEY *key, const char *token, time_t now, json_object **ret_payload, const char **ret_reason) {
        static const char header[] = "{\"alg\":\"ES256\",\"typ\":\"JWT\"}";
        _cleanup_free_ uint8_t *h = NULL, *b = NULL, *sig = NULL;
        _cleanup_json_ json_object *payload = NULL;
        const char *dot1, *dot2;
        size_t hn, bn, sn, len;
        json_object *e;
        int64_t exp;

        assert_return(key && token && ret_payload && ret_reason, -EINVAL);
        len = strlen(token);
        dot1 = strchr(token, '.');
        dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
        if (len > KBS_TOKEN_MAX || !dot1 || !dot2 || strchr(dot2 + 1, '.') ||
            b64_decode(token, (size_t) (dot1 - token), B64_URL, &h, &hn) < 0 ||
            b64_decode(dot1 + 1, (size_t) (dot2 - dot1 - 1), B64_URL, &b, &bn) < 0 ||
            b64_decode(dot2 + 1, strlen(dot2 + 1), B64_URL, &sig, &sn) < 0) {
                *ret_reason = "attestation token is not a JWT";
                return -EBADMSG;
        }
        if (hn != sizeof(header) - 1 || memcmp(h, header, hn) != 0 || sn != 64 ||
            verify_es256(key, token, (size_t) (dot2 - token), sig) < 0) {
                *ret_reason = "attestation token was not signed by this broker";
                return -EBADMSG;
        }
        if (json_parse_strict((const char *) b, bn, 8, &payload) < 0 || !json_object_is_type(payload, json_type_object) ||
            !streq_ptr(json_get_string(payload, "iss"), "ephroot-kbs") ||
            !json_object_object_get_ex(payload, "exp", &e) || !json_object_is_type(e, json_type_int)) {
                *ret_reason = "attestation token payload is malformed";
                return -EBADMSG;
        }
        exp = json_object_get_int64(e);
        if (exp <= (int64_t) now) {
                *ret_reason = "attestation token expired";
                return -EBADMSG;
        }
        *ret_payload = TAKE_PTR(payload);
        return 0;
}
