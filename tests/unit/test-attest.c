/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The attestation client's pure parts: JWE decryption of tokens made at run time by independent
 * implementations (the jose CLI and python3-jwcrypto) for each algorithm, and refusal of each tampered
 * member and of the wrong key; the runtime-data binding hash; the response parsers on malformed,
 * truncated, oversized and wrong-typed replies; the attestation configuration keys. */

#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "attest.h"
#include "attest-key.h"
#include "attest-proto.h"
#include "b64.h"
#include "config.h"
#include "hash.h"
#include "jwe.h"
#include "jwk.h"
#include "log.h"
#include "rcar.h"
#include "util.h"

#define PY "/usr/bin/python3"

/* ---- JWE interoperability ---- */

static char tmpdir[] = "/tmp/test-attest.XXXXXX";

static int write_file(const char *path, const void *p, size_t n) {
        FILE *f = fopen(path, "we");
        if (!f)
                return -errno;
        fwrite(p, 1, n, f);
        return fclose(f) == 0 ? 0 : -EIO;
}

/* Runs cmd, returns its stdout (NULL on failure or when the tool is missing). */
static char *run(const char *cmd) {
        char *out = NULL;
        size_t n = 0;
        FILE *f = popen(cmd, "r");
        if (!f)
                return NULL;
        if (getdelim(&out, &n, '\0', f) < 0)
                out = mfree(out);
        if (pclose(f) != 0)
                out = mfree(out);
        return out ? strip_trailing_newlines(out) : NULL;
}

/* Compact serialization (h.ek.iv.ct.tag) to the flattened JSON the KBS protocol sends. */
static char *compact_to_flat(const char *compact) {
        char *parts[5] = {}, *copy = strdup(compact), *p = copy, *ret = NULL;
        for (int i = 0; i < 5; i++)
                parts[i] = strsep(&p, ".");
        if (parts[4] && !p)
                assert_true(asprintf(&ret,
                                     "{\"protected\":\"%s\",\"encrypted_key\":\"%s\",\"iv\":\"%s\",\"ciphertext\":\"%s\",\"tag\":\"%s\"}",
                                     parts[0], parts[1], parts[2], parts[3], parts[4]) > 0);
        free(copy);
        return ret;
}

typedef enum Tool { TOOL_JOSE, TOOL_JWCRYPTO } Tool;

static char *encrypt_with(Tool tool, json_object *pub_jwk, const uint8_t *pt, size_t n) {
        _cleanup_free_ char *jwk_path = NULL, *pt_path = NULL, *cmd = NULL, *compact = NULL;
        const char *alg = json_object_get_string(json_object_object_get(pub_jwk, "alg"));
        const char *s = json_object_to_json_string_ext(pub_jwk, JSON_C_TO_STRING_PLAIN);

        assert_true(asprintf(&jwk_path, "%s/key.jwk", tmpdir) > 0);
        assert_true(asprintf(&pt_path, "%s/plain", tmpdir) > 0);
        assert_int_equal(write_file(jwk_path, s, strlen(s)), 0);
        assert_int_equal(write_file(pt_path, pt, n), 0);
        if (tool == TOOL_JOSE)
                assert_true(asprintf(&cmd,
                                     "jose jwe enc -c -I %s -k %s -i '{\"protected\":{\"alg\":\"%s\",\"enc\":\"A256GCM\"}}' 2>/dev/null",
                                     pt_path, jwk_path, alg) > 0);
        else
                assert_true(asprintf(&cmd,
                                     PY " -c 'import sys, json\n"
                                     "from jwcrypto import jwk, jwe\n"
                                     "k = jwk.JWK(**json.load(open(sys.argv[1])))\n"
                                     "t = jwe.JWE(open(sys.argv[2], \"rb\").read(), protected=json.dumps({\"alg\": sys.argv[3], \"enc\": \"A256GCM\"}))\n"
                                     "t.add_recipient(k)\n"
                                     "print(t.serialize(compact=True))' %s %s %s 2>/dev/null",
                                     jwk_path, pt_path, alg) > 0);
        compact = run(cmd);
        if (!compact)
                return NULL;
        return compact_to_flat(compact);
}

