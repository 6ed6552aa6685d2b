/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The server's configuration and policy parsers (each kind of bad input refused), policy evaluation,
 * resource release patterns, the protocol's request parsers, and the session table (single use,
 * expiry, bound). */

#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "b64.h"
#include "kbs-config.h"
#include "util.h"
#include "kbs-policy.h"
#include "kbs-protocol.h"
#include "kbs-session.h"
#include "kbs-verifier.h"
#include "log.h"

static int config_text(const char *t) {
        KbsConfig c;
        int r;

        kbs_config_init(&c);
        r = kbs_config_parse(&c, t, strlen(t), "test");
        kbs_config_done(&c);
        return r;
}

static void test_config(void **state) {
        KbsConfig c;
        static const char good[] = "{\"port\":0,\"insecure_http\":true,\"resource_dir\":\"/r\",\"policy\":\"/p\","
                                   "\"session_timeout\":5,\"session_key_file\":\"/k\",\"token_key_file\":\"/t\"}";

        kbs_config_init(&c);
        assert_int_equal(kbs_config_parse(&c, good, strlen(good), "test"), 0);
        assert_string_equal(c.address, "127.0.0.1");
        assert_int_equal(c.session_timeout, 5);
        assert_string_equal(c.session_key_file, "/k");
        assert_string_equal(c.token_key_file, "/t");
        kbs_config_done(&c);

        static const char *const bad[] = {
                "", "[]", "{", "{\"resource_dir\":\"/r\",\"policy\":\"/p\"}", /* neither TLS nor insecure_http */
                "{\"insecure_http\":true,\"policy\":\"/p\"}",                 /* no resource_dir */
                "{\"insecure_http\":true,\"resource_dir\":\"/r\"}",           /* no policy */
                "{\"insecure_http\":true,\"resource_dir\":\"r\",\"policy\":\"/p\"}", /* relative */
                "{\"insecure_http\":\"yes\",\"resource_dir\":\"/r\",\"policy\":\"/p\"}",
                "{\"insecure_http\":true,\"resource_dir\":\"/r\",\"policy\":\"/p\",\"port\":70000}",
                "{\"insecure_http\":true,\"resource_dir\":\"/r\",\"policy\":\"/p\",\"port\":\"80\"}",
                "{\"insecure_http\":true,\"resource_dir\":\"/r\",\"policy\":\"/p\",\"session_timeout\":0}",
                "{\"insecure_http\":true,\"resource_dir\":\"/r\",\"policy\":\"/p\",\"max_request_size\":10}",
                "{\"insecure_http\":true,\"resource_dir\":\"/r\",\"policy\":\"/p\",\"tls_certificate\":\"/c\"}",
                "{\"insecure_http\":true,\"resource_dir\":\"/r\",\"policy\":\"/p\",\"tls_certificate\":\"/c\",\"tls_private_key\":\"/k\"}",
                "{\"insecure_http\":true,\"resource_dir\":\"/r\",\"policy\":\"/p\",\"listen\":\"x\"}", /* unknown key */
                "{\"insecure_http\":true,\"resource_dir\":\"/r\",\"policy\":\"/p\"} trailing",
                "{\"insecure_http\":true,\"resource_dir\":\"/r\",\"policy\":\"/p\",\"session_key_file\":\"k\"}", /* relative */
                "{\"insecure_http\":true,\"resource_dir\":\"/r\",\"policy\":\"/p\",\"max_sessions\":3}", /* gone: no table */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_not_equal(config_text(bad[i]), 0);
}

static int policy_text(const char *t, KbsPolicySet *s) {
        *s = (KbsPolicySet) {};
        return kbs_policy_parse(s, t, strlen(t), "test");
}

#define AK_B64 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExBGmdpNMQVU59h+XSfwcx+en2dQ59PalPlKV9tNsZWOWiMbeK04q700hWc0z5QbAaRJxc15JPqq7e8+PqiPJeA=="
#define PCR11 "ed6ca932b941183dfa5867addaf9b70a9b5dd68632eaa738248a57854070dac2"

static void unhex_pcr(const char *hex, uint8_t out[32]) {
        void *b;
        size_t n;
        assert_int_equal(unhexmem(hex, &b, &n), 0);
        assert_int_equal(n, 32);
        memcpy(out, b, 32);
        free(b);
}

/* Every policy pins something: az-snp-vtpm and az-tdx-vtpm need PCRs (a launch measurement or an
 * unverified-quote opt-in is not enough: the paravisor's is the same for every Azure CVM), tpm needs
 * trusted AKs, svsm-vtpm launch measurements. Each refused policy loads once the missing pin is added. */
static void test_policy_minimums(void **state) {
#define MEAS "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001"
#define PIN_PCRS ",\"pcrs\":{\"sha256\":{\"11\":\"" PCR11 "\"}}"
        static const struct {
                const char *policy, *pin;
        } cases[] = {
                { "\"tee\":[\"az-snp-vtpm\"],\"resources\":[\"*/*/*\"]", PIN_PCRS },
                { "\"tee\":[\"az-tdx-vtpm\"],\"resources\":[\"*/*/*\"]", PIN_PCRS },
                { "\"tee\":[\"az-snp-vtpm\"],\"snp_measurements\":[\"" MEAS "\"]", PIN_PCRS },
                { "\"tee\":[\"az-tdx-vtpm\"],\"accept_unverified_td_quote\":true", PIN_PCRS },
                { "\"tee\":[\"az-snp-vtpm\"],\"pcrs\":{\"sha256\":{}}", PIN_PCRS },
                { "\"tee\":[\"tpm\",\"az-snp-vtpm\"],\"trusted_aks\":[\"" AK_B64 "\"]", PIN_PCRS },
                { "\"tee\":[\"svsm-vtpm\"]" PIN_PCRS, ",\"snp_measurements\":[\"" MEAS "\"]" },
                { "\"tee\":[\"tpm\"]" PIN_PCRS, ",\"trusted_aks\":[\"" AK_B64 "\"]" },
        };
        KbsPolicySet s;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *bare = NULL, *pinned = NULL;

                assert_true(asprintf(&bare, "{\"policies\":[{\"name\":\"p\",%s}]}", cases[i].policy) > 0);
                assert_true(asprintf(&pinned, "{\"policies\":[{\"name\":\"p\",%s%s}]}", cases[i].policy, cases[i].pin) > 0);
                if (policy_text(bare, &s) != -EINVAL)
                        fail_msg("policy %zu loaded without its pin: %s", i, bare);
                kbs_policy_set_done(&s);
                assert_int_equal(policy_text(pinned, &s), 0);
                kbs_policy_set_done(&s);
        }
        (void) state;
#undef MEAS
#undef PIN_PCRS
}

