/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verifiers on genuine evidence (../shared/fixtures/attestation): what must verify does, with the
 * report data the fixtures README gives, and the checks that must refuse do, each with its reason. */

#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hash.h"
#include "hcl-report.h"
#include "kbs-token.h"
#include "kbs-test-util.h"
#include "snp-verify.h"
#include "tpm-attest.h"

static SnpRoots *milan, *genoa, *all_roots;

static int verify(KbsTee tee, json_object *ev, const SnpRoots *roots, const uint8_t *rd, size_t rd_size,
                  KbsClaims *claims, const char **reason) {
        KbsVerifyContext ctx = { .amd_roots = roots };
        *reason = NULL;
        return kbs_verify(&ctx, tee, ev, rd, rd_size, claims, reason);
}

static void test_tpm_fixture(void **state) {
        json_object *ev = fixture_json("trustee/tpm/tpm_evidence.json");
        uint8_t rd[48];
        KbsClaims c = {};
        const char *reason;

        unhex_exact(TPM_FIXTURE_REPORT_DATA, rd, sizeof(rd));
        assert_int_equal(verify(KBS_TEE_TPM, ev, NULL, rd, sizeof(rd), &c, &reason), 0);
        assert_true(c.have_pcrs);
        assert_non_null(c.ak_der);
        kbs_claims_done(&c);

        rd[47] ^= 1;
        assert_int_not_equal(verify(KBS_TEE_TPM, ev, NULL, rd, sizeof(rd), &c, &reason), 0);
        assert_string_equal(reason, "TPM quote extraData does not match the expected report data");
        kbs_claims_done(&c);

        /* a PCR value that is not the quoted one */
        json_object *pcrs = json_object_object_get(json_object_object_get(ev, "tpm_quote"), "pcrs");
        rd[47] ^= 1;
        json_object_array_put_idx(pcrs, 3, json_object_new_string("0000000000000000000000000000000000000000000000000000000000000001"));
        assert_int_not_equal(verify(KBS_TEE_TPM, ev, NULL, rd, sizeof(rd), &c, &reason), 0);
        assert_string_equal(reason, "TPM quote PCR digest does not match the PCR values sent");
        kbs_claims_done(&c);
        json_object_put(ev);
}

