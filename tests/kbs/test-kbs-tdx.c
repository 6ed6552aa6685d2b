/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TDX quotes: the genuine quotes in the fixtures (Trustee's tdx_quote_{4,5,6}.dat and the az-tdx-vtpm
 * sample) parse and their signature, QE report and PCK chain verify to the Intel root; changes to the
 * signed body, the attestation key, the QE report, its signature, and a foreign root are refused; the
 * QE report re-signed by a test PCK chain with one identity field changed (MRSIGNER, ISVPRODID,
 * ATTRIBUTES, MISCSELECT) is refused naming it, a lower ISVSVN by the policy's floor; az-tdx-vtpm
 * evidence with an Intel root configured holds only with accept_unevaluated_tdx_tcb. */

#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

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

/* A policy pinning the claims' PCR 0 for az-tdx-vtpm, with extra members; evaluated against c. */
static int evaluate(const KbsClaims *c, const char *extra, const char **ret_reason) {
        _cleanup_free_ char *text = policy_pinning_pcr0("az-tdx-vtpm", c, extra);
        KbsPolicySet ps = {};
        uint64_t mask = 0;
        int r;

        assert_int_equal(kbs_policy_parse(&ps, text, strlen(text), "test"), 0);
        *ret_reason = NULL;
        r = kbs_policy_evaluate(&ps, c, &mask, ret_reason);
        kbs_policy_set_done(&ps);
        return r;
}

static void test_az_tdx_with_root(void **state) {
        json_object *ev = fixture_json("trustee/az-tdx-vtpm/evidence-v1.json");
        size_t n;
        uint8_t *raw = load_quote("trustee/az-tdx-vtpm/td-quote.bin", &n);
        TdxQuote q;
        TdxRoots *roots;
        KbsClaims c = {};
        const char *reason = NULL;

        assert_int_equal(tdx_quote_parse(raw, n, &q), 0);
        roots = roots_from_quote(&q);
        KbsVerifyContext ctx = { .intel_roots = roots };
        assert_int_equal(kbs_verify(&ctx, KBS_TEE_AZ_TDX_VTPM, ev, (const uint8_t *) "challenge", 9, &c, &reason), 0);
        assert_false(c.td_quote_unverified);
        assert_true(c.td_tcb_unevaluated);
        assert_true(c.have_td_qe);
        assert_int_equal(c.td_qe_isvsvn, 5);
        /* the TCB status is not evaluated: refused unless the policy says so explicitly */
        assert_int_equal(evaluate(&c, "", &reason), -EACCES);
        assert_string_equal(reason, "TD quote TCB status is unevaluated (no Intel TCB info or CRLs) and the policy does "
                                    "not set accept_unevaluated_tdx_tcb");
        assert_int_equal(evaluate(&c, ",\"accept_unevaluated_tdx_tcb\":true", &reason), 0);
        assert_int_equal(evaluate(&c, ",\"accept_unevaluated_tdx_tcb\":false", &reason), -EACCES);
        /* accepting unverified quotes accepts less proof: it implies the unevaluated TCB */
        assert_int_equal(evaluate(&c, ",\"accept_unverified_td_quote\":true", &reason), 0);
        /* the QE's ISVSVN floor */
        assert_int_equal(evaluate(&c, ",\"accept_unevaluated_tdx_tcb\":true,\"min_tdx_qe_isvsvn\":5", &reason), 0);
        assert_int_equal(evaluate(&c, ",\"accept_unevaluated_tdx_tcb\":true,\"min_tdx_qe_isvsvn\":6", &reason), -EACCES);
        assert_string_equal(reason, "TD quote QE report ISVSVN is below the policy's min_tdx_qe_isvsvn");
        /* the TEE TCB SVN floor (the sample's: 02 01 06 00 ...), component by component */
#define TEE_SVN(hex) ",\"accept_unevaluated_tdx_tcb\":true,\"min_tdx_tee_tcb_svn\":\"" hex "\""
        assert_int_equal(evaluate(&c, TEE_SVN("02010600000000000000000000000000"), &reason), 0);
        assert_int_equal(evaluate(&c, TEE_SVN("01000000000000000000000000000000"), &reason), 0);
        static const char *const above[] = { TEE_SVN("02010700000000000000000000000000"),
                                             TEE_SVN("03000000000000000000000000000000"),
                                             TEE_SVN("01020000000000000000000000000000"),
                                             TEE_SVN("00000000000000000000000000000001") };
        for (size_t i = 0; i < ELEMENTSOF(above); i++) {
                assert_int_equal(evaluate(&c, above[i], &reason), -EACCES);
                assert_string_equal(reason, "TD quote TEE TCB SVN is below the policy's min_tdx_tee_tcb_svn");
        }
        kbs_claims_done(&c);

        /* unverified (no Intel root): a floor cannot be proven */
        assert_int_equal(kbs_verify(&(KbsVerifyContext) {}, KBS_TEE_AZ_TDX_VTPM, ev, (const uint8_t *) "challenge", 9, &c,
                                    &reason),
                         0);
        assert_int_equal(evaluate(&c, ",\"accept_unverified_td_quote\":true,\"min_tdx_qe_isvsvn\":0", &reason), -EACCES);
        assert_string_equal(reason, "policy requires a minimum TD quote QE ISVSVN the evidence does not prove");
        assert_int_equal(evaluate(&c, ",\"accept_unverified_td_quote\":true,\"min_tdx_tee_tcb_svn\":\"00000000000000000000000000000000\"",
                                  &reason),
                         -EACCES);
        assert_string_equal(reason, "policy requires a minimum TDX TEE TCB SVN the evidence does not prove");
        kbs_claims_done(&c);
#undef TEE_SVN

        /* bad values */
        static const char *const bad[] = { ",\"min_tdx_qe_isvsvn\":-1", ",\"min_tdx_qe_isvsvn\":65536",
                                           ",\"min_tdx_qe_isvsvn\":\"5\"", ",\"accept_unevaluated_tdx_tcb\":1",
                                           ",\"min_tdx_tee_tcb_svn\":\"0201\"", ",\"min_tdx_tee_tcb_svn\":2",
                                           ",\"min_tdx_tee_tcb_svn\":\"0201060000000000000000000000000g\"" };
        c = (KbsClaims) { .have_pcrs = true, .pcr_mask = 1 };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *text = policy_pinning_pcr0("az-tdx-vtpm", &c, bad[i]);
                KbsPolicySet ps = {};
                assert_int_equal(kbs_policy_parse(&ps, text, strlen(text), "test"), -EINVAL);
                kbs_policy_set_done(&ps);
        }
        tdx_roots_free(roots);
        json_object_put(ev);
        free(raw);
}

