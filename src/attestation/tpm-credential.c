/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <string.h>

#include "jwk.h"
#include "tpm-attest.h"
#include "tpm-credential.h"
#include "tpm-quote.h"

int tpm_public_to_pkey(const TpmPublic *pub, EVP_PKEY **ret) {
        assert_return(pub && ret, -EINVAL);

        if (pub->type == TPM_ALG_RSA) {
                uint8_t e[4] = { 0x01, 0x00, 0x01 };
                size_t es = 3;
                if (pub->rsa_exponent != 0) {
                        e[0] = (uint8_t) (pub->rsa_exponent >> 24), e[1] = (uint8_t) (pub->rsa_exponent >> 16);
                        e[2] = (uint8_t) (pub->rsa_exponent >> 8), e[3] = (uint8_t) pub->rsa_exponent;
                        es = 4;
                }
                return jwk_rsa_from_ne(pub->n, pub->n_size, e, es, ret);
        }
        if (pub->type == TPM_ALG_ECC) {
                const char *group = pub->curve == TPM_ECC_NIST_P256 ? "P-256" : pub->curve == TPM_ECC_NIST_P384 ? "P-384" : NULL;
                size_t size = pub->curve == TPM_ECC_NIST_P256 ? 32 : 48;
                OSSL_PARAM_BLD *bld;
                OSSL_PARAM *params = NULL;
                EVP_PKEY_CTX *ctx = NULL;
                uint8_t point[1 + 2 * 48] = { 0x04 };
                int r = -EINVAL;

                if (!group || pub->n_size > size)
                        return -EOPNOTSUPP;
                /* TPM coordinates may come without leading zeros */
                memcpy(point + 1 + size - pub->n_size, pub->n, pub->n_size);
                memcpy(point + 1 + 2 * size - pub->y_size, pub->y, pub->y_size);
                bld = OSSL_PARAM_BLD_new();
                if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
                    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * size) &&
                    (params = OSSL_PARAM_BLD_to_param(bld)) && (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) &&
                    EVP_PKEY_fromdata_init(ctx) > 0 && EVP_PKEY_fromdata(ctx, ret, EVP_PKEY_PUBLIC_KEY, params) > 0)
                        r = 0;
                EVP_PKEY_CTX_free(ctx);
                OSSL_PARAM_free(params);
                OSSL_PARAM_BLD_free(bld);
                ERR_clear_error();
                return r;
        }
        return -EOPNOTSUPP;
}

/* KDFa (TPM 2.0 Part 1, 11.4.10.2): SP 800-108 counter mode with HMAC. label without its NUL; the
 * NUL is part of the input. */
static int kdfa(const EVP_MD *md, const uint8_t *key, size_t key_size, const char *label, const uint8_t *ctx_u,
                size_t ctx_u_size, size_t bits, uint8_t *out) {
        size_t want = bits / 8, done = 0, hs = (size_t) EVP_MD_get_size(md);
        uint8_t be_bits[4] = { (uint8_t) (bits >> 24), (uint8_t) (bits >> 16), (uint8_t) (bits >> 8), (uint8_t) bits };

        for (uint32_t i = 1; done < want; i++) {
                uint8_t counter[4] = { (uint8_t) (i >> 24), (uint8_t) (i >> 16), (uint8_t) (i >> 8), (uint8_t) i },
                        block[EVP_MAX_MD_SIZE];
                EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
                EVP_MAC_CTX *m = mac ? EVP_MAC_CTX_new(mac) : NULL;
                OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string("digest", (char *) EVP_MD_get0_name(md), 0),
                                        OSSL_PARAM_construct_end() };
                size_t outl = 0;
                bool ok = m && EVP_MAC_init(m, key, key_size, params) == 1 && EVP_MAC_update(m, counter, 4) == 1 &&
                          EVP_MAC_update(m, (const uint8_t *) label, strlen(label) + 1) == 1 &&
                          (ctx_u_size == 0 || EVP_MAC_update(m, ctx_u, ctx_u_size) == 1) &&
                          EVP_MAC_update(m, be_bits, 4) == 1 && EVP_MAC_final(m, block, &outl, sizeof(block)) == 1;
                EVP_MAC_CTX_free(m);
                EVP_MAC_free(mac);
                if (!ok || outl != hs) {
                        ERR_clear_error();
                        return -EIO;
                }
                memcpy(out + done, block, want - done < hs ? want - done : hs);
                done += want - done < hs ? want - done : hs;
                OPENSSL_cleanse(block, sizeof(block));
        }
        return 0;
}

static int hmac(const EVP_MD *md, const uint8_t *key, size_t key_size, const uint8_t *a, size_t a_size,
                const uint8_t *b, size_t b_size, uint8_t *out) {
        EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        EVP_MAC_CTX *m = mac ? EVP_MAC_CTX_new(mac) : NULL;
        OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string("digest", (char *) EVP_MD_get0_name(md), 0),
                                OSSL_PARAM_construct_end() };
        size_t outl = 0;
        bool ok = m && EVP_MAC_init(m, key, key_size, params) == 1 && EVP_MAC_update(m, a, a_size) == 1 &&
                  EVP_MAC_update(m, b, b_size) == 1 && EVP_MAC_final(m, out, &outl, EVP_MAX_MD_SIZE) == 1;

        EVP_MAC_CTX_free(m);
        EVP_MAC_free(mac);
        ERR_clear_error();
        return ok ? 0 : -EIO;
}

