/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The client's Azure evidence assembly (src/attestation/azure-evidence.c) fed with the genuine pieces of
 * Trustee's fixtures: the result equals the genuine evidence byte for byte in Trustee's compact
 * encoding and field by field after decoding, and verifies in ephroot-kbs with the fixture's report
 * data (az-snp-vtpm v2 against the Milan root; az-tdx-vtpm v1 without Intel roots, TD quote
 * unverified). */

#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "azure-evidence.h"
#include "kbs-test-util.h"

static void pcrs_from_json(json_object *a, uint8_t pcrs[AZURE_PCRS][32]) {
        assert_int_equal(json_object_array_length(a), AZURE_PCRS);
        for (size_t i = 0; i < AZURE_PCRS; i++)
                unhex_exact(json_object_get_string(json_object_array_get_idx(a, i)), pcrs[i], 32);
}

static void decoded_equal(json_object *mine, json_object *theirs, const char *key, bool hex) {
        const char *a = json_object_get_string(json_object_object_get(mine, key)),
                   *b = json_object_get_string(json_object_object_get(theirs, key));
        uint8_t *x, *y;
        size_t xn, yn;

        assert_non_null(a);
        assert_non_null(b);
        if (hex) {
                assert_int_equal(unhexmem(a, (void **) &x, &xn), 0);
                assert_int_equal(unhexmem(b, (void **) &y, &yn), 0);
        } else {
                assert_int_equal(b64_decode(a, strlen(a), B64_URL | B64_PAD, &x, &xn), 0);
                assert_int_equal(b64_decode(b, strlen(b), B64_URL | B64_PAD_OPTIONAL, &y, &yn), 0);
        }
        assert_int_equal(xn, yn);
        assert_memory_equal(x, y, xn);
        free(x);
        free(y);
}

