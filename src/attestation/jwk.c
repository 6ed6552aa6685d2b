/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* JWK <-> EVP_PKEY with OpenSSL 3's provider API. OpenSSL errors stay in this file. */

#define _GNU_SOURCE
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <string.h>

#include "json-util.h"
#include "jwk.h"
#include "log.h"

static const char *const alg_names[_JWK_ALG_MAX] = {
        [JWK_ALG_ECDH_ES_A256KW] = "ECDH-ES+A256KW",
        [JWK_ALG_RSA_OAEP_256] = "RSA-OAEP-256",
};

static const struct {
        const char *jwk, *group;
        size_t size;
} curves[] = {
        { "P-256", "P-256", 32 },
        { "P-384", "P-384", 48 },
        { "P-521", "P-521", 66 },
};

const char *jwk_alg_to_string(JwkAlg a) {
        return a >= 0 && a < _JWK_ALG_MAX ? alg_names[a] : NULL;
}

int jwk_alg_from_string(const char *s) {
        for (int i = 0; i < _JWK_ALG_MAX; i++)
                if (streq_ptr(s, alg_names[i]))
                        return i;
        return -EINVAL;
}

/* A key's base64url member: present and not empty (-EINVAL otherwise), at most about max bytes. */
static int get_b64url(json_object *o, const char *key, size_t max, uint8_t **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *p = NULL;
        size_t n;
        int r;

        r = json_get_b64(o, key, B64_URL | B64_PAD_OPTIONAL, max, &p, &n);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || n == 0)
                return -EINVAL;
        *ret = TAKE_PTR(p);
        *ret_size = n;
        return 0;
}

static void BN_freep(BIGNUM **p) {
        BN_free(*p);
}
static void OSSL_PARAM_BLD_freep(OSSL_PARAM_BLD **p) {
        OSSL_PARAM_BLD_free(*p);
}
static void OSSL_PARAM_freep(OSSL_PARAM **p) {
        OSSL_PARAM_free(*p);
}
static void EVP_PKEY_CTX_freep(EVP_PKEY_CTX **p) {
        EVP_PKEY_CTX_free(*p);
}

/* check_public: EVP_PKEY_public_check() (for EC: the point is on the curve). Not for RSA, where it
 * runs a primality test on the modulus: about 0.5 s for a 4096-bit prime, which an unauthenticated
 * client could make the server do at will. RSA keys get the size and exponent checks instead. */
static int fromdata(const char *type, OSSL_PARAM *params, bool check_public, EVP_PKEY **ret) {
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL, *check = NULL;
        _cleanup_pkey_ EVP_PKEY *key = NULL;

        ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
        if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
                ERR_clear_error();
                return -EINVAL;
        }
        if (check_public && (!(check = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) || EVP_PKEY_public_check(check) <= 0)) {
                ERR_clear_error();
                return -EINVAL;
        }
        *ret = TAKE_PTR(key);
        return 0;
}

static int ec_from_xy(const char *group, const uint8_t *x, const uint8_t *y, size_t size, EVP_PKEY **ret) {
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = NULL;
        _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
        uint8_t point[1 + 2 * 66];

        point[0] = 0x04;
        memcpy(point + 1, x, size);
        memcpy(point + 1 + size, y, size);

        bld = OSSL_PARAM_BLD_new();
        if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
            !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * size) ||
            !(params = OSSL_PARAM_BLD_to_param(bld))) {
                ERR_clear_error();
                return -ENOMEM;
        }
        return fromdata("EC", params, /* check_public= */ true, ret);
}

int jwk_rsa_from_ne(const uint8_t *n, size_t n_size, const uint8_t *e, size_t e_size, EVP_PKEY **ret) {
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = NULL;
        _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
        _cleanup_(BN_freep) BIGNUM *bn = NULL, *be = NULL;
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        int r, bits;

        assert_return(n && e && ret, -EINVAL);
        if (n_size == 0 || n_size > JWK_RSA_MAX_BITS / 8 || e_size == 0 || e_size > 8)
                return -EINVAL;

        bn = BN_bin2bn(n, (int) n_size, NULL);
        be = BN_bin2bn(e, (int) e_size, NULL);
        bld = OSSL_PARAM_BLD_new();
        if (!bn || !be || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) || !(params = OSSL_PARAM_BLD_to_param(bld))) {
                ERR_clear_error();
                return -ENOMEM;
        }
        r = fromdata("RSA", params, /* check_public= */ false, &key);
        if (r < 0)
                return r;
        bits = EVP_PKEY_get_bits(key);
        if (bits < 2048 || bits > JWK_RSA_MAX_BITS || !BN_is_odd(be) || BN_is_one(be))
                return -EINVAL;
        *ret = TAKE_PTR(key);
        return 0;
}