static void test_az_snp_v2(void **state) {
        json_object *ev = fixture_json("trustee/az-snp-vtpm/evidence-v2.json");
        uint8_t rd[48];
        KbsClaims c = {};
        const char *reason;

        unhex_exact(AZ_SNP_V2_REPORT_DATA, rd, sizeof(rd));
        assert_int_equal(verify(KBS_TEE_AZ_SNP_VTPM, ev, milan, rd, sizeof(rd), &c, &reason), 0);
        assert_true(c.have_pcrs && c.have_measurement);
        assert_int_equal(c.vmpl, 0);
        assert_int_equal(c.product, SNP_PRODUCT_MILAN);
        kbs_claims_done(&c);

        /* The VCEK as az-snp-vtpm 0.8.1 requires it (kinvolk/azure-cvm-tooling 834c07b, certs.rs
         * Vcek::validate: notBefore..notAfter contains now; Trustee 78962cd4 verify_report_signature
         * reads the SPL extensions, an error when missing). The fixture's VCEK: 2025-01-28..2032-01-28. */
        {
                KbsVerifyContext ctx = { .amd_roots = milan, .now = 2000000000 }; /* 2033-05-18 */
                reason = NULL;
                assert_int_equal(kbs_verify(&ctx, KBS_TEE_AZ_SNP_VTPM, ev, rd, sizeof(rd), &c, &reason), -EBADMSG);
                assert_string_equal(reason, "VCEK is outside its validity dates");
                ctx.now = 1700000000; /* 2023-11-14 */
                assert_int_equal(kbs_verify(&ctx, KBS_TEE_AZ_SNP_VTPM, ev, rd, sizeof(rd), &c, &reason), -EBADMSG);
                assert_string_equal(reason, "VCEK is outside its validity dates");
                ctx.now = 1800000000; /* 2027-01-15 */
                assert_int_equal(kbs_verify(&ctx, KBS_TEE_AZ_SNP_VTPM, ev, rd, sizeof(rd), &c, &reason), 0);
                kbs_claims_done(&c);
                /* a certificate without AMD's hwID extension (the VLEK fixture, valid 2024-12-10..2025-12-10,
                 * checked inside its dates): refused */
                size_t n;
                char *vlek = fixture_read("trustee/snp/test-vlek.der", &n);
                assert_int_equal(snp_vcek_check_azure((uint8_t *) vlek, n, 1740000000, &reason), -EBADMSG);
                assert_string_equal(reason, "VCEK lacks the hwID extension");
                free(vlek);
        }

        /* the same evidence to the Genoa root only, or with no root */
        assert_int_not_equal(verify(KBS_TEE_AZ_SNP_VTPM, ev, genoa, rd, sizeof(rd), &c, &reason), 0);
        assert_string_equal(reason, "VCEK is not signed by a trusted ASK");
        assert_int_not_equal(verify(KBS_TEE_AZ_SNP_VTPM, ev, NULL, rd, sizeof(rd), &c, &reason), 0);
        assert_string_equal(reason, "no trusted AMD root is configured");

        /* another session's report data */
        rd[0] ^= 0x80;
        assert_int_not_equal(verify(KBS_TEE_AZ_SNP_VTPM, ev, milan, rd, sizeof(rd), &c, &reason), 0);
        assert_string_equal(reason, "TPM quote extraData does not match the expected report data");
        kbs_claims_done(&c);
        json_object_put(ev);
}

static void test_az_snp_v0_v1_genoa(void **state) {
        static const char challenge[] = "challenge";
        json_object *ev;
        uint8_t rd[48];
        KbsClaims c = {};
        const char *reason;

        ev = fixture_json("trustee/az-snp-vtpm/evidence-v1.json");
        assert_int_equal(verify(KBS_TEE_AZ_SNP_VTPM, ev, milan, (const uint8_t *) challenge, 9, &c, &reason), 0);
        kbs_claims_done(&c);
        json_object_put(ev);

        ev = fixture_json("trustee/az-snp-vtpm/evidence-v0.json");
        assert_int_equal(verify(KBS_TEE_AZ_SNP_VTPM, ev, milan, (const uint8_t *) challenge, 9, &c, &reason), 0);
        kbs_claims_done(&c);
        json_object_put(ev);

        ev = fixture_json("trustee/az-snp-vtpm/evidence-genoa.json");
        unhex_exact(AZ_SNP_GENOA_REPORT_DATA, rd, sizeof(rd));
        assert_int_equal(verify(KBS_TEE_AZ_SNP_VTPM, ev, all_roots, rd, sizeof(rd), &c, &reason), 0);
        assert_int_equal(c.product, SNP_PRODUCT_GENOA);
        kbs_claims_done(&c);
        assert_int_not_equal(verify(KBS_TEE_AZ_SNP_VTPM, ev, milan, rd, sizeof(rd), &c, &reason), 0);
        assert_string_equal(reason, "VCEK is not signed by a trusted ASK");
        json_object_put(ev);
}

