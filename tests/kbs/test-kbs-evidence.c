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

static int teardown(void **state) {
        snp_roots_free(milan);
        snp_roots_free(genoa);
        snp_roots_free(all_roots);
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tpm_fixture),
                cmocka_unit_test(test_az_snp_v2),
                cmocka_unit_test(test_az_snp_v0_v1_genoa),
                cmocka_unit_test(test_az_tdx),
                cmocka_unit_test(test_snp_reports),
                cmocka_unit_test(test_hcl_reports),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