static void test_policy(void **state) {
        /* `ephroot predict --json` output as is, in the pcrs member */
        static const char good[] =
                "{\"amd_roots\":[\"/x/milan.pem\"],\"policies\":["
                "{\"name\":\"a\",\"tee\":[\"tpm\"],\"trusted_aks\":[\"" AK_B64 "\"],"
                " \"pcrs\":{\"pcrs\":{\"sha1\":{\"11\":\"1564c1723551ed2ac52636ba2163c0c246c692e0\"},\"sha256\":{\"11\":\"" PCR11 "\"}}},"
                " \"resources\":[\"default/key/disk\",\"other/*/x\"]},"
                "{\"name\":\"b\",\"tee\":[\"az-snp-vtpm\",\"az-tdx-vtpm\"],\"accept_unverified_td_quote\":true,"
                " \"pcrs\":{\"sha256\":{\"11\":\"" PCR11 "\"}},"
                " \"snp_measurements\":[\"" "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001" "\"],"
                " \"resources\":[\"*/*/*\"]}]}";
        KbsPolicySet s;
        KbsClaims c = { .tee = KBS_TEE_TPM, .have_pcrs = true, .pcr_mask = 0xFFFFFF }; /* as from a quote of all 24 */
        uint64_t mask;
        const char *reason;

        assert_int_equal(policy_text(good, &s), 0);
        assert_int_equal(s.n, 2);
        assert_int_equal(s.policies[0].pcr_mask, 1U << 11);
        assert_int_equal(s.n_amd_root_files, 1);

        /* tpm: AK and PCR 11 decide */
        void *b;
        size_t n;
        assert_int_equal(unhexmem(PCR11, &b, &n), 0);
        memcpy(c.pcrs[11], b, 32);
        free(b);
        assert_int_equal(kbs_policy_evaluate(&s, &c, &mask, &reason), -EACCES);
        assert_string_equal(reason, "AK is not trusted by the policy");
        /* the trusted AK, by its DER bytes */
        uint8_t *der;
        assert_int_equal(b64_decode(AK_B64, strlen(AK_B64), B64_PAD, &der, &c.ak_der_size), 0);
        c.ak_der = der;
        assert_int_equal(kbs_policy_evaluate(&s, &c, &mask, &reason), 0);
        assert_int_equal(mask, 1);
        assert_true(kbs_policy_releases(&s, mask, "default", "key", "disk"));
        assert_true(kbs_policy_releases(&s, mask, "other", "anything", "x"));
        assert_false(kbs_policy_releases(&s, mask, "default", "key", "disk2"));
        assert_false(kbs_policy_releases(&s, 0, "default", "key", "disk"));
        c.pcrs[11][0] ^= 1;
        assert_int_equal(kbs_policy_evaluate(&s, &c, &mask, &reason), -EACCES);
        assert_string_equal(reason, "PCR values differ from the policy's reference values");
        kbs_claims_done(&c);

        /* az: PCR 11 and the launch measurement decide */
        c = (KbsClaims) { .tee = KBS_TEE_AZ_SNP_VTPM, .have_measurement = true };
        assert_int_equal(kbs_policy_evaluate(&s, &c, &mask, &reason), -EACCES);
        assert_string_equal(reason, "policy requires PCR values the evidence does not carry");
        c.have_pcrs = true;
        c.pcr_mask = 1U << 11;
        unhex_pcr(PCR11, c.pcrs[11]);
        assert_int_equal(kbs_policy_evaluate(&s, &c, &mask, &reason), -EACCES);
        assert_string_equal(reason, "SNP launch measurement is not in the policy's allowed list");
        c.measurement[47] = 1;
        assert_int_equal(kbs_policy_evaluate(&s, &c, &mask, &reason), 0);
        assert_int_equal(mask, 2);
        c = (KbsClaims) { .tee = KBS_TEE_SVSM_VTPM };
        assert_int_equal(kbs_policy_evaluate(&s, &c, &mask, &reason), -EACCES);
        assert_string_equal(reason, "no policy accepts this tee");
        kbs_policy_set_done(&s);

        static const char *const bad[] = {
                "{}", "{\"policies\":[]}", "{\"policies\":[{\"tee\":[\"tpm\"]}]}", /* no name */
                "{\"policies\":[{\"name\":\"a\",\"tee\":[]}]}",
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"snp\"]}]}",              /* not verified here */
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"nope\"]}]}",
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"tpm\"]}]}",               /* tpm without trusted_aks */
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"svsm-vtpm\"]}]}",         /* svsm without measurements */
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"tpm\"],\"trusted_aks\":[\"bm90IGEga2V5\"]}]}",
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"az-snp-vtpm\"],\"pcrs\":{\"sha256\":{\"24\":\"" PCR11 "\"}}}]}",
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"az-snp-vtpm\"],\"pcrs\":{\"sha256\":{\"1\":\"abc\"}}}]}",
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"az-snp-vtpm\"],\"pcrs\":{\"sha1\":{}}}]}",
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"az-snp-vtpm\"],\"snp_measurements\":[\"00\"]}]}",
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"az-snp-vtpm\"],\"resources\":[\"a/b\"]}]}",
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"az-snp-vtpm\"],\"resources\":[\"a/../c\"]}]}",
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"az-snp-vtpm\"],\"resources\":[\"a/b/c/d\"]}]}",
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"az-snp-vtpm\"],\"accept_unverified_td_quote\":1}]}",
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"az-snp-vtpm\"],\"extra\":1}]}",
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"az-snp-vtpm\"]},{\"name\":\"a\",\"tee\":[\"az-snp-vtpm\"]}]}",
                "{\"amd_roots\":[\"relative.pem\"],\"policies\":[{\"name\":\"a\",\"tee\":[\"az-snp-vtpm\"]}]}",
                "{\"intel_roots\":[\"relative.pem\"],\"policies\":[{\"name\":\"a\",\"tee\":[\"az-tdx-vtpm\"]}]}",
                "{\"intel_roots\":\"/x.pem\",\"policies\":[{\"name\":\"a\",\"tee\":[\"az-tdx-vtpm\"]}]}",
                /* requirements no accepted tee can be judged by */
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"tpm\"],\"trusted_aks\":[\"" AK_B64 "\"],"
                "\"snp_guest_policy\":{\"smt\":false}}]}",
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"az-tdx-vtpm\"],\"pcrs\":{\"sha256\":{\"11\":\"" PCR11 "\"}},"
                "\"min_snp_tcb\":{\"Milan\":{\"bootloader\":0,\"tee\":0,\"snp\":0,\"microcode\":0}}}]}",
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"az-snp-vtpm\"],\"pcrs\":{\"sha256\":{\"11\":\"" PCR11 "\"}},"
                "\"min_tdx_qe_isvsvn\":3}]}",
                "{\"policies\":[{\"name\":\"a\",\"tee\":[\"az-snp-vtpm\"],\"pcrs\":{\"sha256\":{\"11\":\"" PCR11 "\"}},"
                "\"accept_unevaluated_tdx_tcb\":true}]}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_not_equal(policy_text(bad[i], &s), 0);
                kbs_policy_set_done(&s);
        }
}

