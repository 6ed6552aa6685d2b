/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The neutral codecs: base64/base64url (RFC 4648 vectors and refusals), RFC 8785 canonical JSON
 * (the RFC's own examples), JWK, JWE both ways (EC and RSA) with every tampering refused, TPM
 * structure parsing. */

#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "json-canon.h"
#include "jwe.h"
#include "jwk.h"
#include "kbs-protocol.h"
#include "rcar.h"
#include "tpm-attest.h"
#include "util.h"

static void test_b64(void **state) {
        static const struct {
                const char *plain, *std, *url_nopad;
        } v[] = {
                { "", "", "" },           { "f", "Zg==", "Zg" },         { "fo", "Zm8=", "Zm8" },
                { "foo", "Zm9v", "Zm9v" }, { "foob", "Zm9vYg==", "Zm9vYg" }, { "fooba", "Zm9vYmE=", "Zm9vYmE" },
                { "foobar", "Zm9vYmFy", "Zm9vYmFy" },
        };
        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                char *e = b64_encode(v[i].plain, strlen(v[i].plain), B64_PAD);
                uint8_t *d;
                size_t n;

                assert_string_equal(e, v[i].std);
                free(e);
                e = b64url_encode(v[i].plain, strlen(v[i].plain));
                assert_string_equal(e, v[i].url_nopad);
                free(e);
                assert_int_equal(b64_decode(v[i].std, strlen(v[i].std), B64_PAD, &d, &n), 0);
                assert_int_equal(n, strlen(v[i].plain));
                assert_memory_equal(d, v[i].plain, n);
                free(d);
                assert_int_equal(b64_decode(v[i].url_nopad, strlen(v[i].url_nopad), B64_URL, &d, &n), 0);
                assert_memory_equal(d, v[i].plain, n);
                free(d);
        }
        /* the alphabets differ */
        uint8_t raw[] = { 0xfb, 0xff, 0xbf }, *d;
        size_t n;
        char *e = b64_encode(raw, 3, B64_PAD);
        assert_string_equal(e, "+/+/");
        free(e);
        e = b64url_encode(raw, 3);
        assert_string_equal(e, "-_-_");
        free(e);
        /* refusals: wrong alphabet, padding where none allowed, missing padding where required, a lone
         * char, non-zero trailing bits, padding in the middle */
        assert_int_equal(b64_decode("-_-_", 4, B64_PAD, &d, &n), -EINVAL);
        assert_int_equal(b64_decode("+/+/", 4, B64_URL, &d, &n), -EINVAL);
        assert_int_equal(b64_decode("Zg==", 4, B64_URL, &d, &n), -EINVAL);
        assert_int_equal(b64_decode("Zg", 2, B64_PAD, &d, &n), -EINVAL);
        assert_int_equal(b64_decode("Zm9vY", 5, B64_URL, &d, &n), -EINVAL);
        assert_int_equal(b64_decode("Zh", 2, B64_URL, &d, &n), -EINVAL);
        assert_int_equal(b64_decode("Zg=a", 4, B64_PAD, &d, &n), -EINVAL);
        assert_int_equal(b64_decode("Z===", 4, B64_PAD, &d, &n), -EINVAL);
        assert_int_equal(b64_decode("Zg==", 4, B64_URL | B64_PAD_OPTIONAL, &d, &n), 0);
        free(d);
}

static void canon_equal(const char *in, const char *expected) {
        json_object *o = json_tokener_parse(in);
        char *out;

        assert_non_null(o);
        assert_int_equal(json_canon(o, &out, NULL), 0);
        assert_string_equal(out, expected);
        free(out);
        json_object_put(o);
}