static void compare(const char *mine_text, json_object *theirs, const char *hw_key, int version) {
        json_object *mine = json_tokener_parse(mine_text), *q, *tq;

        assert_non_null(mine);
        /* byte for byte against Trustee's own (serde_json compact) serialization of the fixture */
        assert_string_equal(mine_text,
                            json_object_to_json_string_ext(theirs, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        /* and field by field, decoded */
        assert_int_equal(json_object_get_int(json_object_object_get(mine, "version")), version);
        q = json_object_object_get(mine, "tpm_quote");
        tq = json_object_object_get(theirs, "tpm_quote");
        decoded_equal(q, tq, "signature", true);
        decoded_equal(q, tq, "message", true);
        for (size_t i = 0; i < AZURE_PCRS; i++)
                assert_string_equal(json_object_get_string(json_object_array_get_idx(json_object_object_get(q, "pcrs"), i)),
                                    json_object_get_string(json_object_array_get_idx(json_object_object_get(tq, "pcrs"), i)));
        decoded_equal(mine, theirs, "hcl_report", false);
        decoded_equal(mine, theirs, hw_key, false);
        assert_int_equal(json_object_object_length(mine), 4);
        assert_int_equal(json_object_object_length(q), 3);
        json_object_put(mine);
}

static void test_snp_v2(void **state) {
        json_object *theirs = fixture_json("trustee/az-snp-vtpm/evidence-v2.json"), *ev;
        SnpRoots *milan = roots_load("trustee/amd-roots/milan_ask_ark_asvk.pem", NULL);
        KbsVerifyContext ctx = { .amd_roots = milan };
        uint8_t pcrs[AZURE_PCRS][32], rd[48];
        _cleanup_free_ char *json = NULL;
        const char *reason = NULL;
        KbsClaims claims = {};
        AzParts parts = {};

        az_parts_load("trustee/az-snp-vtpm/evidence-v2.json", &parts);
        pcrs_from_json(parts.pcrs, pcrs);
        AzureEvidencePieces p = {
                .hcl_report = parts.hcl, .hcl_report_size = parts.hcl_size,
                .quote_msg = parts.msg, .quote_msg_size = parts.msg_size,
                .quote_sig = parts.sig, .quote_sig_size = parts.sig_size,
                .pcrs = (const uint8_t (*)[32]) pcrs,
                .hw = parts.vcek, .hw_size = parts.vcek_size,
        };
        assert_int_equal(azure_evidence_build(AZURE_TEE_SNP, &p, &json), 0);
        compare(json, theirs, "vcek", 2);

        /* it verifies in ephroot-kbs with the fixture's report data, and not with another */
        ev = json_tokener_parse(json);
        unhex_exact(AZ_SNP_V2_REPORT_DATA, rd, sizeof(rd));
        assert_int_equal(kbs_verify(&ctx, KBS_TEE_AZ_SNP_VTPM, ev, rd, sizeof(rd), &claims, &reason), 0);
        assert_int_equal(claims.vmpl, 0);
        kbs_claims_done(&claims);
        rd[5] ^= 1;
        assert_int_not_equal(kbs_verify(&ctx, KBS_TEE_AZ_SNP_VTPM, ev, rd, sizeof(rd), &claims, &reason), 0);
        kbs_claims_done(&claims);
        json_object_put(ev);

        /* bounds */
        char *none = NULL;
        p.hw_size = AZURE_VCEK_MAX + 1;
        assert_int_equal(azure_evidence_build(AZURE_TEE_SNP, &p, &none), -E2BIG);
        p.hw_size = 0;
        assert_int_equal(azure_evidence_build(AZURE_TEE_SNP, &p, &none), -EINVAL);
        assert_null(none);

        az_parts_done(&parts);
        snp_roots_free(milan);
        json_object_put(theirs);
}

static void test_tdx_v1_v2(void **state) {
        json_object *theirs = fixture_json("trustee/az-tdx-vtpm/evidence-v1.json"), *q, *ev;
        _cleanup_free_ char *json = NULL, *hcl = NULL, *tdq = NULL, *none_json = NULL;
        uint8_t pcrs[AZURE_PCRS][32], *sig, *msg, rd[48];
        KbsVerifyContext ctx = {};
        const char *reason = NULL;
        KbsClaims claims = {};
        size_t sig_size, msg_size, hcl_size, tdq_size;

        /* the separate genuine pieces: hcl-report.bin and td-quote.bin, the quote from the evidence */
        hcl = fixture_read("trustee/az-tdx-vtpm/hcl-report.bin", &hcl_size);
        tdq = fixture_read("trustee/az-tdx-vtpm/td-quote.bin", &tdq_size);
        q = json_object_object_get(theirs, "tpm_quote");
        assert_int_equal(unhexmem(json_object_get_string(json_object_object_get(q, "signature")), (void **) &sig, &sig_size), 0);
        assert_int_equal(unhexmem(json_object_get_string(json_object_object_get(q, "message")), (void **) &msg, &msg_size), 0);
        pcrs_from_json(json_object_object_get(q, "pcrs"), pcrs);
        AzureEvidencePieces p = {
                .hcl_report = (uint8_t *) hcl, .hcl_report_size = hcl_size,
                .quote_msg = msg, .quote_msg_size = msg_size,
                .quote_sig = sig, .quote_sig_size = sig_size,
                .pcrs = (const uint8_t (*)[32]) pcrs,
                .hw = (uint8_t *) tdq, .hw_size = tdq_size,
        };
        p.version = 1; /* Trustee's sample is version 1 */
        assert_int_equal(azure_evidence_build(AZURE_TEE_TDX, &p, &json), 0);
        compare(json, theirs, "td_quote", 1);

        /* the fixture's quote is over the nonce "challenge" (extraData), the TD quote unverified */
        memset(rd, 0, sizeof(rd));
        ev = json_tokener_parse(json);
        {
                /* extraData of the quote message: after magic(4) type(2) qualifiedSigner(TPM2B) */
                size_t off = 6, nlen = (size_t) msg[off] << 8 | msg[off + 1];
                size_t elen;
                off += 2 + nlen;
                elen = (size_t) msg[off] << 8 | msg[off + 1];
                assert_true(elen <= sizeof(rd));
                assert_memory_equal(msg + off + 2, "challenge", 9);
                assert_int_equal(kbs_verify(&ctx, KBS_TEE_AZ_TDX_VTPM, ev, msg + off + 2, elen, &claims, &reason), 0);
                assert_true(claims.td_quote_unverified);
                kbs_claims_done(&claims);
        }
        assert_int_not_equal(kbs_verify(&ctx, KBS_TEE_AZ_TDX_VTPM, ev, rd, sizeof(rd), &claims, &reason), 0);
        kbs_claims_done(&claims);
        json_object_put(ev);

        /* Version 2 (what the client sends by default, and guest-components since Trustee 258ea4ac):
         * the same members; the verifier adds Trustee's verify_user_data() (az_snp_vtpm/mod.rs at
         * 78962cd4): the HCL user-data must start with the report data. The genuine report's user-data
         * is not "challenge", so the same pieces as v2 are refused for that reason alone. */
        free(json);
        json = NULL;
        p.version = 0;
        assert_int_equal(azure_evidence_build(AZURE_TEE_TDX, &p, &json), 0);
        ev = json_tokener_parse(json);
        assert_int_equal(json_object_get_int(json_object_object_get(ev, "version")), 2);
        {
                size_t off = 6, nlen = (size_t) msg[off] << 8 | msg[off + 1], elen;
                off += 2 + nlen;
                elen = (size_t) msg[off] << 8 | msg[off + 1];
                reason = NULL;
                assert_int_equal(kbs_verify(&ctx, KBS_TEE_AZ_TDX_VTPM, ev, msg + off + 2, elen, &claims, &reason), -EBADMSG);
                assert_string_equal(reason, "HCL user-data does not start with the report data");
                kbs_claims_done(&claims);
        }
        json_object_put(ev);
        p.version = 3;
        assert_int_equal(azure_evidence_build(AZURE_TEE_TDX, &p, &none_json), -EINVAL);
        free(sig);
        free(msg);
        json_object_put(theirs);
}

static void test_imds_bodies(void **state) {
        _cleanup_free_ char *pem = fixture_read("trustee/az-snp-vtpm/vcek.pem", NULL), *body = NULL, *req = NULL;
        _cleanup_free_ char *tdq = NULL;
        json_object *o = json_object_new_object();
        uint8_t *der = NULL, *q = NULL;
        size_t der_size, q_size, tdq_size;

        /* certification: the first certificate of vcekCert, as DER (vcek.pem: VCEK, ASK, ARK) */
        json_object_object_add(o, "vcekCert", json_object_new_string(pem));
        json_object_object_add(o, "certificateChain", json_object_new_string(""));
        body = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        assert_int_equal(azure_imds_parse_certification(body, strlen(body), &der, &der_size), 0);
        assert_true(der_size > 1000 && der_size < 2000);
        assert_int_equal(der[0], 0x30); /* SEQUENCE */
        free(der);
        assert_int_equal(azure_imds_parse_certification("{}", 2, &der, &der_size), -EBADMSG);
        assert_int_equal(azure_imds_parse_certification("{\"vcekCert\":\"-----BEGIN CERTIFICATE-----\\n!!\\n-----END CERTIFICATE-----\"}",
                                                        strlen("{\"vcekCert\":\"-----BEGIN CERTIFICATE-----\\n!!\\n-----END CERTIFICATE-----\"}"),
                                                        &der, &der_size), -EBADMSG);
        assert_int_equal(azure_imds_parse_certification("[", 1, &der, &der_size), -EBADMSG);
        json_object_put(o);

        /* TD quote: request {"report": b64url}, reply {"quote": b64url} with or without padding */
        uint8_t tdreport[1024] = { 1, 2, 3 };
        assert_int_equal(azure_imds_td_quote_request(tdreport, sizeof(tdreport), &req), 0);
        assert_true(strncmp(req, "{\"report\":\"AQID", 15) == 0);
        tdq = fixture_read("trustee/az-tdx-vtpm/td-quote.bin", &tdq_size);
        _cleanup_free_ char *b = b64_encode(tdq, tdq_size, B64_URL), *reply = NULL;
        assert_true(asprintf(&reply, "{\"quote\":\"%s\"}", b) > 0);
        assert_int_equal(azure_imds_parse_td_quote(reply, strlen(reply), &q, &q_size), 0);
        assert_int_equal(q_size, tdq_size);
        assert_memory_equal(q, tdq, q_size);
        free(q);
        assert_int_equal(azure_imds_parse_td_quote("{\"quote\":\"\"}", 12, &q, &q_size), -EBADMSG);
        assert_int_equal(azure_imds_parse_td_quote("{\"quote\":7}", 11, &q, &q_size), -EBADMSG);
}

int main(void) {
        fixtures_require();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_snp_v2),
                cmocka_unit_test(test_tdx_v1_v2),
                cmocka_unit_test(test_imds_bodies),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