static void test_protocol(void **state) {
        KbsAttestRequest a;
        const char *detail;
        KbsTee tee;
        char repo[129], type[129], tag[129];

#define AUTH(s) kbs_parse_auth(s, strlen(s), &tee, NULL, &detail)
        assert_int_equal(AUTH("{\"version\":\"0.4.0\",\"tee\":\"az-snp-vtpm\",\"extra-params\":{}}"), 0);
        assert_int_equal(tee, KBS_TEE_AZ_SNP_VTPM);
        assert_int_equal(AUTH("{\"version\":\"0.1.0\",\"tee\":\"tpm\"}"), -EPROTONOSUPPORT);
        assert_int_equal(AUTH("{\"version\":\"0.4.0\",\"tee\":\"nope\"}"), -EOPNOTSUPP);
        assert_string_equal(detail, "tee is unknown");
        assert_int_equal(AUTH("{\"version\":\"0.4.0\",\"tee\":\"sample\"}"), -EOPNOTSUPP);
        assert_int_equal(AUTH("{\"version\":\"0.4.0\"}"), -EBADMSG);
        assert_int_equal(AUTH("{\"version\":\"0.4.0\",\"tee\":\"tpm\",\"x\":1}"), -EBADMSG);
        assert_int_equal(AUTH("{\"version\":\"0.4.0\",\"tee\":\"tpm\"}{}"), -EBADMSG);
        assert_int_equal(AUTH("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"), -EBADMSG);
        assert_int_equal(kbs_parse_auth("{\"version\":\"0.4.0\"\0,\"tee\":\"tpm\"}", 32, &tee, NULL, &detail), -EBADMSG);

#define ATTEST(s) kbs_parse_attest(s, strlen(s), &a, &detail)
        assert_int_equal(ATTEST("{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":{}},"
                                "\"tee-evidence\":{\"primary_evidence\":{\"a\":1},\"additional_evidence\":\"\"}}"), 0);
        assert_string_equal(a.nonce, "n");
        kbs_attest_request_done(&a);
        /* the evidence as a JSON string */
        assert_int_equal(ATTEST("{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":{}},"
                                "\"tee-evidence\":{\"primary_evidence\":\"{\\\"a\\\":1}\"}}"), 0);
        assert_true(json_object_is_type(a.evidence, json_type_object));
        kbs_attest_request_done(&a);
        assert_int_not_equal(ATTEST("{\"runtime-data\":{\"tee-pubkey\":{}},\"tee-evidence\":{\"primary_evidence\":{}}}"), 0);
        assert_int_not_equal(ATTEST("{\"runtime-data\":{\"nonce\":\"n\"},\"tee-evidence\":{\"primary_evidence\":{}}}"), 0);
        assert_int_not_equal(ATTEST("{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":{}}}"), 0);
        assert_int_not_equal(ATTEST("{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":{}},\"tee-evidence\":{\"primary_evidence\":\"x\"}}"), 0);
        assert_int_not_equal(ATTEST("{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":{}},\"tee-evidence\":{\"primary_evidence\":[]}}"), 0);
        assert_int_not_equal(ATTEST("{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":{}},\"tee-evidence\":{\"primary_evidence\":{},\"additional_evidence\":1}}"), 0);
        /* non-empty additional_evidence: refused, never accepted unverified */
        assert_int_equal(ATTEST("{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":{}},\"tee-evidence\":{\"primary_evidence\":{},\"additional_evidence\":\"{}\"}}"), -EBADMSG);
        assert_non_null(strstr(detail, "additional_evidence is not empty"));
        /* init-data: null, or toml with a top-level algorithm (Trustee's coco/builtin.rs, parse_init_data) */
        assert_int_equal(ATTEST("{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":{}},\"tee-evidence\":{\"primary_evidence\":{}},\"init-data\":null}"), 0);
        assert_false(a.have_init_data);
        kbs_attest_request_done(&a);
        assert_int_equal(ATTEST("{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":{}},\"tee-evidence\":{\"primary_evidence\":{}},"
                                "\"init-data\":{\"format\":\"toml\",\"body\":\"algorithm = \\\"sha384\\\"\\n\"}}"), 0);
        assert_true(a.have_init_data);
        assert_int_equal(a.init_data_digest.size, 48);
        kbs_attest_request_done(&a);
        assert_int_equal(ATTEST("{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":{}},\"tee-evidence\":{\"primary_evidence\":{}},"
                                "\"init-data\":{\"format\":\"json\",\"body\":\"{}\"}}"), -EBADMSG);
        {
                static const char good[] = "version = \"0.1.0\"\n  algorithm=\"sha256\"  \r\n[data]\nx = 1\n";
                static const char *const bad[] = {
                        "", "algorithm = \"md5\"\n", "[data]\nalgorithm = \"sha256\"\n", "algorithm = \"sha256\" # c\n",
                        "algorithm = sha256\n", "xalgorithm = \"sha256\"\n",
                };
                Digest d, want;

                assert_int_equal(kbs_init_data_digest(good, strlen(good), &d), 0);
                assert_int_equal(hash_buffer(HASH_SHA256, good, strlen(good), &want), 0);
                assert_int_equal(d.size, 32);
                assert_memory_equal(d.bytes, want.bytes, 32);
                for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                        assert_int_equal(kbs_init_data_digest(bad[i], strlen(bad[i]), &d), -EBADMSG);
                assert_int_equal(kbs_init_data_digest("algorithm = \"sha256\"\0", 21, &d), -EBADMSG);

                /* the binding (Trustee's verify_init_data): PCR 8 = SHA-256(0^32 || digest), covered by the quote */
                KbsClaims c = { .have_pcrs = true, .pcr_mask = 1U << 8 };
                uint8_t in[64] = {};
                const char *why = NULL;
                memcpy(in + 32, want.bytes, 32);
                assert_int_equal(hash_buffer(HASH_SHA256, in, sizeof(in), &d), 0);
                memcpy(c.pcrs[8], d.bytes, 32);
                assert_int_equal(kbs_check_init_data(&c, want.bytes, 32, &why), 0);
                assert_int_equal(kbs_check_init_data(&c, want.bytes, 48, &why), -EBADMSG); /* sha384: cannot bind */
                c.pcrs[8][0] ^= 1;
                assert_int_equal(kbs_check_init_data(&c, want.bytes, 32, &why), -EBADMSG);
                assert_string_equal(why, "PCR 8 does not match the init-data digest");
                c.pcrs[8][0] ^= 1;
                c.pcr_mask = 1U << 11; /* PCR 8 not quoted */
                assert_int_equal(kbs_check_init_data(&c, want.bytes, 32, &why), -EBADMSG);
        }

        assert_int_equal(kbs_parse_resource_path("/kbs/v0/resource/default/key/disk", repo, type, tag), 0);
        assert_string_equal(tag, "disk");
        static const char *const bad_paths[] = { "/kbs/v0/resource/a/b", "/kbs/v0/resource/a/b/c/d", "/kbs/v0/resource/../b/c",
                                                 "/kbs/v0/resource/a//c", "/kbs/v0/resource/a/b/c%00", "/kbs/v0/resource/a/b/",
                                                 "/kbs/v0/resource/a/./c", "/kbs/v0/resources/a/b/c" };
        for (size_t i = 0; i < ELEMENTSOF(bad_paths); i++)
                assert_int_not_equal(kbs_parse_resource_path(bad_paths[i], repo, type, tag), 0);
}