static bool have_tool(Tool t) {
        return system(t == TOOL_JOSE ? "command -v jose >/dev/null 2>&1" :
                                       PY " -c 'import jwcrypto' >/dev/null 2>&1") == 0;
}

/* Replaces member name's base64url value in a flattened JWE by f(value). */
static char *tamper_member(const char *jwe, const char *name, void (*f)(uint8_t *p, size_t n, void *u), void *u) {
        _cleanup_json_ json_object *o = json_tokener_parse(jwe);
        _cleanup_free_ uint8_t *raw = NULL;
        _cleanup_free_ char *enc = NULL;
        const char *v;
        size_t n;

        assert_non_null(o);
        v = json_object_get_string(json_object_object_get(o, name));
        assert_non_null(v);
        assert_int_equal(b64_decode(v, strlen(v), B64_URL, &raw, &n), 0);
        f(raw, n, u);
        enc = b64url_encode(raw, n);
        json_object_object_add(o, name, json_object_new_string(enc));
        return strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

static void flip_last(uint8_t *p, size_t n, void *u) {
        if (n > 0)
                p[n - 1] ^= 0x01;
}

/* A header that no longer parses. */
static void header_change(uint8_t *p, size_t n, void *u) {
        for (size_t i = 0; i < n; i++)
                if (p[i] == '{') {
                        p[i] = ' ';  /* invalid JSON: "{" gone */
                        break;
                }
}

static void test_jwe_interop_one(Tool tool, AttestKeyType type) {
        _cleanup_pkey_ EVP_PKEY *key = NULL, *other = NULL;
        _cleanup_json_ json_object *jwk = NULL, *jwk2 = NULL;
        _cleanup_free_ char *jwe = NULL;
        uint8_t pt[77], *out = NULL;
        size_t out_size = 0;
        const char *members[] = { "tag", "ciphertext", "encrypted_key", "iv" };

        if (!have_tool(tool)) {
                print_message("%s missing, skipping\n", tool == TOOL_JOSE ? "jose" : "python3-jwcrypto");
                skip();
        }
        /* Debian 12's jose (11) has no RSA-OAEP-256 (`jose alg -k wrap` lists RSA1_5 only). */
        if (tool == TOOL_JOSE && type == ATTEST_KEY_RSA &&
            system("jose alg -k wrap 2>/dev/null | grep -qx RSA-OAEP-256") != 0) {
                print_message("this jose has no RSA-OAEP-256, skipping\n");
                skip();
        }
        assert_int_equal(getrandom(pt, sizeof(pt), 0), (ssize_t) sizeof(pt));
        assert_int_equal(attest_key_new(type, &key, &jwk), 0);
        jwe = encrypt_with(tool, jwk, pt, sizeof(pt));
        assert_non_null(jwe);

        /* decrypts to the plaintext */
        assert_int_equal(jwe_decrypt(key, jwe, strlen(jwe), 4096, &out, &out_size), 0);
        assert_int_equal(out_size, sizeof(pt));
        assert_memory_equal(out, pt, sizeof(pt));
        free(out);
        out = NULL;

        /* each member changed: refused */
        for (size_t i = 0; i < ELEMENTSOF(members); i++) {
                _cleanup_free_ char *t = tamper_member(jwe, members[i], flip_last, NULL);
                assert_true(jwe_decrypt(key, t, strlen(t), 4096, &out, &out_size) < 0);
                assert_null(out);
        }
        /* the protected header: a change the JSON survives (a member added) breaks the AAD */
        {
                _cleanup_json_ json_object *o = json_tokener_parse(jwe), *h = NULL;
                _cleanup_free_ uint8_t *raw = NULL;
                _cleanup_free_ char *enc = NULL;
                const char *v = json_object_get_string(json_object_object_get(o, "protected"));
                const char *hs;
                size_t n;

                assert_int_equal(b64_decode(v, strlen(v), B64_URL, &raw, &n), 0);
                h = json_tokener_parse((const char *) raw);
                assert_non_null(h);
                json_object_object_add(h, "kid", json_object_new_string("x"));
                hs = json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN);
                enc = b64url_encode(hs, strlen(hs));
                json_object_object_add(o, "protected", json_object_new_string(enc));
                hs = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
                assert_int_equal(jwe_decrypt(key, hs, strlen(hs), 4096, &out, &out_size), -EBADMSG);
        }
        {
                _cleanup_free_ char *t = tamper_member(jwe, "protected", header_change, NULL);
                assert_true(jwe_decrypt(key, t, strlen(t), 4096, &out, &out_size) < 0);
        }
        /* another key of the same type: refused */
        assert_int_equal(attest_key_new(type, &other, &jwk2), 0);
        assert_true(jwe_decrypt(other, jwe, strlen(jwe), 4096, &out, &out_size) < 0);
        assert_null(out);
        /* a plaintext over the limit: refused */
        assert_true(jwe_decrypt(key, jwe, strlen(jwe), 16, &out, &out_size) < 0);
}

