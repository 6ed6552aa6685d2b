/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* JWE with OpenSSL 3 EVP. Key material (Z, KEK, CEK) lives on the stack and is cleansed on every
 * path; OpenSSL errors stay in this file. */

#define _GNU_SOURCE
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <string.h>

#include "b64.h"
#include "json-util.h"
#include "jwe.h"
#include "log.h"

#define CEK_SIZE 32
#define IV_SIZE 12
#define TAG_SIZE 16
#define WRAPPED_SIZE (CEK_SIZE + 8)
#define JWE_HEADER_MAX 1024

static void EVP_PKEY_CTX_freep(EVP_PKEY_CTX **p) {
        EVP_PKEY_CTX_free(*p);
}
static void EVP_CIPHER_CTX_freep(EVP_CIPHER_CTX **p) {
        EVP_CIPHER_CTX_free(*p);
}
static void EVP_CIPHER_freep(EVP_CIPHER **p) {
        EVP_CIPHER_free(*p);
}

static int openssl_fail(int r) {
        ERR_clear_error();
        return r;
}

/* Z = ECDH(priv, peer) */
static int ecdh(EVP_PKEY *priv, EVP_PKEY *peer, uint8_t *z, size_t *z_size) {
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;

        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
        if (!ctx || EVP_PKEY_derive_init(ctx) <= 0 || EVP_PKEY_derive_set_peer(ctx, peer) <= 0 ||
            EVP_PKEY_derive(ctx, z, z_size) <= 0)
                return openssl_fail(-EINVAL);
        return 0;
}

/* Concat KDF (NIST SP 800-56A, RFC 7518 section 4.6.2) for ECDH-ES+A256KW: one SHA-256 round,
 * AlgorithmID = the "alg" value, empty PartyUInfo and PartyVInfo, keydatalen 256. */
static int concat_kdf(const uint8_t *z, size_t z_size, uint8_t kek[static 32]) {
        static const char alg[] = "ECDH-ES+A256KW";
        uint8_t counter[4] = { 0, 0, 0, 1 }, alglen[4] = { 0, 0, 0, sizeof(alg) - 1 }, zero[4] = {},
                bits[4] = { 0, 0, 1, 0 };
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned n = 0;
        int ok;

        if (!ctx)
                return -ENOMEM;
        ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(ctx, counter, 4) == 1 &&
             EVP_DigestUpdate(ctx, z, z_size) == 1 && EVP_DigestUpdate(ctx, alglen, 4) == 1 &&
             EVP_DigestUpdate(ctx, alg, sizeof(alg) - 1) == 1 && EVP_DigestUpdate(ctx, zero, 4) == 1 &&
             EVP_DigestUpdate(ctx, zero, 4) == 1 && EVP_DigestUpdate(ctx, bits, 4) == 1 &&
             EVP_DigestFinal_ex(ctx, kek, &n) == 1 && n == 32;
        EVP_MD_CTX_free(ctx);
        return ok ? 0 : openssl_fail(-EIO);
}

/* AES-256 key wrap (RFC 3394). */
static int aes_kw(bool wrap, const uint8_t kek[static 32], const uint8_t *in, size_t in_size, uint8_t *out,
                  size_t *out_size) {
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = NULL;
        _cleanup_(EVP_CIPHER_freep) EVP_CIPHER *cipher = NULL;
        int n = 0, m = 0;

        cipher = EVP_CIPHER_fetch(NULL, "AES-256-WRAP", NULL);
        ctx = EVP_CIPHER_CTX_new();
        if (!cipher || !ctx)
                return openssl_fail(-ENOMEM);
        EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
        if (EVP_CipherInit_ex2(ctx, cipher, kek, NULL, wrap ? 1 : 0, NULL) != 1 ||
            EVP_CipherUpdate(ctx, out, &n, in, (int) in_size) != 1 || EVP_CipherFinal_ex(ctx, out + n, &m) != 1)
                return openssl_fail(wrap ? -EIO : -EBADMSG);
        *out_size = (size_t) (n + m);
        return 0;
}

static int aes_gcm(bool enc, const uint8_t cek[static 32], const uint8_t iv[static IV_SIZE], const char *aad,
                   const uint8_t *in, size_t in_size, uint8_t *out, uint8_t tag[static TAG_SIZE]) {
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = NULL;
        int n = 0, m = 0;

        if (in_size > INT32_MAX)
                return -EFBIG;
        ctx = EVP_CIPHER_CTX_new();
        if (!ctx)
                return -ENOMEM;
        if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc ? 1 : 0) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, IV_SIZE, NULL) != 1 ||
            EVP_CipherInit_ex(ctx, NULL, NULL, cek, iv, enc ? 1 : 0) != 1 ||
            EVP_CipherUpdate(ctx, NULL, &n, (const uint8_t *) aad, (int) strlen(aad)) != 1 ||
            (in_size > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int) in_size) != 1))
                return openssl_fail(-EIO);
        if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_SIZE, tag) != 1)
                return openssl_fail(-EIO);
        if (EVP_CipherFinal_ex(ctx, out + (in_size > 0 ? n : 0), &m) != 1)
                return openssl_fail(enc ? -EIO : -EBADMSG);
        if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_SIZE, tag) != 1)
                return openssl_fail(-EIO);
        return 0;
}