static void test_sessions(void **state) {
        static const char k1[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                          k2[] = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f";
        KbsSessionKeys keys, rotated, other;
        KbsSession s, o;
        char *cookie, *attested, text[200];
        time_t now = 1800000000;

        /* key files: one or two lines of 64 hex digits */
        assert_int_equal(kbs_session_keys_parse(&keys, k1, strlen(k1), 300, now), 0);
        assert_false(keys.have_previous);
        snprintf(text, sizeof(text), "%s\n%s\n", k2, k1); /* rotated: k2 seals, k1 still opens */
        assert_int_equal(kbs_session_keys_parse(&rotated, text, strlen(text), 300, now), 0);
        assert_true(rotated.have_previous);
        assert_int_equal(kbs_session_keys_parse(&other, k2, strlen(k2), 300, now), 0);
        static const char *const bad_keys[] = { "", "\n", "0001", "zz02030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                                                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00" };
        for (size_t i = 0; i < ELEMENTSOF(bad_keys); i++) {
                KbsSessionKeys x;
                assert_int_equal(kbs_session_keys_parse(&x, bad_keys[i], strlen(bad_keys[i]), 300, now), -EBADMSG);
        }
        snprintf(text, sizeof(text), "%s\n%s\n%s\n", k1, k2, k1); /* three keys */
        assert_int_equal(kbs_session_keys_parse(&other, text, strlen(text), 300, now), -EBADMSG);
        assert_int_equal(kbs_session_keys_parse(&other, k2, strlen(k2), 300, now), 0);

        /* an authed session round trip */
        assert_int_equal(kbs_session_new(KBS_TEE_AZ_SNP_VTPM, NULL, 300, now, &s), 0);
        assert_int_equal(strlen(s.nonce), 44); /* base64 of 32 bytes */
        assert_int_equal(kbs_session_seal(&keys, &s, &cookie), 0);
        assert_int_equal(kbs_session_open(&keys, cookie, now + 10, &o), KBS_SESSION_OK);
        assert_int_equal(o.kind, KBS_SESSION_AUTHED);
        assert_int_equal(o.tee, KBS_TEE_AZ_SNP_VTPM);
        assert_string_equal(o.nonce, s.nonce);
        kbs_session_done(&o);
        /* any replica with the key opens it; another key does not; expiry; tampering */
        assert_int_equal(kbs_session_open(&rotated, cookie, now + 10, &o), KBS_SESSION_OK); /* as the previous key */
        kbs_session_done(&o);
        assert_int_equal(kbs_session_open(&rotated, cookie, now + 300, &o), KBS_SESSION_UNKNOWN); /* previous key retired */
        assert_int_equal(kbs_session_open(&other, cookie, now + 10, &o), KBS_SESSION_UNKNOWN);
        assert_int_equal(kbs_session_open(&keys, cookie, now + 300, &o), KBS_SESSION_EXPIRED);
        for (size_t i = 0; cookie[i]; i++) {
                char saved = cookie[i];
                cookie[i] = saved == 'A' ? 'B' : 'A';
                assert_int_not_equal(kbs_session_open(&keys, cookie, now + 10, &o), KBS_SESSION_OK);
                cookie[i] = saved;
        }
        assert_int_equal(kbs_session_open(&keys, NULL, now, &o), KBS_SESSION_UNKNOWN);
        assert_int_equal(kbs_session_open(&keys, "", now, &o), KBS_SESSION_UNKNOWN);
        assert_int_equal(kbs_session_open(&keys, "!!!", now, &o), KBS_SESSION_UNKNOWN);

        /* the previous key is accepted for one session lifetime after the rotation only */
        KbsSessionKeys late;
        snprintf(text, sizeof(text), "%s\n%s\n", k2, k1);
        assert_int_equal(kbs_session_keys_parse(&late, text, strlen(text), 300, now - 400), 0);
        assert_int_equal(kbs_session_open(&late, cookie, now + 10, &o), KBS_SESSION_UNKNOWN);

        /* the attested session carries the token */
        s.kind = KBS_SESSION_ATTESTED;
        s.token = strdup("a.b.c");
        assert_int_equal(kbs_session_seal(&rotated, &s, &attested), 0);
        assert_int_equal(kbs_session_open(&keys, attested, now, &o), KBS_SESSION_UNKNOWN); /* sealed with k2 */
        assert_int_equal(kbs_session_open(&rotated, attested, now, &o), KBS_SESSION_OK);
        assert_int_equal(o.kind, KBS_SESSION_ATTESTED);
        assert_string_equal(o.token, "a.b.c");
        kbs_session_done(&o);
        kbs_session_done(&s);
        free(cookie);
        free(attested);
}

/* --- A quote proves only the PCRs it selects ------------------------------------------------- */

static size_t put16(uint8_t *p, unsigned v) {
        p[0] = (uint8_t) (v >> 8);
        p[1] = (uint8_t) v;
        return 2;
}

static size_t put32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) (v >> 24);
        p[1] = (uint8_t) (v >> 16);
        p[2] = (uint8_t) (v >> 8);
        p[3] = (uint8_t) v;
        return 4;
}