int jwk_parse_public(json_object *jwk, EVP_PKEY **ret_key) {
        const char *kty;
        int r;

        assert_return(ret_key, -EINVAL);
        if (!json_object_is_type(jwk, json_type_object))
                return -EINVAL;

        kty = json_get_string(jwk, "kty");
        if (streq_ptr(kty, "EC")) {
                _cleanup_free_ uint8_t *x = NULL, *y = NULL;
                const char *crv = json_get_string(jwk, "crv");
                size_t xs, ys;

                for (size_t i = 0; i < ELEMENTSOF(curves); i++) {
                        if (!streq_ptr(crv, curves[i].jwk))
                                continue;
                        r = get_b64url(jwk, "x", curves[i].size, &x, &xs);
                        if (r < 0)
                                return r;
                        r = get_b64url(jwk, "y", curves[i].size, &y, &ys);
                        if (r < 0)
                                return r;
                        if (xs != curves[i].size || ys != curves[i].size)
                                return -EINVAL;
                        return ec_from_xy(curves[i].group, x, y, curves[i].size, ret_key);
                }
                return -EOPNOTSUPP;
        }
        if (streq_ptr(kty, "RSA")) {
                _cleanup_free_ uint8_t *n = NULL, *e = NULL;
                size_t ns, es;

                r = get_b64url(jwk, "n", 1024, &n, &ns);
                if (r < 0)
                        return r;
                r = get_b64url(jwk, "e", 8, &e, &es);
                if (r < 0)
                        return r;
                return jwk_rsa_from_ne(n, ns, e, es, ret_key);
        }
        return -EOPNOTSUPP;
}

int jwk_parse_tee_key(json_object *jwk, EVP_PKEY **ret_key, JwkAlg *ret_alg) {
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        const char *alg, *kty;
        int r, a;

        assert_return(ret_key && ret_alg, -EINVAL);
        if (!json_object_is_type(jwk, json_type_object))
                return -EINVAL;

        kty = json_get_string(jwk, "kty");
        alg = json_get_string(jwk, "alg");
        if (streq_ptr(kty, "EC")) {
                a = alg ? jwk_alg_from_string(alg) : JWK_ALG_ECDH_ES_A256KW;
                /* P-256 and P-521, as Trustee's kbs/src/jwe/mod.rs (78962cd4) takes them */
                if (a != JWK_ALG_ECDH_ES_A256KW ||
                    !(streq_ptr(json_get_string(jwk, "crv"), "P-256") || streq_ptr(json_get_string(jwk, "crv"), "P-521")))
                        return -EOPNOTSUPP;
        } else if (streq_ptr(kty, "RSA")) {
                a = alg ? jwk_alg_from_string(alg) : JWK_ALG_RSA_OAEP_256;
                if (a != JWK_ALG_RSA_OAEP_256)
                        return -EOPNOTSUPP;
        } else
                return -EOPNOTSUPP;

        r = jwk_parse_public(jwk, &key);
        if (r < 0)
                return r;
        *ret_key = TAKE_PTR(key);
        *ret_alg = (JwkAlg) a;
        return 0;
}

static int bn_param(EVP_PKEY *key, const char *name, uint8_t **ret, size_t *ret_size) {
        _cleanup_(BN_freep) BIGNUM *bn = NULL;
        uint8_t *p;
        int n;

        if (EVP_PKEY_get_bn_param(key, name, &bn) <= 0) {
                ERR_clear_error();
                return -EINVAL;
        }
        n = BN_num_bytes(bn);
        p = malloc(n > 0 ? (size_t) n : 1);
        if (!p)
                return -ENOMEM;
        BN_bn2bin(bn, p);
        *ret = p;
        *ret_size = (size_t) n;
        return 0;
}

int jwk_from_pkey(EVP_PKEY *key, int alg, json_object **ret) {
        _cleanup_json_ json_object *o = NULL;
        int r;

        assert_return(key && ret, -EINVAL);

        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        if (alg >= 0 && alg < _JWK_ALG_MAX) {
                r = json_add_string(o, "alg", alg_names[alg]);
                if (r < 0)
                        return r;
        }

        if (EVP_PKEY_is_a(key, "EC")) {
                char group[32];
                uint8_t point[1 + 2 * 66];
                size_t len = 0;

                if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) <= 0 ||
                    EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &len) <= 0) {
                        ERR_clear_error();
                        return -EINVAL;
                }
                for (size_t i = 0; i < ELEMENTSOF(curves); i++) {
                        const char *g = curves[i].group;
                        /* OpenSSL may name P-256 "prime256v1" */
                        if (!(streq(group, g) || (i == 0 && streq(group, "prime256v1")) ||
                              (i == 1 && streq(group, "secp384r1")) || (i == 2 && streq(group, "secp521r1"))))
                                continue;
                        if (len != 1 + 2 * curves[i].size || point[0] != 0x04)
                                return -EINVAL;
                        r = json_add_string(o, "crv", curves[i].jwk);
                        if (r >= 0)
                                r = json_add_string(o, "kty", "EC");
                        if (r >= 0)
                                r = json_add_b64(o, "x", point + 1, curves[i].size, B64_URL);
                        if (r >= 0)
                                r = json_add_b64(o, "y", point + 1 + curves[i].size, curves[i].size, B64_URL);
                        if (r < 0)
                                return r;
                        *ret = TAKE_PTR(o);
                        return 0;
                }
                return -EOPNOTSUPP;
        }
        if (EVP_PKEY_is_a(key, "RSA")) {
                _cleanup_free_ uint8_t *n = NULL, *e = NULL;
                size_t ns, es;

                r = bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n, &ns);
                if (r >= 0)
                        r = bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e, &es);
                if (r >= 0)
                        r = json_add_b64(o, "e", e, es, B64_URL);
                if (r >= 0)
                        r = json_add_string(o, "kty", "RSA");
                if (r >= 0)
                        r = json_add_b64(o, "n", n, ns, B64_URL);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(o);
                return 0;
        }
        return -EOPNOTSUPP;
}