/* --- The QE's identity, with a test PCK chain ----------------------------------------------------
 * The genuine quote's QE report is changed in one field and re-signed by a test PCK certificate under
 * a test root, which the verifier is given as its Intel root: every other check passes, so only the
 * identity can refuse it. */

typedef struct TestPck {
        EVP_PKEY *root_key, *leaf_key;
        X509 *root;
        char *chain_pem; /* leaf, then root */
        size_t chain_size;
} TestPck;

static X509 *make_cert(EVP_PKEY *key, EVP_PKEY *issuer_key, X509 *issuer, const char *cn) {
        X509 *c = X509_new();
        X509_NAME *name = X509_NAME_new();
        X509V3_CTX v3;
        X509_EXTENSION *e;

        assert_non_null(c);
        assert_non_null(name);
        assert_int_equal(X509_set_version(c, 2), 1);
        assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(c), issuer ? 2 : 1), 1);
        assert_non_null(X509_gmtime_adj(X509_getm_notBefore(c), -3600));
        assert_non_null(X509_gmtime_adj(X509_getm_notAfter(c), 3600));
        assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *) cn, -1, -1, 0), 1);
        assert_int_equal(X509_set_subject_name(c, name), 1);
        assert_int_equal(X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name), 1);
        assert_int_equal(X509_set_pubkey(c, key), 1);
        X509V3_set_ctx(&v3, issuer ? issuer : c, c, NULL, NULL, 0);
        e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, issuer ? "critical,CA:FALSE" : "critical,CA:TRUE");
        assert_non_null(e);
        assert_int_equal(X509_add_ext(c, e, -1), 1);
        X509_EXTENSION_free(e);
        assert_true(X509_sign(c, issuer_key, EVP_sha256()) > 0);
        X509_NAME_free(name);
        return c;
}

static void test_pck_new(TestPck *t) {
        BIO *bio = BIO_new(BIO_s_mem());
        X509 *leaf;
        char *p;
        long n;

        t->root_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        t->leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        assert_non_null(t->root_key);
        assert_non_null(t->leaf_key);
        t->root = make_cert(t->root_key, t->root_key, NULL, "Test SGX Root CA");
        leaf = make_cert(t->leaf_key, t->root_key, t->root, "Test SGX PCK Certificate");
        assert_int_equal(PEM_write_bio_X509(bio, leaf), 1);
        assert_int_equal(PEM_write_bio_X509(bio, t->root), 1);
        n = BIO_get_mem_data(bio, &p);
        t->chain_pem = strndup(p, (size_t) n);
        t->chain_size = (size_t) n;
        BIO_free(bio);
        X509_free(leaf);
}