/* Evidence of tee "tpm": ak signs (RSASSA with md, hash alg id hash_alg) a quote selecting sha256 PCR 0
 * (all zeros) with extraData = rd[0:32]; the `pcrs` array claims want11 for PCR 11, zeros elsewhere. */
static json_object *tpm_evidence(EVP_PKEY *ak, const char *ak_b64, const uint8_t *rd, const EVP_MD *md,
                                 unsigned hash_alg, const char *want11) {
        static const char zeros[] = "0000000000000000000000000000000000000000000000000000000000000000";
        uint8_t msg[256], pcr0[32] = {}, d[EVP_MAX_MD_SIZE], sig[512], ts[4 + 2 + 512];
        size_t o = 0, t = 0, sn = sizeof(sig);
        unsigned dn = 0;
        EVP_MD_CTX *mdc;

        o += put32(msg + o, 0xFF544347);   /* TPM_GENERATED_VALUE */
        o += put16(msg + o, 0x8018);       /* TPM_ST_ATTEST_QUOTE */
        o += put16(msg + o, 0);            /* qualifiedSigner */
        o += put16(msg + o, 32);
        memcpy(msg + o, rd, 32);           /* extraData = report data cut to 32 bytes */
        o += 32;
        memset(msg + o, 0, 17 + 8);        /* clockInfo, firmwareVersion */
        o += 17 + 8;
        o += put32(msg + o, 1);            /* one selection: sha256, PCR 0 */
        o += put16(msg + o, 0x000B);
        msg[o++] = 3;
        msg[o++] = 1;
        msg[o++] = 0;
        msg[o++] = 0;
        assert_int_equal(EVP_Digest(pcr0, 32, d, &dn, md, NULL), 1); /* pcrDigest with the signature's hash */
        o += put16(msg + o, dn);
        memcpy(msg + o, d, dn);
        o += dn;

        mdc = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestSignInit(mdc, NULL, md, NULL, ak), 1);
        assert_int_equal(EVP_DigestSign(mdc, sig, &sn, msg, o), 1);
        EVP_MD_CTX_free(mdc);
        t += put16(ts + t, 0x0014);        /* TPM_ALG_RSASSA */
        t += put16(ts + t, hash_alg);
        t += put16(ts + t, (unsigned) sn);
        memcpy(ts + t, sig, sn);
        t += sn;

        json_object *pcrs = json_object_new_array();
        for (unsigned i = 0; i < 24; i++)
                json_object_array_add(pcrs, json_object_new_string(i == 11 ? want11 : zeros));
        json_object *q = json_object_new_object();
        _cleanup_free_ char *msg_b64 = b64_encode(msg, o, B64_PAD), *sig_b64 = b64_encode(ts, t, B64_PAD);
        json_object_object_add(q, "message", json_object_new_string(msg_b64));
        json_object_object_add(q, "signature", json_object_new_string(sig_b64));
        json_object_object_add(q, "pcrs", pcrs);
        json_object *ev = json_object_new_object();
        json_object_object_add(ev, "ak_public", json_object_new_string(ak_b64));
        json_object_object_add(ev, "tpm_quote", q);
        return ev;
}