static void test_jwe_jose_ec(void **state) {
        test_jwe_interop_one(TOOL_JOSE, ATTEST_KEY_EC);
}
static void test_jwe_jose_rsa(void **state) {
        test_jwe_interop_one(TOOL_JOSE, ATTEST_KEY_RSA);
}
static void test_jwe_jwcrypto_ec(void **state) {
        test_jwe_interop_one(TOOL_JWCRYPTO, ATTEST_KEY_EC);
}
static void test_jwe_jwcrypto_rsa(void **state) {
        test_jwe_interop_one(TOOL_JWCRYPTO, ATTEST_KEY_RSA);
}

/* ---- the binding ---- */

static void test_report_data(void **state) {
        /* A known nonce and key: the exact JCS bytes kbs-protocol.md gives, hashed independently. */
        const char *nonce = "q0X9y2vBvKf2T0Zp3m6qF4m8x5u6W2pQ9t3yZxLk1aE=";
        const char *x = "GvCyQD1n9UzJNeLxYRCTCY0VHQUjPPpJC_9sTpSyyrA", *y = "IJ8jsyE-SBAfLu95R1WO8E_c_K92_tMOm5oC8bVqGN4";
        _cleanup_json_ json_object *jwk = json_object_new_object();
        _cleanup_free_ char *expect = NULL;
        uint8_t rd[RCAR_REPORT_DATA_SIZE], rd2[RCAR_REPORT_DATA_SIZE];
        Digest d;

        /* member order in the object does not matter: JCS sorts */
        json_object_object_add(jwk, "y", json_object_new_string(y));
        json_object_object_add(jwk, "x", json_object_new_string(x));
        json_object_object_add(jwk, "kty", json_object_new_string("EC"));
        json_object_object_add(jwk, "crv", json_object_new_string("P-256"));
        json_object_object_add(jwk, "alg", json_object_new_string("ECDH-ES+A256KW"));
        assert_true(asprintf(&expect,
                             "{\"additional-evidence\":\"\",\"nonce\":\"%s\",\"tee-pubkey\":{\"alg\":\"ECDH-ES+A256KW\",\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}}",
                             nonce, x, y) > 0);
        assert_int_equal(hash_buffer(HASH_SHA384, expect, strlen(expect), &d), 0);
        assert_int_equal(rcar_report_data(nonce, jwk, "", rd), 0);
        assert_memory_equal(rd, d.bytes, RCAR_REPORT_DATA_SIZE);

        /* another nonce, another binding */
        assert_int_equal(rcar_report_data("AAAA", jwk, "", rd2), 0);
        assert_memory_not_equal(rd, rd2, RCAR_REPORT_DATA_SIZE);
}

/* ---- parsers ---- */

