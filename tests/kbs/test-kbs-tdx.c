/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TDX quotes: the genuine quotes in the fixtures (Trustee's tdx_quote_{4,5,6}.dat and the az-tdx-vtpm
 * sample) parse and their signature, QE report and PCK chain verify to the Intel root; changes to the
 * signed body, the attestation key, the QE report, its signature, and a foreign root are refused; and
 * az-tdx-vtpm evidence with an Intel root configured is accepted without accept_unverified_td_quote. */

#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kbs-test-util.h"
#include "tdx-quote.h"

/* The self-signed root at the end of the quote's own PCK chain. The test uses it as the configured
 * root (a deployment configures Intel's root from Intel, not from the quote). */
static TdxRoots *roots_from_quote(const TdxQuote *q) {
        char *pem = strndup(q->pck_chain, q->pck_chain_size), *last = NULL;
        TdxRoots *r = tdx_roots_new();

        for (char *p = pem; (p = strstr(p, "-----BEGIN CERTIFICATE-----")); p++)
                last = p;
        assert_non_null(last);
        assert_int_equal(tdx_roots_add_pem(r, last, strlen(last)), 0);
        /* a chain with a non-self-signed certificate is not a root */
        TdxRoots *bad = tdx_roots_new();
        assert_int_not_equal(tdx_roots_add_pem(bad, pem, strlen(pem)), 0);
        tdx_roots_free(bad);
        free(pem);
        return r;
}

static uint8_t *load_quote(const char *rel, size_t *n) {
        return (uint8_t *) fixture_read(rel, n);
}

static void test_genuine_quotes(void **state) {
        static const char *const files[] = { "trustee/tdx/tdx_quote_4.dat", "trustee/tdx/tdx_quote_5.dat",
                                             "trustee/tdx/tdx_quote_6.dat", "trustee/az-tdx-vtpm/td-quote.bin" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                size_t n;
                uint8_t *raw = load_quote(files[i], &n);
                const char *reason = NULL;
                TdxQuote q;
                TdxRoots *roots;

                assert_int_equal(tdx_quote_parse(raw, n, &q), 0);
                roots = roots_from_quote(&q);
                if (tdx_quote_verify(roots, &q, &reason) != 0)
                        fail_msg("%s: %s", files[i], reason);
                tdx_roots_free(roots);
                free(raw);
        }
}

static void test_refusals(void **state) {
        size_t n;
        uint8_t *raw = load_quote("trustee/az-tdx-vtpm/td-quote.bin", &n);
        const char *reason;
        TdxQuote q;
        TdxRoots *roots, *amd;

        assert_int_equal(tdx_quote_parse(raw, n, &q), 0);
        roots = roots_from_quote(&q);
        struct {
                const uint8_t *at;
                const char *expect;
        } flips[] = {
                { q.signed_data + 8, "TD quote signature does not verify with its attestation key" },           /* header */
                { q.report_data, "TD quote signature does not verify with its attestation key" },              /* body */
                { q.signature + 5, "TD quote signature does not verify with its attestation key" },
                { q.attest_key + 40, "TD quote signature does not verify with its attestation key" },
                { q.qe_report + 10, "TD quote QE report signature does not verify with the PCK certificate" },
                { q.qe_report + 320, "TD quote QE report does not bind the attestation key" },
                { q.qe_signature + 1, "TD quote QE report signature does not verify with the PCK certificate" },
        };
        for (size_t i = 0; i < ELEMENTSOF(flips); i++) {
                uint8_t *b = (uint8_t *) flips[i].at;
                *b ^= 0x04;
                assert_int_not_equal(tdx_quote_verify(roots, &q, &reason), 0);
                assert_string_equal(reason, flips[i].expect);
                *b ^= 0x04;
        }
        assert_int_equal(tdx_quote_verify(roots, &q, &reason), 0);

        /* another root */
        size_t an;
        char *pem = fixture_read("trustee/amd-roots/milan_ask_ark_asvk.pem", &an), *ark = strstr(pem, "-----BEGIN");
        ark = strstr(ark + 1, "-----BEGIN"); /* the ARK is the second certificate */
        amd = tdx_roots_new();
        assert_int_equal(tdx_roots_add_pem(amd, ark, strlen(ark) - strlen(strstr(ark + 1, "-----BEGIN"))), 0);
        assert_int_not_equal(tdx_quote_verify(amd, &q, &reason), 0);
        assert_string_equal(reason, "TD quote PCK chain does not lead to a trusted Intel root");
        tdx_roots_free(amd);
        free(pem);

        /* truncations of the signed part and the signature data; non-zero padding after it */
        size_t end = (size_t) (q.pck_chain + q.pck_chain_size - (const char *) raw);
        for (size_t k = 0; k < end; k += 97)
                assert_int_not_equal(tdx_quote_parse(raw, k, &q), 0);
        if (n > end + 1) {
                raw[n - 1] = 1;
                assert_int_not_equal(tdx_quote_parse(raw, n, &q), 0);
        }
        tdx_roots_free(roots);
        free(raw);
}

static void test_az_tdx_with_root(void **state) {
        json_object *ev = fixture_json("trustee/az-tdx-vtpm/evidence-v1.json");
        size_t n;
        uint8_t *raw = load_quote("trustee/az-tdx-vtpm/td-quote.bin", &n);
        TdxQuote q;
        TdxRoots *roots;
        KbsClaims c = {};
        const char *reason = NULL;
        KbsPolicySet ps = {};
        uint64_t mask;

        assert_int_equal(tdx_quote_parse(raw, n, &q), 0);
        roots = roots_from_quote(&q);
        KbsVerifyContext ctx = { .intel_roots = roots };
        assert_int_equal(kbs_verify(&ctx, KBS_TEE_AZ_TDX_VTPM, ev, (const uint8_t *) "challenge", 9, &c, &reason), 0);
        assert_false(c.td_quote_unverified);
        assert_true(c.td_tcb_unevaluated);
        /* a policy without accept_unverified_td_quote holds now */
        _cleanup_free_ char *strict = policy_pinning_pcr0("az-tdx-vtpm", &c, "");
        assert_int_equal(kbs_policy_parse(&ps, strict, strlen(strict), "strict"), 0);
        assert_int_equal(kbs_policy_evaluate(&ps, &c, &mask, &reason), 0);
        kbs_policy_set_done(&ps);
        kbs_claims_done(&c);
        tdx_roots_free(roots);
        json_object_put(ev);
        free(raw);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_genuine_quotes),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_az_tdx_with_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