static void test_az_tdx(void **state) {
        static const char challenge[] = "challenge";
        json_object *ev;
        KbsClaims c = {};
        const char *reason;

        ev = fixture_json("trustee/az-tdx-vtpm/evidence-v1.json");
        assert_int_equal(verify(KBS_TEE_AZ_TDX_VTPM, ev, NULL, (const uint8_t *) challenge, 9, &c, &reason), 0);
        assert_true(c.td_quote_unverified);
        {
                /* refused unless a policy explicitly accepts unverified TD quotes; the token says so */
                _cleanup_free_ char *strict = policy_pinning_pcr0("az-tdx-vtpm", &c, ""),
                                    *lax = policy_pinning_pcr0("az-tdx-vtpm", &c, ",\"accept_unverified_td_quote\":true");
                KbsPolicySet ps = {};
                EVP_PKEY *signer;
                json_object *jwk = json_object_new_object();
                uint64_t mask;
                char *token, *dot;
                uint8_t *payload;
                size_t n;

                assert_int_equal(kbs_policy_parse(&ps, strict, strlen(strict), "strict"), 0);
                assert_int_equal(kbs_policy_evaluate(&ps, &c, &mask, &reason), -EACCES);
                assert_string_equal(reason, "TD quote signature unverified (no Intel collateral) and the policy does not accept that");
                kbs_policy_set_done(&ps);
                assert_int_equal(kbs_policy_parse(&ps, lax, strlen(lax), "lax"), 0);
                assert_int_equal(kbs_policy_evaluate(&ps, &c, &mask, &reason), 0);
                assert_int_equal(kbs_token_key_new(&signer), 0);
                assert_int_equal(kbs_token_issue(signer, &c, &ps, mask, jwk, 60, &token), 0);
                dot = strchr(token, '.');
                assert_non_null(dot);
                assert_int_equal(b64_decode(dot + 1, strcspn(dot + 1, "."), B64_URL, &payload, &n), 0);
                assert_non_null(strstr((char *) payload, "\"warnings\":[\"td-quote-signature-unverified\"]"));
                free(payload);
                free(token);
                EVP_PKEY_free(signer);
                json_object_put(jwk);
                kbs_policy_set_done(&ps);
        }
        kbs_claims_done(&c);
        assert_int_not_equal(verify(KBS_TEE_AZ_TDX_VTPM, ev, NULL, (const uint8_t *) "challengf", 9, &c, &reason), 0);
        /* versions 0, 1, 2 are Trustee's (az_tdx_vtpm/compat.rs at 78962cd4); 3 is not */
        json_object_object_add(ev, "version", json_object_new_int(3));
        assert_int_equal(verify(KBS_TEE_AZ_TDX_VTPM, ev, NULL, (const uint8_t *) challenge, 9, &c, &reason), -EBADMSG);
        assert_string_equal(reason, "evidence version is not supported");
        json_object_put(ev);

        ev = fixture_json("trustee/az-tdx-vtpm/evidence-v0.json");
        assert_int_equal(verify(KBS_TEE_AZ_TDX_VTPM, ev, NULL, (const uint8_t *) challenge, 9, &c, &reason), 0);
        kbs_claims_done(&c);
        json_object_put(ev);

        /* SNP evidence sent as TDX, TDX as SNP */
        ev = fixture_json("trustee/az-snp-vtpm/evidence-v1.json");
        assert_int_not_equal(verify(KBS_TEE_AZ_TDX_VTPM, ev, NULL, (const uint8_t *) challenge, 9, &c, &reason), 0);
        json_object_put(ev);
        ev = fixture_json("trustee/az-tdx-vtpm/evidence-v1.json");
        assert_int_not_equal(verify(KBS_TEE_AZ_SNP_VTPM, ev, milan, (const uint8_t *) challenge, 9, &c, &reason), 0);
        json_object_put(ev);
}

static int snp_check(const char *report, const char *cert, const SnpRoots *roots, SnpVerifyResult *res) {
        size_t rn, cn;
        char *r = fixture_read(report, &rn), *c = fixture_read(cert, &cn);
        int k = snp_verify_report(roots, (uint8_t *) r, rn, (uint8_t *) c, cn, res);
        free(r), free(c);
        return k;
}