static void test_pck_done(TestPck *t) {
        EVP_PKEY_free(t->root_key);
        EVP_PKEY_free(t->leaf_key);
        X509_free(t->root);
        free(t->chain_pem);
}

static TdxRoots *test_pck_roots(const TestPck *t) {
        TdxRoots *r = tdx_roots_new();
        BIO *bio = BIO_new(BIO_s_mem());
        char *p;
        long n;

        assert_int_equal(PEM_write_bio_X509(bio, t->root), 1);
        n = BIO_get_mem_data(bio, &p);
        assert_int_equal(tdx_roots_add_pem(r, p, (size_t) n), 0);
        BIO_free(bio);
        return r;
}

static size_t put_le(uint8_t *p, uint32_t v, size_t size) {
        for (size_t i = 0; i < size; i++)
                p[i] = (uint8_t) (v >> (8 * i));
        return size;
}

/* The quote q with qe_report in place of its QE report, signed by the test PCK, and the test chain. */
static uint8_t *requote(const TdxQuote *q, const uint8_t qe_report[TDX_QE_REPORT_SIZE], const TestPck *t, size_t *ret_n) {
        size_t cert_size = TDX_QE_REPORT_SIZE + 64 + 2 + q->qe_auth_size + 6 + t->chain_size,
               sig_size = 128 + 6 + cert_size, n = q->signed_size + 4 + sig_size, o = 0, der_n = 0;
        uint8_t *b = malloc(n), der[128];
        const unsigned char *dp = der;
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        ECDSA_SIG *es;

        assert_non_null(b);
        memcpy(b, q->signed_data, q->signed_size);
        o = q->signed_size;
        o += put_le(b + o, (uint32_t) sig_size, 4);
        memcpy(b + o, q->signature, 64);
        memcpy(b + o + 64, q->attest_key, 64);
        o += 128;
        o += put_le(b + o, 6, 2);
        o += put_le(b + o, (uint32_t) cert_size, 4);
        memcpy(b + o, qe_report, TDX_QE_REPORT_SIZE);
        o += TDX_QE_REPORT_SIZE;
        der_n = sizeof(der);
        assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, t->leaf_key), 1);
        assert_int_equal(EVP_DigestSign(md, der, &der_n, qe_report, TDX_QE_REPORT_SIZE), 1);
        EVP_MD_CTX_free(md);
        es = d2i_ECDSA_SIG(NULL, &dp, (long) der_n);
        assert_non_null(es);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), b + o, 32), 32);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), b + o + 32, 32), 32);
        ECDSA_SIG_free(es);
        o += 64;
        o += put_le(b + o, (uint32_t) q->qe_auth_size, 2);
        memcpy(b + o, q->qe_auth, q->qe_auth_size);
        o += q->qe_auth_size;
        o += put_le(b + o, 5, 2);
        o += put_le(b + o, (uint32_t) t->chain_size, 4);
        memcpy(b + o, t->chain_pem, t->chain_size);
        o += t->chain_size;
        assert_int_equal(o, n);
        *ret_n = n;
        return b;
}

