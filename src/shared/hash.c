/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The OpenSSL wrapper for message digests, HMAC and HKDF. OpenSSL's error queue never leaves this file. */

#define _GNU_SOURCE
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <unistd.h>

#include "hash.h"
#include "log.h"

#define HASH_READ_CHUNK (256U * 1024U)

static const struct {
        const char *name;
        size_t size;
        uint16_t tpm_id;
} hash_table[_HASH_ALG_MAX] = {
        [HASH_SHA1] = { "sha1", 20, 0x0004 },
        [HASH_SHA256] = { "sha256", 32, 0x000B },
        [HASH_SHA384] = { "sha384", 48, 0x000C },
        [HASH_SHA512] = { "sha512", 64, 0x000D },
};

static void EVP_MD_CTX_freep(EVP_MD_CTX **p) {
        EVP_MD_CTX_free(*p);
}

const char *hash_alg_to_string(HashAlg alg) {
        if (alg >= _HASH_ALG_MAX)
                return NULL;
        return hash_table[alg].name;
}

int hash_alg_from_string(const char *s) {
        for (HashAlg a = 0; a < _HASH_ALG_MAX; a++)
                if (streq_ptr(s, hash_table[a].name))
                        return (int) a;
        return -EINVAL;
}

size_t hash_alg_size(HashAlg alg) {
        return alg < _HASH_ALG_MAX ? hash_table[alg].size : 0;
}

uint16_t hash_alg_to_tpm(HashAlg alg) {
        return alg < _HASH_ALG_MAX ? hash_table[alg].tpm_id : 0;
}

int hash_alg_from_tpm(uint16_t id) {
        for (HashAlg a = 0; a < _HASH_ALG_MAX; a++)
                if (hash_table[a].tpm_id == id)
                        return (int) a;
        return -EOPNOTSUPP;
}

static const EVP_MD *hash_md(HashAlg alg) {
        switch (alg) {
        case HASH_SHA1:
                return EVP_sha1();
        case HASH_SHA256:
                return EVP_sha256();
        case HASH_SHA384:
                return EVP_sha384();
        case HASH_SHA512:
                return EVP_sha512();
        default:
                return NULL;
        }
}

static int digest_final(EVP_MD_CTX *ctx, HashAlg alg, Digest *ret) {
        unsigned size = 0;

        if (EVP_DigestFinal_ex(ctx, ret->bytes, &size) != 1 || size != hash_table[alg].size) {
                ERR_clear_error();
                return -EIO;
        }
        ret->alg = alg;
        ret->size = size;
        return 0;
}

int hash_buffer(HashAlg alg, const void *p, size_t n, Digest *ret) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        const EVP_MD *md = hash_md(alg);

        assert_return(md, -EINVAL);
        assert_return(p || n == 0, -EINVAL);

        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        if (EVP_DigestInit_ex(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, p, n) != 1) {
                ERR_clear_error();
                return -EIO;
        }
        return digest_final(ctx, alg, ret);
}

int hash_fd(int fd, uint64_t max_size, unsigned algs, Digest ret[static _HASH_ALG_MAX], uint64_t *ret_size) {
        EVP_MD_CTX *ctx[_HASH_ALG_MAX] = {};
        Digest out[_HASH_ALG_MAX] = {};
        uint8_t *buf = NULL;
        uint64_t total = 0;
        int r = 0;

        assert_return(fd >= 0, -EBADF);
        assert_return(algs != 0 && (algs & ~HASH_ALL) == 0, -EINVAL);

        buf = malloc(HASH_READ_CHUNK);
        if (!buf) {
                r = -ENOMEM;
                goto finish;
        }

        FOREACH_HASH_ALG(a, algs) {
                ctx[a] = EVP_MD_CTX_new();
                if (!ctx[a]) {
                        r = -ENOMEM;
                        goto finish;
                }
                if (EVP_DigestInit_ex(ctx[a], hash_md(a), NULL) != 1) {
                        r = -EIO;
                        goto finish;
                }
        }

        for (;;) {
                ssize_t k = read(fd, buf, HASH_READ_CHUNK);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto finish;
                }
                if (k == 0)
                        break;
                total += (uint64_t) k;
                if (total > max_size) {
                        r = -EFBIG;
                        goto finish;
                }
                FOREACH_HASH_ALG(a, algs)
                        if (EVP_DigestUpdate(ctx[a], buf, (size_t) k) != 1) {
                                r = -EIO;
                                goto finish;
                        }
        }

        FOREACH_HASH_ALG(a, algs) {
                r = digest_final(ctx[a], a, out + a);
                if (r < 0)
                        goto finish;
        }

        memcpy(ret, out, sizeof(out));
        if (ret_size)
                *ret_size = total;

finish:
        free(buf);
        for (HashAlg a = 0; a < _HASH_ALG_MAX; a++)
                EVP_MD_CTX_free(ctx[a]);
        ERR_clear_error();
        return r;
}

struct HashContext {
        HashAlg alg;
        EVP_MD_CTX *ctx;
};