static void test_jcs(void **state) {
        /* RFC 8785 section 3.2.2 */
        canon_equal("{\n \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n"
                    " \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
                    " \"literals\": [null, true, false]\n}",
                    "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
                    "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
        /* RFC 8785 section 3.2.3: sorting by UTF-16 code units */
        canon_equal("{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew Letter Dalet With Dagesh\","
                    "\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\",\"\\u0080\":\"Control\","
                    "\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}",
                    "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\",\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
                    "\"\xe2\x82\xac\":\"Euro Sign\",\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\",\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
        canon_equal("[1, -0, 100, 1e21, 123456789012, 0.1, 1e-7]", "[1,0,100,1e+21,123456789012,0.1,1e-7]");
        /* the KBS binding, as kbs-protocol.md writes it */
        canon_equal("{\"tee-pubkey\":{\"y\":\"Y\",\"x\":\"X\",\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\"},"
                    "\"nonce\":\"N\",\"additional-evidence\":\"\"}",
                    "{\"additional-evidence\":\"\",\"nonce\":\"N\",\"tee-pubkey\":{\"alg\":\"ECDH-ES+A256KW\",\"crv\":\"P-256\","
                    "\"kty\":\"EC\",\"x\":\"X\",\"y\":\"Y\"}}");
        /* invalid UTF-8 is refused */
        json_object *o = json_object_new_string("\xff");
        char *out;
        assert_int_equal(json_canon(o, &out, NULL), -EINVAL);
        json_object_put(o);
        /* integers: exact up to 2^53; beyond (INT64_MIN included: llabs() of it is undefined and
         * was negative, so it passed the range check) refused */
        canon_equal("[9007199254740992, -9007199254740992]", "[9007199254740992,-9007199254740992]");
        static const int64_t big[] = { INT64_MIN, INT64_MIN + 1, INT64_MAX, (INT64_C(1) << 53) + 1,
                                       -(INT64_C(1) << 53) - 1 };
        for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
                o = json_object_new_int64(big[i]);
                assert_int_equal(json_canon(o, &out, NULL), -EINVAL);
                json_object_put(o);
        }
        o = json_object_new_uint64(UINT64_MAX);
        assert_int_equal(json_canon(o, &out, NULL), -EINVAL);
        json_object_put(o);
}

static void test_binding_hash(void **state) {
        /* the report data is SHA-384 of the JCS bytes: check against an independent computation */
        json_object *jwk = json_tokener_parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\",\"x\":\"X\",\"y\":\"Y\"}");
        static const char canon[] = "{\"additional-evidence\":\"\",\"nonce\":\"N\",\"tee-pubkey\":{\"alg\":\"ECDH-ES+A256KW\","
                                    "\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"X\",\"y\":\"Y\"}}";
        uint8_t rd[48], expected[48];
        unsigned n;

        assert_int_equal(rcar_report_data("N", jwk, "", rd), 0);
        assert_int_equal(EVP_Digest(canon, strlen(canon), expected, &n, EVP_sha384(), NULL), 1);
        assert_memory_equal(rd, expected, 48);
        json_object_put(jwk);
}

static void roundtrip(const char *type, const char *param, JwkAlg alg) {
        EVP_PKEY *priv = EVP_PKEY_Q_keygen(NULL, NULL, type, param), *pub = NULL;
        static const char secret[] = "the volume key is not this";
        json_object *jwk;
        char *jwe, *s;
        uint8_t *pt;
        size_t n;
        JwkAlg a;

        assert_non_null(priv);
        /* through the JWK, as the server receives the key */
        assert_int_equal(jwk_from_pkey(priv, alg, &jwk), 0);
        assert_int_equal(jwk_parse_tee_key(jwk, &pub, &a), 0);
        assert_int_equal(a, alg);
        assert_int_equal(jwe_encrypt(pub, alg, secret, sizeof(secret), &jwe), 0);
        assert_int_equal(jwe_decrypt(priv, jwe, strlen(jwe), 1 << 20, &pt, &n), 0);
        assert_int_equal(n, sizeof(secret));
        assert_memory_equal(pt, secret, n);
        free(pt);

        /* every member changed in one character is refused */
        static const char *const members[] = { "\"protected\":\"", "\"encrypted_key\":\"", "\"iv\":\"", "\"ciphertext\":\"",
                                               "\"tag\":\"" };
        for (size_t i = 0; i < ELEMENTSOF(members); i++) {
                char *t = strdup(jwe), *p = strstr(t, members[i]);
                assert_non_null(p);
                p += strlen(members[i]) + 2;
                *p = *p == 'A' ? 'B' : 'A';
                assert_int_not_equal(jwe_decrypt(priv, t, strlen(t), 1 << 20, &pt, &n), 0);
                free(t);
        }
        /* a ciphertext over the limit */
        assert_int_equal(jwe_decrypt(priv, jwe, strlen(jwe), 8, &pt, &n), -EFBIG);

        /* the wrong key */
        EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, type, param);
        assert_int_not_equal(jwe_decrypt(other, jwe, strlen(jwe), 1 << 20, &pt, &n), 0);
        EVP_PKEY_free(other);

        s = strstr(jwe, "\"protected\"");
        assert_non_null(s);
        free(jwe);
        json_object_put(jwk);
        EVP_PKEY_free(pub);
        EVP_PKEY_free(priv);
}