static void test_challenge(void **state) {
        const char *good = "{\"nonce\":\"q0X9y2vBvKf2T0Zp3m6qF4m8x5u6W2pQ9t3yZxLk1aE=\",\"extra-params\":\"\"}";
        AttestChallenge ch = {};
        const char *reason = NULL;
        _cleanup_free_ char *big = NULL;

        assert_int_equal(attest_proto_parse_challenge(good, strlen(good), &ch, &reason), 0);
        assert_string_equal(ch.nonce, "q0X9y2vBvKf2T0Zp3m6qF4m8x5u6W2pQ9t3yZxLk1aE=");
        assert_string_equal(ch.extra_params, "");
        attest_challenge_done(&ch);

        {
                const char *obj = "{\"nonce\":\"abc\",\"extra-params\":{\"credential_blob\":\"x\"},\"future\":1}";
                assert_int_equal(attest_proto_parse_challenge(obj, strlen(obj), &ch, &reason), 0);
                assert_string_equal(ch.extra_params, "{\"credential_blob\":\"x\"}");
                attest_challenge_done(&ch);
        }

        /* every truncation refused */
        for (size_t n = 0; n < strlen(good); n++)
                assert_int_equal(attest_proto_parse_challenge(good, n, &ch, &reason), n == 0 ? -EBADMSG : -EBADMSG);

        static const char *const bad[] = {
                "", "null", "[]", "\"nonce\"", "{}", "{\"nonce\":1}", "{\"nonce\":null}", "{\"nonce\":[\"a\"]}",
                "{\"nonce\":{}}", "{\"nonce\":\"\"}", "{\"nonce\":\"a b\"}", "{\"nonce\":\"a\\u0000b\"}",
                "{\"nonce\":\"abc\",\"extra-params\":5}", "{\"nonce\":\"abc\",\"extra-params\":[1]}",
                "{\"nonce\":\"abc\"} x", "{\"nonce\":\"abc\"}{}", "{\"nonce\":'abc'}", "{nonce:\"abc\"}",
                "{\"nonce\":\"abc\",}", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                reason = NULL;
                assert_true(attest_proto_parse_challenge(bad[i], strlen(bad[i]), &ch, &reason) < 0);
                assert_non_null(reason);
                assert_null(ch.nonce);
        }
        /* NUL inside the body */
        assert_true(attest_proto_parse_challenge("{\"nonce\":\"a\"}\0", 14, &ch, &reason) < 0);

        /* a nonce over the limit, and a body over the response limit */
        big = malloc(ATTEST_RESPONSE_MAX + 64);
        assert_non_null(big);
        memset(big, 'A', ATTEST_RESPONSE_MAX + 63);
        memcpy(big, "{\"nonce\":\"", 10);
        memcpy(big + 10 + ATTEST_NONCE_MAX + 1, "\"}", 3);
        assert_int_equal(attest_proto_parse_challenge(big, strlen(big), &ch, &reason), -EBADMSG);
        memcpy(big + 10 + ATTEST_NONCE_MAX + 1, "AAA", 3);
        memcpy(big + ATTEST_RESPONSE_MAX + 10, "\"}", 3);
        assert_int_equal(attest_proto_parse_challenge(big, strlen(big), &ch, &reason), -EFBIG);
}

static void test_token(void **state) {
        _cleanup_free_ char *t = NULL;
        const char *reason;
        const char *good = "{\"token\":\"eyJhbGciOiJFUzI1NiJ9.eyJ0ZWUiOiJ0cG0ifQ.c2ln\"}";
        static const char *const bad[] = {
                "{}", "{\"token\":1}", "{\"token\":\"a.b\"}", "{\"token\":\"a.b.c.d\"}", "{\"token\":\"a.b.c d\"}",
                "{\"token\":\"\"}", "{\"token\":null}", "[\"a.b.c\"]", "not json",
        };

        assert_int_equal(attest_proto_parse_token(good, strlen(good), &t, &reason), 0);
        assert_string_equal(t, "eyJhbGciOiJFUzI1NiJ9.eyJ0ZWUiOiJ0cG0ifQ.c2ln");
        for (size_t n = 0; n < strlen(good); n++) {
                char *x = NULL;
                assert_true(attest_proto_parse_token(good, n, &x, &reason) < 0);
                assert_null(x);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *x = NULL;
                assert_true(attest_proto_parse_token(bad[i], strlen(bad[i]), &x, &reason) < 0);
                assert_null(x);
        }
}

