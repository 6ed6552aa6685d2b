/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <string.h>

#include "macro.h"
#include "tpm-quote.h"

const EVP_MD *tpm_alg_md(uint16_t alg) {
        switch (alg) {
        case TPM_ALG_SHA1:
                return EVP_sha1();
        case TPM_ALG_SHA256:
                return EVP_sha256();
        case TPM_ALG_SHA384:
                return EVP_sha384();
        case TPM_ALG_SHA512:
                return EVP_sha512();
        default:
                return NULL;
        }
}

/* TPM ECDSA r and s as a DER ECDSA-Sig-Value. */
static int ecdsa_der(const TpmSignature *sig, uint8_t **ret, size_t *ret_size) {
        ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(sig->sig, sig->sig_size, NULL), *s = BN_bin2bn(sig->s, sig->s_size, NULL);
        unsigned char *der = NULL;
        int n;

        if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
                ECDSA_SIG_free(es);
                BN_free(r);
                BN_free(s);
                return -ENOMEM;
        }
        n = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
        if (n <= 0)
                return -ENOMEM;
        *ret = der;
        *ret_size = (size_t) n;
        return 0;
}

int tpm_quote_verify_signature(EVP_PKEY *ak, const uint8_t *msg, size_t msg_size, const TpmSignature *sig) {
        EVP_MD_CTX *ctx = NULL;
        EVP_PKEY_CTX *pctx = NULL;
        const EVP_MD *md;
        unsigned char *der = NULL;
        const uint8_t *s;
        size_t s_size;
        int r = -EBADMSG;

        assert_return(ak && msg && sig, -EINVAL);

        md = tpm_alg_md(sig->hash);
        if (!md)
                return -EOPNOTSUPP;
        if (sig->alg == TPM_ALG_ECDSA) {
                if (!EVP_PKEY_is_a(ak, "EC"))
                        return -EOPNOTSUPP;
                r = ecdsa_der(sig, &der, &s_size);
                if (r < 0)
                        return r;
                s = der;
        } else {
                if (!EVP_PKEY_is_a(ak, "RSA"))
                        return -EOPNOTSUPP;
                s = sig->sig;
                s_size = sig->sig_size;
        }

        ctx = EVP_MD_CTX_new();
        if (!ctx) {
                r = -ENOMEM;
                goto finish;
        }
        if (EVP_DigestVerifyInit_ex(ctx, &pctx, EVP_MD_get0_name(md), NULL, NULL, ak, NULL) != 1) {
                r = -EIO;
                goto finish;
        }
        if (sig->alg == TPM_ALG_RSAPSS &&
            (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) <= 0)) {
                r = -EIO;
                goto finish;
        }
        r = EVP_DigestVerify(ctx, s, s_size, msg, msg_size) == 1 ? 0 : -EBADMSG;

finish:
        EVP_MD_CTX_free(ctx);
        OPENSSL_free(der);
        ERR_clear_error();
        return r;
}

bool tpm_quote_nonce_matches(const TpmQuoteInfo *q, const uint8_t *expected, size_t expected_size) {
        return q && expected && q->extra_size == expected_size && CRYPTO_memcmp(q->extra, expected, expected_size) == 0;
}

int tpm_quote_check_pcrs(const TpmQuoteInfo *q, uint16_t hash, const uint8_t pcrs[TPM_PCRS][32], uint32_t *ret_mask) {
        uint8_t digest[EVP_MAX_MD_SIZE];
        unsigned digest_size = 0;
        const EVP_MD *md = tpm_alg_md(hash);
        uint32_t mask = 0;
        EVP_MD_CTX *ctx;
        bool ok;

        assert_return(q && pcrs, -EINVAL);
        if (!md)
                return -EOPNOTSUPP;

        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        ok = EVP_DigestInit_ex(ctx, md, NULL) == 1;
        for (uint32_t i = 0; ok && i < q->n_selections; i++) {
                const TpmPcrSelection *s = q->selections + i;
                bool any = false;

                for (unsigned b = 0; b < s->size * 8U; b++)
                        if (s->select[b / 8] & (1U << (b % 8)))
                                any = true;
                if (!any)
                        continue;
                if (s->hash != TPM_ALG_SHA256) {
                        EVP_MD_CTX_free(ctx);
                        return -EOPNOTSUPP;
                }
                for (unsigned b = 0; ok && b < s->size * 8U; b++) {
                        if (!(s->select[b / 8] & (1U << (b % 8))))
                                continue;
                        if (b >= TPM_PCRS) {
                                EVP_MD_CTX_free(ctx);
                                return -EOPNOTSUPP;
                        }
                        mask |= 1U << b;
                        ok = EVP_DigestUpdate(ctx, pcrs[b], 32) == 1;
                }
        }
        ok = ok && EVP_DigestFinal_ex(ctx, digest, &digest_size) == 1;
        EVP_MD_CTX_free(ctx);
        if (!ok) {
                ERR_clear_error();
                return -EIO;
        }
        if (digest_size != q->pcr_digest_size || CRYPTO_memcmp(digest, q->pcr_digest, digest_size) != 0)
                return -EBADMSG;
        if (ret_mask)
                *ret_mask = mask;
        return 0;
}