static int rsa_oaep(bool enc, EVP_PKEY *key, const uint8_t *in, size_t in_size, uint8_t *out, size_t *out_size) {
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        int ok;

        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        if (!ctx)
                return openssl_fail(-ENOMEM);
        ok = (enc ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) > 0 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
             EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) > 0 && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) > 0 &&
             (enc ? EVP_PKEY_encrypt(ctx, out, out_size, in, in_size) : EVP_PKEY_decrypt(ctx, out, out_size, in, in_size)) > 0;
        return ok ? 0 : openssl_fail(enc ? -EIO : -EBADMSG);
}

int jwe_encrypt(EVP_PKEY *key, JwkAlg alg, const void *plaintext, size_t size, char **ret) {
        _cleanup_json_ json_object *header = NULL, *out = NULL, *epk = NULL;
        _cleanup_free_ uint8_t *ciphertext = NULL, *encrypted_key = NULL;
        _cleanup_free_ char *protected = NULL;
        uint8_t cek[CEK_SIZE], iv[IV_SIZE], tag[TAG_SIZE];
        size_t encrypted_key_size = 0;
        const char *s;
        int r;

        assert_return(key && ret, -EINVAL);
        assert_return(plaintext || size == 0, -EINVAL);

        header = json_object_new_object();
        out = json_object_new_object();
        ciphertext = malloc(size > 0 ? size : 1);
        if (!header || !out || !ciphertext)
                return -ENOMEM;
        if (RAND_bytes(cek, sizeof(cek)) != 1 || RAND_bytes(iv, sizeof(iv)) != 1)
                return openssl_fail(-EIO);

        if (alg == JWK_ALG_ECDH_ES_A256KW && EVP_PKEY_is_a(key, "EC")) {
                _cleanup_pkey_ EVP_PKEY *eph = NULL;
                uint8_t z[66], kek[32];
                size_t z_size = sizeof(z);
                char group[32];

                /* the ephemeral key on the recipient's curve (P-256 or P-521) */
                if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) > 0)
                        eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
                if (!eph) {
                        OPENSSL_cleanse(cek, sizeof(cek));
                        return openssl_fail(-EIO);
                }
                r = ecdh(eph, key, z, &z_size);
                if (r >= 0)
                        r = concat_kdf(z, z_size, kek);
                OPENSSL_cleanse(z, sizeof(z));
                if (r >= 0) {
                        encrypted_key = malloc(WRAPPED_SIZE + 16);
                        r = encrypted_key ? aes_kw(true, kek, cek, sizeof(cek), encrypted_key, &encrypted_key_size)
                                          : -ENOMEM;
                }
                OPENSSL_cleanse(kek, sizeof(kek));
                if (r >= 0)
                        r = jwk_from_pkey(eph, -1, &epk);
        } else if (alg == JWK_ALG_RSA_OAEP_256 && EVP_PKEY_is_a(key, "RSA")) {
                encrypted_key_size = (size_t) EVP_PKEY_get_size(key);
                encrypted_key = malloc(encrypted_key_size);
                r = encrypted_key ? rsa_oaep(true, key, cek, sizeof(cek), encrypted_key, &encrypted_key_size) : -ENOMEM;
        } else
                r = -EOPNOTSUPP;
        if (r < 0) {
                OPENSSL_cleanse(cek, sizeof(cek));
                return r;
        }

        /* The members in the order of Trustee's broker and of kbs-types' ProtectedHeader::generate_aad(),
         * which guest-components' client uses as the AES-GCM AAD instead of the received string:
         * "alg", "enc", then "epk" with "crv", "kty", "x", "y" (jwk_from_pkey()'s order). */
        if (json_add_string(header, "alg", jwk_alg_to_string(alg)) < 0 ||
            json_add_string(header, "enc", "A256GCM") < 0 ||
            (epk && json_add(header, "epk", TAKE_PTR(epk)) < 0)) {
                OPENSSL_cleanse(cek, sizeof(cek));
                return -ENOMEM;
        }
        s = json_object_to_json_string_ext(header, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        protected = s ? b64url_encode(s, strlen(s)) : NULL;
        if (!protected) {
                OPENSSL_cleanse(cek, sizeof(cek));
                return -ENOMEM;
        }

        r = aes_gcm(true, cek, iv, protected, plaintext, size, ciphertext, tag);
        OPENSSL_cleanse(cek, sizeof(cek));
        if (r < 0)
                return r;

        r = json_add_string(out, "protected", protected);
        if (r >= 0)
                r = json_add_b64(out, "encrypted_key", encrypted_key, encrypted_key_size, B64_URL);
        if (r >= 0)
                r = json_add_b64(out, "iv", iv, sizeof(iv), B64_URL);
        if (r >= 0)
                r = json_add_b64(out, "ciphertext", ciphertext, size, B64_URL);
        if (r >= 0)
                r = json_add_b64(out, "tag", tag, sizeof(tag), B64_URL);
        if (r < 0)
                return r;

        return json_to_string(out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, ret);
}