static void test_jwe(void **state) {
        roundtrip("EC", "P-256", JWK_ALG_ECDH_ES_A256KW);
        roundtrip("EC", "P-521", JWK_ALG_ECDH_ES_A256KW); /* Trustee's kbs/src/jwe/mod.rs takes P-521 too */
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
        assert_non_null(k);
        EVP_PKEY_free(k);
}

/* guest-components' client (kbs_protocol, keypair.rs at 8246e5e0) does not use the received
 * "protected" string as the AES-GCM AAD: it deserialises it into kbs-types' ProtectedHeader and
 * rebuilds it with generate_aad() (virtee/kbs-types src/lib.rs at 900aa8fd: serde_json::to_string of
 * {alg, enc, flattened other_fields}, base64url without padding). other_fields is a serde_json Map:
 * sorted keys without the preserve_order feature, the received order with it. The header must be
 * the same string either way: "alg", "enc", then "epk" with "crv", "kty", "x", "y" (sorted = as
 * Trustee's broker emits them). This rebuilds it by that rule from the parsed members and compares. */
static void test_jwe_generate_aad(void **state) {
        EVP_PKEY *priv = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *pub = NULL;
        json_object *jwk, *jwe_o, *hdr, *epk;
        char *jwe, *rebuilt, *aad;
        uint8_t *raw;
        size_t n;
        JwkAlg a;

        assert_int_equal(jwk_from_pkey(priv, JWK_ALG_ECDH_ES_A256KW, &jwk), 0);
        assert_int_equal(jwk_parse_tee_key(jwk, &pub, &a), 0);
        assert_int_equal(jwe_encrypt(pub, a, "secret", 6, &jwe), 0);
        jwe_o = json_tokener_parse(jwe);
        assert_non_null(jwe_o);
        const char *protected = json_object_get_string(json_object_object_get(jwe_o, "protected"));
        assert_int_equal(b64_decode(protected, strlen(protected), B64_URL, &raw, &n), 0);
        raw = realloc(raw, n + 1);
        raw[n] = 0;
        hdr = json_tokener_parse((char *) raw);
        assert_non_null(hdr);
        assert_true(json_object_object_get_ex(hdr, "epk", &epk));
        assert_int_equal(json_object_object_length(hdr), 3);
        assert_int_equal(json_object_object_length(epk), 4);
        assert_true(asprintf(&rebuilt,
                             "{\"alg\":\"%s\",\"enc\":\"%s\",\"epk\":{\"crv\":\"%s\",\"kty\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}}",
                             json_object_get_string(json_object_object_get(hdr, "alg")),
                             json_object_get_string(json_object_object_get(hdr, "enc")),
                             json_object_get_string(json_object_object_get(epk, "crv")),
                             json_object_get_string(json_object_object_get(epk, "kty")),
                             json_object_get_string(json_object_object_get(epk, "x")),
                             json_object_get_string(json_object_object_get(epk, "y"))) > 0);
        assert_string_equal((char *) raw, rebuilt);
        aad = b64url_encode(rebuilt, strlen(rebuilt));
        assert_non_null(aad);
        assert_string_equal(aad, protected); /* the AAD the client computes is the one we sealed with */
        free(aad);
        free(rebuilt);
        free(raw);
        json_object_put(hdr);
        json_object_put(jwe_o);
        free(jwe);
        json_object_put(jwk);
        EVP_PKEY_free(pub);
        EVP_PKEY_free(priv);
}

static void test_jwe_rsa(void **state) {
        EVP_PKEY *priv = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048), *pub = NULL;
        json_object *jwk;
        char *jwe;
        uint8_t *pt;
        size_t n;
        JwkAlg a;

        assert_int_equal(jwk_from_pkey(priv, JWK_ALG_RSA_OAEP_256, &jwk), 0);
        assert_int_equal(jwk_parse_tee_key(jwk, &pub, &a), 0);
        assert_int_equal(a, JWK_ALG_RSA_OAEP_256);
        assert_int_equal(jwe_encrypt(pub, a, "", 0, &jwe), 0); /* empty plaintext */
        assert_int_equal(jwe_decrypt(priv, jwe, strlen(jwe), 1024, &pt, &n), 0);
        assert_int_equal(n, 0);
        free(pt);
        free(jwe);
        assert_int_equal(jwe_encrypt(pub, JWK_ALG_ECDH_ES_A256KW, "x", 1, &jwe), -EOPNOTSUPP);
        json_object_put(jwk);
        EVP_PKEY_free(pub);
        EVP_PKEY_free(priv);
}