static EVP_PKEY *test_ak(char **ret_b64) {
        EVP_PKEY *ak = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
        unsigned char *der = NULL;
        int der_n;

        assert_non_null(ak);
        der_n = i2d_PUBKEY(ak, &der);
        assert_true(der_n > 0);
        *ret_b64 = b64_encode(der, (size_t) der_n, B64_PAD);
        assert_non_null(*ret_b64);
        OPENSSL_free(der);
        return ak;
}

/* A trusted AK signs a quote that selects sha256 PCR 0 only; the evidence's `pcrs` array claims the
 * policy's value for PCR 11, which the quote does not cover. The policy on PCR 11 must not hold; one on
 * PCR 0 (covered) must. */
static void test_uncovered_pcr(void **state) {
        static const char zeros[] = "0000000000000000000000000000000000000000000000000000000000000000";
        static const char want11[] = "1111111111111111111111111111111111111111111111111111111111111111";
        uint8_t rd[RCAR_REPORT_DATA_SIZE];
        _cleanup_free_ char *ak_b64 = NULL;
        uint64_t mask = 0;
        const char *reason = NULL;
        EVP_PKEY *ak = test_ak(&ak_b64);

        memset(rd, 0x42, sizeof(rd));
        json_object *ev = tpm_evidence(ak, ak_b64, rd, EVP_sha256(), 0x000B, want11);

        KbsClaims claims = {};
        assert_int_equal(kbs_verify(&(KbsVerifyContext) {}, KBS_TEE_TPM, ev, rd, sizeof(rd), &claims, &reason), 0);
        assert_int_equal(claims.pcr_mask, 1);

        for (unsigned covered = 0; covered < 2; covered++) {
                _cleanup_free_ char *pol = NULL;
                KbsPolicySet ps = {};

                assert_true(asprintf(&pol,
                                     "{\"policies\":[{\"name\":\"ci\",\"tee\":[\"tpm\"],\"trusted_aks\":[\"%s\"],"
                                     "\"pcrs\":{\"sha256\":{\"%u\":\"%s\"}},\"resources\":[\"test/key/disk\"]}]}",
                                     ak_b64, covered ? 0 : 11, covered ? zeros : want11) > 0);
                assert_int_equal(kbs_policy_parse(&ps, pol, strlen(pol), "test"), 0);
                reason = NULL;
                mask = 0;
                if (covered) {
                        assert_int_equal(kbs_policy_evaluate(&ps, &claims, &mask, &reason), 0);
                        assert_true(kbs_policy_releases(&ps, mask, "test", "key", "disk"));
                } else {
                        assert_int_equal(kbs_policy_evaluate(&ps, &claims, &mask, &reason), -EACCES);
                        assert_string_equal(reason, "policy requires a PCR the TPM quote does not cover");
                        assert_false(kbs_policy_releases(&ps, mask, "test", "key", "disk"));
                }
                kbs_policy_set_done(&ps);
        }
        kbs_claims_done(&claims);
        json_object_put(ev);
        EVP_PKEY_free(ak);
        (void) state;
}