static void test_cookie(void **state) {
        _cleanup_free_ char *c = NULL, *longid = NULL;
        char *x = NULL;

        assert_int_equal(attest_proto_parse_set_cookie("kbs-session-id=0123abcd; Path=/kbs/v0; HttpOnly", &c), 0);
        assert_string_equal(c, "kbs-session-id=0123abcd");
        assert_int_equal(attest_proto_parse_set_cookie(NULL, &x), -ENOENT);
        assert_int_equal(attest_proto_parse_set_cookie("other=1", &x), -ENOENT);
        assert_int_equal(attest_proto_parse_set_cookie("kbs-session-id=; Path=/", &x), -EBADMSG);
        assert_int_equal(attest_proto_parse_set_cookie("kbs-session-id=a b", &x), -EBADMSG);
        assert_int_equal(attest_proto_parse_set_cookie("kbs-session-id=a\r\nX: y", &x), -EBADMSG);
        longid = malloc(ATTEST_SESSION_ID_MAX + 32);
        strcpy(longid, "kbs-session-id=");
        memset(longid + 15, 'a', ATTEST_SESSION_ID_MAX + 1);
        longid[15 + ATTEST_SESSION_ID_MAX + 1] = '\0';
        assert_int_equal(attest_proto_parse_set_cookie(longid, &x), -EBADMSG);
        assert_null(x);
}

static void test_error_message(void **state) {
        const char *e = "{\"type\":\"https://github.com/confidential-containers/kbs/errors/PolicyDeny\",\"detail\":\"PCR 11 \\u001b[31m\"}";
        _cleanup_free_ char *m = attest_proto_error_message(e, strlen(e));

        assert_non_null(m);
        assert_string_equal(m, "PolicyDeny: PCR 11 ?[31m"); /* control characters do not reach the log */
        assert_null(attest_proto_error_message("nope", 4));
        assert_null(attest_proto_error_message("{\"type\":3}", 10));
        assert_null(attest_proto_error_message(NULL, 0));
}