int tpm_make_credential(const TpmPublic *ek, const uint8_t *name, size_t name_size, const uint8_t *secret,
                        size_t secret_size, uint8_t **ret_id_object, size_t *ret_id_object_size, uint8_t **ret_secret,
                        size_t *ret_secret_size) {
        const EVP_MD *md;
        EVP_PKEY *key = NULL;
        EVP_PKEY_CTX *pctx = NULL;
        EVP_CIPHER_CTX *cctx = NULL;
        uint8_t seed[EVP_MAX_MD_SIZE], sym[32], hkey[EVP_MAX_MD_SIZE], plain[2 + 64], enc[2 + 64], mac[EVP_MAX_MD_SIZE],
                iv[16] = {};
        uint8_t *id = NULL, *es = NULL, *ct = NULL;
        size_t hs, ct_size = 0, enc_size = 2 + secret_size;
        int r = -EIO, n = 0;
        static const char label[] = "IDENTITY";

        assert_return(ek && name && secret && ret_id_object && ret_secret, -EINVAL);
        if (ek->type != TPM_ALG_RSA || ek->sym_alg != TPM_ALG_AES || ek->sym_mode != TPM_ALG_CFB ||
            (ek->sym_bits != 128 && ek->sym_bits != 256))
                return -EOPNOTSUPP;
        if ((ek->attributes & (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)) != (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT))
                return -EOPNOTSUPP;
        if (secret_size == 0 || secret_size > 64)
                return -EINVAL;
        md = tpm_alg_md(ek->name_alg);
        if (!md)
                return -EOPNOTSUPP;
        hs = (size_t) EVP_MD_get_size(md);

        if (RAND_bytes(seed, (int) hs) != 1)
                goto finish;
        r = tpm_public_to_pkey(ek, &key);
        if (r < 0)
                goto finish;
        r = -EIO;

        /* the seed, RSA-OAEP with the EK's nameAlg and the label "IDENTITY\0" */
        pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        ct_size = (size_t) EVP_PKEY_get_size(key);
        ct = malloc(ct_size);
        {
                uint8_t *l = OPENSSL_memdup(label, sizeof(label)); /* the context owns it after set0 */
                if (!pctx || !ct || !l || EVP_PKEY_encrypt_init(pctx) <= 0 ||
                    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
                    EVP_PKEY_CTX_set_rsa_oaep_md(pctx, md) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0 ||
                    EVP_PKEY_CTX_set0_rsa_oaep_label(pctx, l, sizeof(label)) <= 0) {
                        OPENSSL_free(l);
                        goto finish;
                }
        }
        if (EVP_PKEY_encrypt(pctx, ct, &ct_size, seed, hs) <= 0)
                goto finish;

        /* encIdentity = CFB(KDFa(seed, "STORAGE", name), TPM2B_DIGEST(secret)) */
        if (kdfa(md, seed, hs, "STORAGE", name, name_size, ek->sym_bits, sym) < 0)
                goto finish;
        plain[0] = (uint8_t) (secret_size >> 8), plain[1] = (uint8_t) secret_size;
        memcpy(plain + 2, secret, secret_size);
        cctx = EVP_CIPHER_CTX_new();
        if (!cctx ||
            EVP_EncryptInit_ex(cctx, ek->sym_bits == 128 ? EVP_aes_128_cfb() : EVP_aes_256_cfb(), NULL, sym, iv) != 1 ||
            EVP_EncryptUpdate(cctx, enc, &n, plain, (int) enc_size) != 1 || (size_t) n != enc_size)
                goto finish;

        /* integrity = HMAC(KDFa(seed, "INTEGRITY"), encIdentity || name) */
        if (kdfa(md, seed, hs, "INTEGRITY", NULL, 0, hs * 8, hkey) < 0 ||
            hmac(md, hkey, hs, enc, enc_size, name, name_size, mac) < 0)
                goto finish;

        id = malloc(2 + 2 + hs + enc_size);
        es = malloc(2 + ct_size);
        if (!id || !es) {
                r = -ENOMEM;
                goto finish;
        }
        id[0] = (uint8_t) ((2 + hs + enc_size) >> 8), id[1] = (uint8_t) (2 + hs + enc_size);
        id[2] = (uint8_t) (hs >> 8), id[3] = (uint8_t) hs;
        memcpy(id + 4, mac, hs);
        memcpy(id + 4 + hs, enc, enc_size);
        es[0] = (uint8_t) (ct_size >> 8), es[1] = (uint8_t) ct_size;
        memcpy(es + 2, ct, ct_size);
        *ret_id_object = id;
        *ret_id_object_size = 2 + 2 + hs + enc_size;
        *ret_secret = es;
        *ret_secret_size = 2 + ct_size;
        id = es = NULL;
        r = 0;

finish:
        OPENSSL_cleanse(seed, sizeof(seed));
        OPENSSL_cleanse(sym, sizeof(sym));
        OPENSSL_cleanse(hkey, sizeof(hkey));
        OPENSSL_cleanse(plain, sizeof(plain));
        EVP_CIPHER_CTX_free(cctx);
        EVP_PKEY_CTX_free(pctx);
        EVP_PKEY_free(key);
        free(ct);
        free(id);
        free(es);
        ERR_clear_error();
        return r;
}