/* The same quote signed over SHA-1 (pcrDigest SHA-1 too, so everything else is consistent) is refused
 * by the verifier; over SHA-384 it verifies. */
static void test_sha1_quote(void **state) {
        static const char zeros[] = "0000000000000000000000000000000000000000000000000000000000000000";
        uint8_t rd[RCAR_REPORT_DATA_SIZE];
        _cleanup_free_ char *ak_b64 = NULL;
        const char *reason = NULL;
        EVP_PKEY *ak = test_ak(&ak_b64);
        KbsClaims claims = {};
        json_object *ev;

        memset(rd, 0x17, sizeof(rd));
        ev = tpm_evidence(ak, ak_b64, rd, EVP_sha1(), 0x0004, zeros);
        assert_int_equal(kbs_verify(&(KbsVerifyContext) {}, KBS_TEE_TPM, ev, rd, sizeof(rd), &claims, &reason), -EBADMSG);
        assert_string_equal(reason, "TPM quote signature is over SHA-1");
        kbs_claims_done(&claims);
        json_object_put(ev);

        ev = tpm_evidence(ak, ak_b64, rd, EVP_sha384(), 0x000C, zeros);
        assert_int_equal(kbs_verify(&(KbsVerifyContext) {}, KBS_TEE_TPM, ev, rd, sizeof(rd), &claims, &reason), 0);
        kbs_claims_done(&claims);
        json_object_put(ev);
        EVP_PKEY_free(ak);
        (void) state;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_config),
                cmocka_unit_test(test_policy),
                cmocka_unit_test(test_policy_minimums),
                cmocka_unit_test(test_sha1_quote),
                cmocka_unit_test(test_protocol),
                cmocka_unit_test(test_sessions),
                cmocka_unit_test(test_uncovered_pcr),
        };
        log_set_max_level(LOG_CRIT);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