int hash_context_new(HashAlg alg, HashContext **ret) {
        _cleanup_(hash_context_freep) HashContext *h = NULL;
        const EVP_MD *md = hash_md(alg);

        if (!md)
                return -EOPNOTSUPP;
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->alg = alg;
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx)
                return -ENOMEM;
        if (EVP_DigestInit_ex(h->ctx, md, NULL) != 1) {
                ERR_clear_error();
                return -EIO;
        }
        *ret = TAKE_PTR(h);
        return 0;
}

int hash_context_update(HashContext *h, const void *p, size_t n) {
        assert_return(h, -EINVAL);
        if (EVP_DigestUpdate(h->ctx, p, n) != 1) {
                ERR_clear_error();
                return -EIO;
        }
        return 0;
}

int hash_context_final(HashContext *h, Digest *ret) {
        assert_return(h, -EINVAL);
        return digest_final(h->ctx, h->alg, ret);
}

HashContext *hash_context_free(HashContext *h) {
        if (!h)
                return NULL;
        EVP_MD_CTX_free(h->ctx);
        free(h);
        return NULL;
}

int hash_extend(Digest *pcr, const Digest *event) {
        uint8_t buf[2 * HASH_SIZE_MAX];

        assert_return(pcr && event, -EINVAL);
        assert_return(pcr->alg == event->alg && pcr->alg < _HASH_ALG_MAX, -EINVAL);
        assert_return(pcr->size == hash_table[pcr->alg].size && event->size == pcr->size, -EINVAL);

        memcpy(buf, pcr->bytes, pcr->size);
        memcpy(buf + pcr->size, event->bytes, event->size);
        return hash_buffer(pcr->alg, buf, pcr->size * 2, pcr);
}

void hash_zero(HashAlg alg, Digest *ret) {
        *ret = (Digest) { .alg = alg, .size = hash_alg_size(alg) };
}

static void EVP_MAC_freep(EVP_MAC **p) {
        EVP_MAC_free(*p);
}

static void EVP_MAC_CTX_freep(EVP_MAC_CTX **p) {
        EVP_MAC_CTX_free(*p);
}

static void EVP_KDF_freep(EVP_KDF **p) {
        EVP_KDF_free(*p);
}

static void EVP_KDF_CTX_freep(EVP_KDF_CTX **p) {
        EVP_KDF_CTX_free(*p);
}

int hash_hmac(HashAlg alg, const void *key, size_t key_size, const void *p, size_t n, Digest *ret) {
        _cleanup_(EVP_MAC_freep) EVP_MAC *mac = NULL;
        _cleanup_(EVP_MAC_CTX_freep) EVP_MAC_CTX *ctx = NULL;
        Digest d = { .alg = alg };
        OSSL_PARAM params[2];
        size_t size = 0;

        assert_return(alg < _HASH_ALG_MAX, -EINVAL);
        assert_return(key && key_size > 0, -EINVAL);
        assert_return(p || n == 0, -EINVAL);
        assert_return(ret, -EINVAL);

        /* OpenSSL looks digest names up case-insensitively: "sha256" is "SHA256". */
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) hash_table[alg].name, 0);
        params[1] = OSSL_PARAM_construct_end();

        mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (!mac)
                goto fail;
        ctx = EVP_MAC_CTX_new(mac);
        if (!ctx)
                goto fail;
        if (EVP_MAC_init(ctx, key, key_size, params) != 1 || EVP_MAC_update(ctx, p, n) != 1 ||
            EVP_MAC_final(ctx, d.bytes, &size, sizeof(d.bytes)) != 1 || size != hash_table[alg].size)
                goto fail;

        d.size = size;
        *ret = d;
        return 0;

fail:
        ERR_clear_error();
        return -EIO;
}

int hkdf_sha256(const void *ikm, size_t ikm_size, const void *salt, size_t salt_size, const void *info,
                size_t info_size, void *ret, size_t ret_size) {
        _cleanup_(EVP_KDF_freep) EVP_KDF *kdf = NULL;
        _cleanup_(EVP_KDF_CTX_freep) EVP_KDF_CTX *ctx = NULL;
        OSSL_PARAM params[5];
        size_t n = 0;

        assert_return(ikm && ikm_size > 0, -EINVAL);
        assert_return(salt || salt_size == 0, -EINVAL);
        assert_return(info || info_size == 0, -EINVAL);
        assert_return(ret && ret_size > 0 && ret_size <= 255U * 32U, -EINVAL);

        params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0);
        params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *) ikm, ikm_size);
        /* RFC 5869 2.2: no salt means HashLen zeros, which is what HMAC makes of an empty key anyway;
         * OpenSSL does the same when the parameter is absent. */
        if (salt_size > 0)
                params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *) salt, salt_size);
        if (info_size > 0)
                params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *) info, info_size);
        params[n] = OSSL_PARAM_construct_end();

        kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
        if (!kdf)
                goto fail;
        ctx = EVP_KDF_CTX_new(kdf);
        if (!ctx)
                goto fail;
        if (EVP_KDF_derive(ctx, ret, ret_size, params) != 1)
                goto fail;
        return 0;

fail:
        OPENSSL_cleanse(ret, ret_size);
        ERR_clear_error();
        return -EIO;
}
