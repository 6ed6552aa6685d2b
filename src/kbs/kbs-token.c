/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
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