static void test_paths(void **state) {
        assert_true(attest_proto_resource_path_valid("default/key/disk"));
        assert_true(attest_proto_resource_path_valid("a.b/c-d/e_f"));
        static const char *const bad[] = { "", "a", "a/b", "a/b/c/d", "a//c", "/a/b/c", "a/b/c/", "a/../c", "./b/c",
                                           "a/b/..", "a b/c/d", "a/b/c?x", "a/b/%2e" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_false(attest_proto_resource_path_valid(bad[i]));
        assert_true(attest_proto_secret_name_valid("disk-key.bin"));
        assert_false(attest_proto_secret_name_valid(".hidden"));
        assert_false(attest_proto_secret_name_valid("a/b"));
        assert_false(attest_proto_secret_name_valid(""));
        assert_false(attest_proto_secret_name_valid(".."));
}

static void test_requests(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
        _cleanup_json_ json_object *jwk = json_tokener_parse("{\"kty\":\"EC\"}");

        assert_int_equal(attest_proto_auth_request("tpm", NULL, &a), 0);
        assert_string_equal(a, "{\"version\":\"0.4.0\",\"tee\":\"tpm\",\"extra-params\":{}}");
        assert_int_equal(attest_proto_auth_request("svsm-vtpm", "{\"ek_public\":\"AA\"}", &b), 0);
        assert_string_equal(b, "{\"version\":\"0.4.0\",\"tee\":\"svsm-vtpm\",\"extra-params\":{\"ek_public\":\"AA\"}}");
        assert_int_equal(attest_proto_auth_request("tpm", "[1]", &c), -EINVAL);
        assert_int_equal(attest_proto_attest_request("n", jwk, "{\"q\":1}", &c), 0);
        assert_string_equal(c, "{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":{\"kty\":\"EC\"}},\"tee-evidence\":{\"primary_evidence\":{\"q\":1},\"additional_evidence\":\"\"}}");
}

/* ---- configuration ---- */

static void test_config(void **state) {
        Config c;
        char text[4096] = "";

        assert_int_equal(config_init(&c), 0);
        assert_int_equal(c.attest, ATTEST_OFF);
        assert_int_equal(c.attest_pcrs, 0xFFFFFF); /* all 24: Trustee hashes every PCR the evidence carries */
        assert_int_equal(config_parse_text(&c,
                                           "attest = required\nkbs-url = https://kbs.example:8080\n"
                                           "secret.Disk_Key = default/key/disk\nattest-pcrs = 0,2,4-7,23\n"
                                           "kbs-pin = sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
                                           "t"),
                         0);
        assert_int_equal(c.attest, ATTEST_REQUIRED);
        assert_int_equal(c.attest_pcrs, (1U << 0) | (1U << 2) | 0xF0U | (1U << 23));
        assert_int_equal(c.n_secrets, 1);
        assert_string_equal(c.secrets[0].name, "Disk_Key");
        /* the command line overrides a secret of the same name, adds others */
        assert_int_equal(config_parse_cmdline(&c, "ephroot.secret.Disk_Key=r/t/x ephroot.secret.b=r/t/y"), 0);
        assert_int_equal(c.n_secrets, 2);
        assert_string_equal(c.secrets[0].resource, "r/t/x");
        config_done(&c);

        static const char *const bad[] = {
                "attest = maybe\n", "kbs-url = ftp://x\n", "kbs-url = http://a b\n", "attest-pcrs = 24\n",
                "attest-pcrs = 5-3\n", "attest-pcrs = 1,,2\n", "attest-tee = sgx\n", "kbs-pin = sha1//abc\n",
                "kbs-pin = sha256//short\n", "secret.a = x/y\n", "secret.a = x/../y\n", "secret..a = x/y/z\n",
                "secret.a/b = x/y/z\n", "secret.a = x/y/z\nsecret.a = x/y/w\n", "kbs-ca-file = relative.pem\n",
                "attest-timeout = 0\n", "kbs-retries = 11\n", "attest = required\nattest = off\n",
                "attest-ak-type = dsa\n", "attest-key = x25519\n", "attest-ak-hierarchy = platform\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(config_init(&c), 0);
                assert_true(config_parse_text(&c, bad[i], "t") < 0);
                config_done(&c);
        }
        /* bounded count */
        for (unsigned i = 0; i <= CONFIG_SECRETS_MAX; i++) {
                char line[64];
                snprintf(line, sizeof(line), "secret.s%u = r/t/%u\n", i, i);
                strcat(text, line);
        }
        assert_int_equal(config_init(&c), 0);
        assert_int_equal(config_parse_text(&c, text, "t"), -E2BIG);
        config_done(&c);
}

/* A plain-HTTP kbs-url is refused before any request unless kbs-insecure=yes says so; the two keys may
 * come from different sources (file, command line). */
static void test_config_insecure(void **state) {
        Config c;

        assert_int_equal(config_init(&c), 0);
        assert_false(c.kbs_insecure);
        assert_int_equal(config_parse_text(&c, "attest = required\nkbs-url = http://127.0.0.1:8080\n", "t"), 0);
        assert_int_equal(attest_check_config(&c), -EPERM);
        assert_int_equal(config_parse_cmdline(&c, "ephroot.kbs-insecure=yes"), 0);
        assert_true(c.kbs_insecure);
        assert_int_equal(attest_check_config(&c), 0);
        assert_int_equal(config_parse_cmdline(&c, "ephroot.kbs-insecure=no"), 0);
        assert_int_equal(attest_check_config(&c), -EPERM);
        /* https needs no opt-in */
        assert_int_equal(config_parse_cmdline(&c, "ephroot.kbs-url=https://kbs.example"), 0);
        assert_int_equal(attest_check_config(&c), 0);
        config_done(&c);

        assert_int_equal(config_init(&c), 0);
        assert_true(config_parse_text(&c, "kbs-insecure = perhaps\n", "t") < 0);
        config_done(&c);

        /* several brokers: commas (or blanks in the file), stored joined by commas; each one checked */
        assert_int_equal(config_init(&c), 0);
        assert_int_equal(config_parse_text(&c, "attest = required\nkbs-url = https://a.example/, https://b.example:8443\n", "t"), 0);
        assert_string_equal(c.kbs_url, "https://a.example/,https://b.example:8443");
        assert_int_equal(attest_check_config(&c), 0);
        assert_int_equal(config_parse_cmdline(&c, "ephroot.kbs-url=https://a.example,http://b.example"), 0);
        assert_string_equal(c.kbs_url, "https://a.example,http://b.example");
        assert_int_equal(attest_check_config(&c), -EPERM); /* the second is plain HTTP */
        config_done(&c);
        static const char *const bad_lists[] = {
                "kbs-url = ,\n", "kbs-url = https://a.example,ftp://b\n", "kbs-url = https://a.example,https://b?x\n",
                "kbs-url = https://1,https://2,https://3,https://4,https://5,https://6,https://7,https://8,https://9\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_lists); i++) {
                assert_int_equal(config_init(&c), 0);
                assert_true(config_parse_text(&c, bad_lists[i], "t") < 0);
                config_done(&c);
        }

        /* eight is the bound; empty items are dropped; a bad list leaves the previous value as it was */
        assert_int_equal(config_init(&c), 0);
        assert_int_equal(config_parse_text(&c, "kbs-url = https://1,https://2,https://3,https://4,"
                                               "https://5,https://6,https://7,https://8\n", "t"), 0);
        assert_int_equal(config_parse_cmdline(&c, "ephroot.kbs-url=,https://a.example,,https://b.example,"), 0);
        assert_string_equal(c.kbs_url, "https://a.example,https://b.example");
        static const char *const bad_items[] = {
                "ephroot.kbs-url=https://a.example,https://b#frag", "ephroot.kbs-url=,,",
                "ephroot.kbs-url=https://a.example,file:///etc/passwd", "ephroot.kbs-url=https://a.example,b.example",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_items); i++) {
                assert_true(config_parse_cmdline(&c, bad_items[i]) < 0);
                assert_string_equal(c.kbs_url, "https://a.example,https://b.example");
        }
        config_done(&c);

        /* one URL longer than 1024 characters, in a list */
        _cleanup_free_ char *long_url = malloc(1100), *line = NULL;
        assert_non_null(long_url);
        memset(long_url, 'a', 1099);
        long_url[1099] = '\0';
        memcpy(long_url, "https://", 8);
        assert_true(asprintf(&line, "kbs-url = https://a.example,%s\n", long_url) > 0);
        assert_int_equal(config_init(&c), 0);
        assert_true(config_parse_text(&c, line, "t") < 0);
        config_done(&c);
}

static int group_setup(void **state) {
        log_set_max_level(LOG_CRIT);
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_jwe_jose_ec),
                cmocka_unit_test(test_jwe_jose_rsa),
                cmocka_unit_test(test_jwe_jwcrypto_ec),
                cmocka_unit_test(test_jwe_jwcrypto_rsa),
                cmocka_unit_test(test_report_data),
                cmocka_unit_test(test_challenge),
                cmocka_unit_test(test_token),
                cmocka_unit_test(test_cookie),
                cmocka_unit_test(test_error_message),
                cmocka_unit_test(test_paths),
                cmocka_unit_test(test_requests),
                cmocka_unit_test(test_config),
                cmocka_unit_test(test_config_insecure),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