static void test_qe_identity(void **state) {
        static const char *const files[] = { "trustee/tdx/tdx_quote_4.dat", "trustee/tdx/tdx_quote_5.dat",
                                             "trustee/tdx/tdx_quote_6.dat", "trustee/az-tdx-vtpm/td-quote.bin" };
        static const struct {
                size_t offset;
                uint8_t xor;
                const char *expect; /* NULL: verifies */
        } changes[] = {
                { 0, 0, NULL }, /* identity unchanged, re-signed: the test chain itself is accepted */
                { TDX_QE_MRSIGNER_OFFSET + 31, 0x01, "TD quote QE report MRSIGNER is not Intel's quoting enclave signer" },
                { TDX_QE_MRSIGNER_OFFSET, 0x80, "TD quote QE report MRSIGNER is not Intel's quoting enclave signer" },
                { TDX_QE_ISVPRODID_OFFSET, 0x03, "TD quote QE report ISVPRODID is not the TDX quoting enclave's (2)" },
                { TDX_QE_ISVPRODID_OFFSET + 1, 0x01, "TD quote QE report ISVPRODID is not the TDX quoting enclave's (2)" },
                { TDX_QE_ATTRIBUTES_OFFSET, 0x02, "TD quote QE report ATTRIBUTES are not a production quoting enclave's" },
                { TDX_QE_MISCSELECT_OFFSET, 0x01, "TD quote QE report MISCSELECT is not the quoting enclave's (0)" },
                { TDX_QE_ISVSVN_OFFSET, 0x01, NULL }, /* ISVSVN is the policy's to judge */
        };
        TestPck t = {};
        TdxRoots *roots;

        test_pck_new(&t);
        roots = test_pck_roots(&t);
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                size_t n;
                uint8_t *raw = load_quote(files[i], &n), qe[TDX_QE_REPORT_SIZE];
                TdxQuote q, q2;

                assert_int_equal(tdx_quote_parse(raw, n, &q), 0);
                assert_memory_equal(q.qe_report + TDX_QE_MRSIGNER_OFFSET, tdx_qe_mrsigner, 32);
                for (size_t j = 0; j < ELEMENTSOF(changes); j++) {
                        const char *reason = NULL;
                        size_t n2;

                        memcpy(qe, q.qe_report, sizeof(qe));
                        qe[changes[j].offset] ^= changes[j].xor;
                        uint8_t *re = requote(&q, qe, &t, &n2);
                        assert_int_equal(tdx_quote_parse(re, n2, &q2), 0);
                        int r = tdx_quote_verify(roots, &q2, &reason);
                        if (changes[j].expect) {
                                assert_int_equal(r, -EBADMSG);
                                assert_string_equal(reason, changes[j].expect);
                        } else if (r != 0)
                                fail_msg("%s, change %zu: %s", files[i], j, reason);
                        else
                                assert_int_equal(tdx_quote_qe_isvsvn(&q2),
                                                 tdx_quote_qe_isvsvn(&q) ^
                                                         (changes[j].offset == TDX_QE_ISVSVN_OFFSET ? changes[j].xor : 0));
                        free(re);
                }
                free(raw);
        }
        tdx_roots_free(roots);
        test_pck_done(&t);
        (void) state;
}

/* The same through az-tdx-vtpm evidence: the re-signed quote with another MRSIGNER is refused by the
 * verifier naming the field; with a lower ISVSVN it verifies and the policy's floor refuses it. */
static void test_qe_identity_az(void **state) {
        json_object *ev = fixture_json("trustee/az-tdx-vtpm/evidence-v1.json");
        const char *b64 = json_object_get_string(json_object_object_get(ev, "td_quote"));
        uint8_t *raw, qe[TDX_QE_REPORT_SIZE];
        size_t n, n2;
        TestPck t = {};
        TdxRoots *roots;
        TdxQuote q;
        KbsClaims c = {};
        const char *reason = NULL;

        assert_int_equal(b64_decode(b64, strlen(b64), B64_URL | B64_PAD_OPTIONAL, &raw, &n), 0);
        assert_int_equal(tdx_quote_parse(raw, n, &q), 0);
        test_pck_new(&t);
        roots = test_pck_roots(&t);
        KbsVerifyContext ctx = { .intel_roots = roots };

        for (unsigned k = 0; k < 2; k++) {
                memcpy(qe, q.qe_report, sizeof(qe));
                if (k == 0)
                        qe[TDX_QE_MRSIGNER_OFFSET + 7] ^= 0x10;
                else
                        qe[TDX_QE_ISVSVN_OFFSET] = 4; /* genuine: 5 */
                uint8_t *re = requote(&q, qe, &t, &n2);
                _cleanup_free_ char *s = b64_encode(re, n2, B64_URL);
                json_object_object_add(ev, "td_quote", json_object_new_string(s));
                int r = kbs_verify(&ctx, KBS_TEE_AZ_TDX_VTPM, ev, (const uint8_t *) "challenge", 9, &c, &reason);
                if (k == 0) {
                        assert_int_equal(r, -EBADMSG);
                        assert_string_equal(reason, "TD quote QE report MRSIGNER is not Intel's quoting enclave signer");
                } else {
                        assert_int_equal(r, 0);
                        assert_int_equal(c.td_qe_isvsvn, 4);
                        assert_int_equal(evaluate(&c, ",\"accept_unevaluated_tdx_tcb\":true,\"min_tdx_qe_isvsvn\":5", &reason),
                                         -EACCES);
                        assert_string_equal(reason, "TD quote QE report ISVSVN is below the policy's min_tdx_qe_isvsvn");
                        assert_int_equal(evaluate(&c, ",\"accept_unevaluated_tdx_tcb\":true,\"min_tdx_qe_isvsvn\":4", &reason), 0);
                }
                kbs_claims_done(&c);
                free(re);
        }
        tdx_roots_free(roots);
        test_pck_done(&t);
        json_object_put(ev);
        free(raw);
        (void) state;
}

int main(void) {
        fixtures_require();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_genuine_quotes),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_az_tdx_with_root),
                cmocka_unit_test(test_qe_identity),
                cmocka_unit_test(test_qe_identity_az),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