int jwe_decrypt(EVP_PKEY *key, const char *jwe, size_t jwe_size, size_t max_size, uint8_t **ret, size_t *ret_size) {
        _cleanup_json_ json_object *o = NULL, *header = NULL;
        _cleanup_free_ uint8_t *hdr = NULL, *ek = NULL, *iv = NULL, *ct = NULL, *tag = NULL, *pt = NULL;
        size_t hdr_size, ek_size, iv_size, ct_size, tag_size;
        uint8_t cek[CEK_SIZE + 16];
        size_t cek_size = sizeof(cek);
        const char *protected, *alg, *enc;
        json_tokener *tok;
        int r;

        assert_return(key && jwe && ret, -EINVAL);

        if (jwe_size > 4 * max_size / 3 + 4096)
                return -EFBIG;
        tok = json_tokener_new_ex(8);
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, jwe, (int) jwe_size);
        r = json_tokener_get_error(tok) == json_tokener_success && json_object_is_type(o, json_type_object);
        json_tokener_free(tok);
        if (!r)
                return -EBADMSG;

        protected = json_get_string(o, "protected");
        if (!protected || strlen(protected) > JWE_HEADER_MAX)
                return -EBADMSG;
        if (b64_decode(protected, strlen(protected), B64_URL, &hdr, &hdr_size) < 0)
                return -EBADMSG;
        header = json_tokener_parse((const char *) hdr);
        if (!json_object_is_type(header, json_type_object))
                return -EBADMSG;
        alg = json_get_string(header, "alg");
        enc = json_get_string(header, "enc");
        if (!streq_ptr(enc, "A256GCM"))
                return -EOPNOTSUPP;

        r = json_get_b64(o, "encrypted_key", B64_URL, 1024, &ek, &ek_size);
        if (r >= 0)
                r = json_get_b64(o, "iv", B64_URL, IV_SIZE, &iv, &iv_size);
        if (r >= 0)
                r = json_get_b64(o, "tag", B64_URL, TAG_SIZE, &tag, &tag_size);
        if (r >= 0)
                r = json_get_b64(o, "ciphertext", B64_URL, max_size, &ct, &ct_size);
        if (r < 0)
                return r;
        if (iv_size != IV_SIZE || tag_size != TAG_SIZE)
                return -EBADMSG;

        if (streq_ptr(alg, "ECDH-ES+A256KW") && EVP_PKEY_is_a(key, "EC")) {
                _cleanup_pkey_ EVP_PKEY *epk = NULL;
                json_object *e;
                uint8_t z[66], kek[32];
                size_t z_size = sizeof(z);

                if (!json_object_object_get_ex(header, "epk", &e) || jwk_parse_public(e, &epk) < 0)
                        return -EBADMSG;
                if (ek_size != WRAPPED_SIZE)
                        return -EBADMSG;
                r = ecdh(key, epk, z, &z_size);
                if (r >= 0)
                        r = concat_kdf(z, z_size, kek);
                OPENSSL_cleanse(z, sizeof(z));
                if (r >= 0)
                        r = aes_kw(false, kek, ek, ek_size, cek, &cek_size);
                OPENSSL_cleanse(kek, sizeof(kek));
        } else if (streq_ptr(alg, "RSA-OAEP-256") && EVP_PKEY_is_a(key, "RSA")) {
                _cleanup_free_ uint8_t *buf = malloc(ek_size > 0 ? ek_size : 1);
                size_t n = ek_size;

                r = buf ? rsa_oaep(false, key, ek, ek_size, buf, &n) : -ENOMEM;
                if (r >= 0 && n != CEK_SIZE)
                        r = -EBADMSG;
                if (r >= 0) {
                        memcpy(cek, buf, CEK_SIZE);
                        cek_size = CEK_SIZE;
                }
                if (buf)
                        OPENSSL_cleanse(buf, ek_size);
        } else
                r = -EOPNOTSUPP;
        if (r >= 0 && cek_size != CEK_SIZE)
                r = -EBADMSG;
        if (r < 0) {
                OPENSSL_cleanse(cek, sizeof(cek));
                return r;
        }

        pt = malloc(ct_size > 0 ? ct_size : 1);
        if (!pt) {
                OPENSSL_cleanse(cek, sizeof(cek));
                return -ENOMEM;
        }
        r = aes_gcm(false, cek, iv, protected, ct, ct_size, pt, tag);
        OPENSSL_cleanse(cek, sizeof(cek));
        if (r < 0) {
                OPENSSL_cleanse(pt, ct_size);
                return r;
        }
        *ret = TAKE_PTR(pt);
        *ret_size = ct_size;
        return 0;
}