static void test_jwk_refusals(void **state) {
        static const char *const bad[] = {
                "{\"kty\":\"EC\",\"crv\":\"P-384\",\"alg\":\"ECDH-ES+A256KW\",\"x\":\"AA\",\"y\":\"AA\"}",
                "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"RSA-OAEP-256\",\"x\":\"AA\",\"y\":\"AA\"}",
                /* a point not on the curve */
                "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"y\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
                "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"short\",\"y\":\"short\"}",
                "{\"kty\":\"RSA\",\"alg\":\"RSA1_5\",\"n\":\"AQAB\",\"e\":\"AQAB\"}",
                "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", /* 17-bit modulus */
                "{\"kty\":\"oct\",\"k\":\"AA\"}",
                "[]",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                json_object *o = json_tokener_parse(bad[i]);
                EVP_PKEY *k = NULL;
                JwkAlg a;
                assert_int_not_equal(jwk_parse_tee_key(o, &k, &a), 0);
                assert_null(k);
                json_object_put(o);
        }
}

/* RSA moduli: 2048..4096 bits accepted without a primality test (which would cost ~0.5 s per 4096-bit
 * prime, for anyone to ask), larger refused before any big-number work. */
static void test_jwk_rsa_sizes(void **state) {
        static const uint8_t e[] = { 0x01, 0x00, 0x01 };
        static const size_t sizes[] = { 255, 256, 512, 513, 1024 };
        static const bool ok[] = { false, true, true, false, false };

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                _cleanup_free_ uint8_t *n = malloc(sizes[i]);
                EVP_PKEY *k = NULL;

                assert_non_null(n);
                memset(n, 0xc5, sizes[i]); /* top bit set, odd: a modulus of exactly 8 * size bits */
                assert_int_equal(jwk_rsa_from_ne(n, sizes[i], e, sizeof(e), &k) == 0, ok[i]);
                if (ok[i])
                        assert_int_equal(EVP_PKEY_get_bits(k), (int) (8 * sizes[i]));
                EVP_PKEY_free(k);
        }
        (void) state;
}

static void test_tpm_parsers(void **state) {
        /* a minimal quote: magic, type, signer, extra, clock, fw, 1 selection of sha256:0-23, digest */
        uint8_t q[] = { 0xff, 0x54, 0x43, 0x47, 0x80, 0x18, 0x00, 0x02, 0x00, 0x0b, 0x00, 0x03, 1, 2, 3,
                        0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 0, 0, 0, 0, 0, 0, 0, 4,
                        0, 0, 0, 1, 0x00, 0x0b, 3, 0xff, 0xff, 0xff, 0x00, 0x02, 0xaa, 0xbb };
        TpmQuoteInfo info;
        TpmSignature sig;

        assert_int_equal(tpm_quote_info_parse(q, sizeof(q), &info), 0);
        assert_int_equal(info.extra_size, 3);
        assert_int_equal(info.clock, 1);
        assert_int_equal(info.n_selections, 1);
        assert_int_equal(info.pcr_digest_size, 2);
        for (size_t n = 0; n < sizeof(q); n++) /* every truncation */
                assert_int_not_equal(tpm_quote_info_parse(q, n, &info), 0);
        q[4] = 0x80, q[5] = 0x17; /* not a quote */
        assert_int_equal(tpm_quote_info_parse(q, sizeof(q), &info), -EBADMSG);

        uint8_t s[] = { 0x00, 0x14, 0x00, 0x0b, 0x00, 0x02, 0x12, 0x34 };
        assert_int_equal(tpm_signature_parse(s, sizeof(s), &sig), 0);
        assert_int_equal(sig.sig_size, 2);
        s[1] = 0x99;
        assert_int_equal(tpm_signature_parse(s, sizeof(s), &sig), -EOPNOTSUPP);
        uint8_t e[] = { 0x00, 0x18, 0x00, 0x0b, 0x00, 0x01, 0x01, 0x00, 0x01, 0x02 };
        assert_int_equal(tpm_signature_parse(e, sizeof(e), &sig), 0);
        assert_int_equal(sig.s_size, 1);
        assert_int_not_equal(tpm_signature_parse(e, sizeof(e) - 1, &sig), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_b64),         cmocka_unit_test(test_jcs),
                cmocka_unit_test(test_binding_hash), cmocka_unit_test(test_jwe),
                cmocka_unit_test(test_jwe_rsa),      cmocka_unit_test(test_jwe_generate_aad),      cmocka_unit_test(test_jwk_refusals),
                cmocka_unit_test(test_tpm_parsers), cmocka_unit_test(test_jwk_rsa_sizes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