static void test_snp_reports(void **state) {
        SnpVerifyResult res;

        assert_int_equal(snp_check("trustee/snp/test-report.bin", "trustee/snp/test-vcek.der", milan, &res), 0);
        assert_int_equal(res.product, SNP_PRODUCT_MILAN);
        assert_int_not_equal(snp_check("trustee/snp/test-report.bin", "trustee/snp/test-vcek.der", genoa, &res), 0);

        assert_int_not_equal(snp_check("trustee/snp/test-report.bin", "trustee/snp/test-vcek-invalid-new.der", milan, &res), 0);
        assert_non_null(res.reason);
        assert_int_not_equal(snp_check("trustee/snp/test-report.bin", "trustee/snp/test-vcek-invalid-legacy.der", milan, &res), 0);
        assert_non_null(res.reason);

        /* the VLEK report: signed by the Milan ASVK, and refused with a VCEK */
        assert_int_equal(snp_check("trustee/snp/test-vlek-report.bin", "trustee/snp/test-vlek.der", milan, &res), 0);
        assert_true(res.vlek);
        assert_int_not_equal(snp_check("trustee/snp/test-vlek-report.bin", "trustee/snp/test-vcek.der", milan, &res), 0);
        /* a report with another report's VCEK */
        assert_int_not_equal(snp_check("azure-cvm-tooling/hcl-report-snp.bin", "trustee/snp/test-vcek.der", milan, &res), 0);
}

static void test_hcl_reports(void **state) {
        static const char *const files[] = { "azure-cvm-tooling/hcl-report-snp.bin", "azure-cvm-tooling/hcl-report-tdx.bin",
                                             "trustee/az-snp-vtpm/hcl-report.bin", "trustee/az-tdx-vtpm/hcl-report.bin" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                size_t n;
                uint8_t *p = (uint8_t *) fixture_read(files[i], &n), *mod, *e;
                size_t ns, es;
                HclReport h;
                Digest d;

                assert_int_equal(hcl_report_parse(p, n, &h), 0);
                assert_int_equal(h.report_type, i % 2 == 0 ? HCL_REPORT_SNP : HCL_REPORT_TDX);
                assert_int_equal(hcl_var_data_rsa_key(h.var_data, h.var_data_size, "HCLAkPub", &mod, &ns, &e, &es), 0);
                assert_int_equal(ns, 256);
                free(mod), free(e);
                /* the hardware report binds the runtime data */
                assert_int_equal(hash_buffer(HASH_SHA256, h.var_data, h.var_data_size, &d), 0);
                assert_memory_equal(h.hw_report + (h.report_type == HCL_REPORT_SNP ? 0x50 : 128), d.bytes, 32);

                /* refusals: truncated, bad magic, non-zero padding */
                assert_int_not_equal(hcl_report_parse(p, 0x4D0, &h), 0);
                p[0] ^= 1;
                assert_int_not_equal(hcl_report_parse(p, n, &h), 0);
                p[0] ^= 1;
                p[n - 1] ^= 1;
                assert_int_not_equal(hcl_report_parse(p, n, &h), 0);
                free(p);
        }
}

static int setup(void **state) {
        milan = roots_load("trustee/amd-roots/milan_ask_ark_asvk.pem", NULL);
        genoa = roots_load("trustee/amd-roots/genoa_ask_ark_asvk.pem", NULL);
        all_roots = roots_load("trustee/amd-roots/milan_ask_ark_asvk.pem", "trustee/amd-roots/genoa_ask_ark_asvk.pem",
                               "trustee/amd-roots/turin_ask_ark_asvk.pem", NULL);
        return 0;
}

/* A policy for tee pinning the claims' PCR 0, with extra members; evaluated against c. */
static int evaluate(const char *tee, const KbsClaims *c, const char *extra, const char **ret_reason) {
        _cleanup_free_ char *text = policy_pinning_pcr0(tee, c, extra);
        KbsPolicySet ps = {};
        uint64_t mask = 0;
        int r;

        if (kbs_policy_parse(&ps, text, strlen(text), "test") < 0)
                fail_msg("policy refused: %s", text);
        *ret_reason = NULL;
        r = kbs_policy_evaluate(&ps, c, &mask, ret_reason);
        kbs_policy_set_done(&ps);
        return r;
}

/* SNP TCB floors, per product, against reported_tcb and committed_tcb; guest policy bits. The genuine
 * az-snp-vtpm v2 evidence (Milan, reported = committed = bootloader 4, tee 0, snp 24, microcode 219,
 * guest policy 0x3001f: SMT allowed), and the genuine VLEK report whose reported_tcb (microcode 217)
 * is below its committed_tcb (219): what a host that lowers reported_tcb produces. */
static void test_snp_tcb_floors(void **state) {
#define MILAN(b, t, s, m) ",\"min_snp_tcb\":{\"Milan\":{\"bootloader\":" #b ",\"tee\":" #t ",\"snp\":" #s ",\"microcode\":" #m "}}"
        json_object *ev = fixture_json("trustee/az-snp-vtpm/evidence-v2.json");
        const char *reason;
        KbsClaims c = {};
        uint8_t rd[48];

        unhex_exact(AZ_SNP_V2_REPORT_DATA, rd, sizeof(rd));
        assert_int_equal(verify(KBS_TEE_AZ_SNP_VTPM, ev, milan, rd, sizeof(rd), &c, &reason), 0);
        assert_true(c.have_snp);
        assert_int_equal(c.snp_reported_tcb, UINT64_C(0xdb18000000000004));
        assert_int_equal(c.snp_committed_tcb, UINT64_C(0xdb18000000000004));
        assert_int_equal(c.snp_guest_policy, 0x3001f);

        assert_int_equal(evaluate("az-snp-vtpm", &c, MILAN(4, 0, 24, 219), &reason), 0);
        assert_int_equal(evaluate("az-snp-vtpm", &c, MILAN(0, 0, 0, 0), &reason), 0);
        static const char *const above[] = { MILAN(5, 0, 24, 219), MILAN(4, 1, 24, 219), MILAN(4, 0, 25, 219),
                                             MILAN(4, 0, 24, 220) };
        for (size_t i = 0; i < ELEMENTSOF(above); i++) {
                assert_int_equal(evaluate("az-snp-vtpm", &c, above[i], &reason), -EACCES);
                assert_string_equal(reason, "SNP reported_tcb is below the policy's min_snp_tcb");
        }
        assert_int_equal(evaluate("az-snp-vtpm", &c, ",\"min_snp_tcb\":{\"Genoa\":{\"bootloader\":0,\"tee\":0,\"snp\":0,"
                                                     "\"microcode\":0}}", &reason), -EACCES);
        assert_string_equal(reason, "policy's min_snp_tcb has no floor for the SNP report's product");

        /* guest policy bits: Azure's CVMs allow SMT */
        assert_int_equal(evaluate("az-snp-vtpm", &c, ",\"snp_guest_policy\":{\"smt\":true,\"migrate_ma\":false,"
                                                     "\"single_socket\":false,\"debug\":false}", &reason), 0);
        assert_int_equal(evaluate("az-snp-vtpm", &c, ",\"snp_guest_policy\":{\"smt\":false}", &reason), -EACCES);
        assert_string_equal(reason, "SNP guest policy bit SMT (16) differs from the policy's snp_guest_policy");
        assert_int_equal(evaluate("az-snp-vtpm", &c, ",\"snp_guest_policy\":{\"single_socket\":true}", &reason), -EACCES);
        assert_string_equal(reason, "SNP guest policy bit SINGLE_SOCKET (20) differs from the policy's snp_guest_policy");

        /* the genuine VLEK report: reported_tcb below committed_tcb */
        size_t n;
        uint8_t *raw = (uint8_t *) fixture_read("trustee/snp/test-vlek-report.bin", &n);
        SnpReport snp;
        assert_int_equal(snp_report_parse(raw, n, &snp), 0);
        KbsClaims lowered = c;
        lowered.ak_der = NULL;
        kbs_claims_set_snp(&lowered, &snp, SNP_PRODUCT_MILAN);
        assert_int_equal(snp_tcb_decode(lowered.snp_reported_tcb, SNP_PRODUCT_MILAN).microcode, 217);
        assert_int_equal(snp_tcb_decode(lowered.snp_committed_tcb, SNP_PRODUCT_MILAN).microcode, 219);
        assert_int_equal(evaluate("az-snp-vtpm", &lowered, MILAN(4, 0, 24, 217), &reason), 0);
        assert_int_equal(evaluate("az-snp-vtpm", &lowered, MILAN(4, 0, 24, 219), &reason), -EACCES);
        assert_string_equal(reason, "SNP reported_tcb is below the policy's min_snp_tcb");
        /* and the other way round: a committed_tcb below the reported one */
        uint64_t t = lowered.snp_reported_tcb;
        lowered.snp_reported_tcb = lowered.snp_committed_tcb;
        lowered.snp_committed_tcb = t;
        assert_int_equal(evaluate("az-snp-vtpm", &lowered, MILAN(4, 0, 24, 219), &reason), -EACCES);
        assert_string_equal(reason, "SNP committed_tcb is below the policy's min_snp_tcb");
        free(raw);

        /* Turin's layout: fmc first */
        SnpTcb turin = snp_tcb_decode(UINT64_C(0x0700000004030201), SNP_PRODUCT_TURIN);
        assert_true(turin.fmc == 1 && turin.bootloader == 2 && turin.tee == 3 && turin.snp == 4 && turin.microcode == 7);

        /* bad values, refused at load */
        static const char *const bad[] = {
                ",\"min_snp_tcb\":{\"Milan\":{\"bootloader\":4,\"tee\":0,\"snp\":24}}",             /* microcode missing */
                ",\"min_snp_tcb\":{\"Milan\":{\"fmc\":1,\"bootloader\":4,\"tee\":0,\"snp\":24,\"microcode\":1}}",
                ",\"min_snp_tcb\":{\"Turin\":{\"bootloader\":4,\"tee\":0,\"snp\":24,\"microcode\":1}}", /* fmc missing */
                ",\"min_snp_tcb\":{\"Milan\":{\"bootloader\":256,\"tee\":0,\"snp\":24,\"microcode\":1}}",
                ",\"min_snp_tcb\":{\"Rome\":{\"bootloader\":4,\"tee\":0,\"snp\":24,\"microcode\":1}}",
                ",\"min_snp_tcb\":{\"Milan\":{\"bootloader\":4,\"tee\":0,\"snp\":24,\"microcode\":1,\"x\":1}}",
                ",\"min_snp_tcb\":{}", ",\"min_snp_tcb\":[]",
                ",\"snp_guest_policy\":{\"debug\":true}", ",\"snp_guest_policy\":{\"abi\":true}",
                ",\"snp_guest_policy\":{\"smt\":0}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *text = policy_pinning_pcr0("az-snp-vtpm", &c, bad[i]);
                KbsPolicySet ps = {};
                if (kbs_policy_parse(&ps, text, strlen(text), "test") != -EINVAL)
                        fail_msg("accepted: %s", bad[i]);
                kbs_policy_set_done(&ps);
        }

        kbs_claims_done(&c);
        json_object_put(ev);
        (void) state;
#undef MILAN
}

static int teardown(void **state) {
        snp_roots_free(milan);
        snp_roots_free(genoa);
        snp_roots_free(all_roots);
        return 0;
}

int main(void) {
        fixtures_require();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tpm_fixture),
                cmocka_unit_test(test_az_snp_v2),
                cmocka_unit_test(test_az_snp_v0_v1_genoa),
                cmocka_unit_test(test_az_tdx),
                cmocka_unit_test(test_snp_tcb_floors),
                cmocka_unit_test(test_snp_reports),
                cmocka_unit_test(test_hcl_reports),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
