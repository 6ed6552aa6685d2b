/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "macro.h"
#include "tdx-quote.h"

#define TDX_HEADER_SIZE 48U
#define TDX_BODY_V4_SIZE 584U
#define TDX_BODY_V5_15_SIZE 648U
#define TDX_REPORTDATA_IN_BODY 520U
#define TDX_TDINFO_IN_BODY 120U
#define TDX_TEE_TYPE 0x81U
#define TDX_CERT_QE_REPORT 6U
#define TDX_CERT_PCK_CHAIN 5U
#define SGX_REPORT_SIZE TDX_QE_REPORT_SIZE
#define SGX_REPORTDATA_OFFSET TDX_QE_REPORTDATA_OFFSET
#define TDX_ROOTS_MAX 8

const uint8_t tdx_qe_mrsigner[32] = {
        0xdc, 0x9e, 0x2a, 0x7c, 0x6f, 0x94, 0x8f, 0x17, 0x47, 0x4e, 0x34, 0xa7, 0xfc, 0x43, 0xed, 0x03,
        0x0f, 0x7c, 0x15, 0x63, 0xf1, 0xba, 0xbd, 0xdf, 0x63, 0x40, 0xc8, 0x2e, 0x0e, 0x54, 0xa8, 0xc5,
};
/* ATTRIBUTES (flags, xfrm) and the mask Intel's QE identity applies: INIT and MODE64BIT set, DEBUG
 * (bit 1) clear; bit 2 (PROVISIONKEY) ignored; xfrm ignored. */
static const uint8_t tdx_qe_attributes[16] = { 0x11 };
static const uint8_t tdx_qe_attributes_mask[16] = { 0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static uint16_t le16(const uint8_t *p) {
        return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

int tdx_quote_parse(const uint8_t *p, size_t n, TdxQuote *ret) {
        TdxQuote q = {};
        size_t body, body_size, off, sig_size, cert_size, inner_size, end;

        assert_return(p || n == 0, -EINVAL);
        assert_return(ret, -EINVAL);

        if (n < TDX_HEADER_SIZE + 6 || le32(p + 4) != TDX_TEE_TYPE || le16(p + 2) != 2 /* ECDSA P-256 */)
                return -EBADMSG;
        q.version = le16(p);
        if (q.version == 4) {
                body = TDX_HEADER_SIZE;
                body_size = TDX_BODY_V4_SIZE;
        } else if (q.version == 5) {
                uint16_t type = le16(p + TDX_HEADER_SIZE);
                body = TDX_HEADER_SIZE + 6;
                body_size = le32(p + TDX_HEADER_SIZE + 2);
                if (!((type == 2 && body_size == TDX_BODY_V4_SIZE) || (type == 3 && body_size == TDX_BODY_V5_15_SIZE)))
                        return -EBADMSG;
        } else
                return -EOPNOTSUPP;
        off = body + body_size;
        if (n < off + 4)
                return -EBADMSG;
        q.signed_data = p;
        q.signed_size = off;
        q.tee_tcb_svn = p + body;
        q.report_data = p + body + TDX_REPORTDATA_IN_BODY;
        q.td_info = p + body + TDX_TDINFO_IN_BODY;

        sig_size = le32(p + off);
        off += 4;
        if (sig_size > n - off || sig_size < 64 + 64 + 6)
                return -EBADMSG;
        end = off + sig_size;
        q.signature = p + off;
        q.attest_key = p + off + 64;
        off += 128;
        if (le16(p + off) != TDX_CERT_QE_REPORT)
                return -EOPNOTSUPP;
        cert_size = le32(p + off + 2);
        off += 6;
        if (cert_size > end - off || cert_size < SGX_REPORT_SIZE + 64 + 2)
                return -EBADMSG;
        q.qe_report = p + off;
        q.qe_signature = p + off + SGX_REPORT_SIZE;
        off += SGX_REPORT_SIZE + 64;
        q.qe_auth_size = le16(p + off);
        off += 2;
        if (q.qe_auth_size > end - off)
                return -EBADMSG;
        q.qe_auth = p + off;
        off += q.qe_auth_size;
        if (end - off < 6 || le16(p + off) != TDX_CERT_PCK_CHAIN)
                return -EBADMSG;
        inner_size = le32(p + off + 2);
        off += 6;
        if (inner_size > end - off || inner_size == 0 || inner_size > 16 * 1024)
                return -EBADMSG;
        q.pck_chain = (const char *) p + off;
        q.pck_chain_size = inner_size;
        /* what follows the signature data (the Azure quote service pads) must be zero */
        for (size_t i = end; i < n; i++)
                if (p[i] != 0)
                        return -EBADMSG;
        /* the PEM may carry a trailing NUL */
        while (q.pck_chain_size > 0 && q.pck_chain[q.pck_chain_size - 1] == '\0')
                q.pck_chain_size--;

        *ret = q;
        return 0;
}

struct TdxRoots {
        X509 *roots[TDX_ROOTS_MAX];
        size_t n;
};

TdxRoots *tdx_roots_new(void) {
        return calloc(1, sizeof(TdxRoots));
}

void tdx_roots_free(TdxRoots *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n; i++)
                X509_free(r->roots[i]);
        free(r);
}

size_t tdx_roots_count(const TdxRoots *r) {
        return r ? r->n : 0;
}

int tdx_roots_add_pem(TdxRoots *r, const char *pem, size_t size) {
        BIO *bio;
        X509 *c;
        int k = -EBADMSG;

        assert_return(r && pem, -EINVAL);
        if (size > 64 * 1024)
                return -EFBIG;
        bio = BIO_new_mem_buf(pem, (int) size);
        if (!bio)
                return -ENOMEM;
        while ((c = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
                EVP_PKEY *key = X509_get0_pubkey(c);
                if (r->n >= TDX_ROOTS_MAX || X509_check_issued(c, c) != X509_V_OK || !key || X509_verify(c, key) != 1) {
                        X509_free(c);
                        k = -EBADMSG;
                        break;
                }
                r->roots[r->n++] = c;
                k = 0;
        }
        BIO_free(bio);
        ERR_clear_error();
        return k;
}

uint16_t tdx_quote_qe_isvsvn(const TdxQuote *q) {
        return le16(q->qe_report + TDX_QE_ISVSVN_OFFSET);
}

/* Whether the (authenticated) QE report is Intel's TDX quoting enclave. DCAP's PCE certifies the
 * attestation key of any enclave with the PROVISIONKEY attribute: without this check anyone with an
 * SGX-capable CPU could have a key certified and sign TD quotes of their choosing. */
static int qe_identity_check(const uint8_t *qe, const char **ret_reason) {
        if (CRYPTO_memcmp(qe + TDX_QE_MRSIGNER_OFFSET, tdx_qe_mrsigner, sizeof(tdx_qe_mrsigner)) != 0) {
                *ret_reason = "TD quote QE report MRSIGNER is not Intel's quoting enclave signer";
                return -EBADMSG;
        }
        if (le16(qe + TDX_QE_ISVPRODID_OFFSET) != TDX_QE_ISVPRODID) {
                *ret_reason = "TD quote QE report ISVPRODID is not the TDX quoting enclave's (2)";
                return -EBADMSG;
        }
        for (size_t i = 0; i < sizeof(tdx_qe_attributes); i++)
                if ((qe[TDX_QE_ATTRIBUTES_OFFSET + i] & tdx_qe_attributes_mask[i]) != tdx_qe_attributes[i]) {
                        *ret_reason = "TD quote QE report ATTRIBUTES are not a production quoting enclave's";
                        return -EBADMSG;
                }
        if (le32(qe + TDX_QE_MISCSELECT_OFFSET) != 0) {
                *ret_reason = "TD quote QE report MISCSELECT is not the quoting enclave's (0)";
                return -EBADMSG;
        }
        return 0;
}

/* ECDSA P-256 over data with a raw x || y key and a raw r || s signature. */
static int p256_verify(const uint8_t key_xy[64], EVP_PKEY *key, const uint8_t sig_rs[64], const uint8_t *data,
                       size_t size) {
        EVP_PKEY *built = NULL;
        EVP_MD_CTX *ctx = NULL;
        ECDSA_SIG *sig = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(sig_rs, 32, NULL), *s = BN_bin2bn(sig_rs + 32, 32, NULL);
        unsigned char *der = NULL;
        int n, ret = -EBADMSG;

        if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
                BN_free(r);
                BN_free(s);
                ret = -ENOMEM;
                goto finish;
        }
        r = s = NULL;
        if (!key) {
                OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
                OSSL_PARAM *params = NULL;
                EVP_PKEY_CTX *pctx = NULL;
                uint8_t point[65] = { 0x04 };

                memcpy(point + 1, key_xy, 64);
                if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) &&
                    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) &&
                    (params = OSSL_PARAM_BLD_to_param(bld)) && (pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) &&
                    EVP_PKEY_fromdata_init(pctx) > 0)
                        (void) EVP_PKEY_fromdata(pctx, &built, EVP_PKEY_PUBLIC_KEY, params);
                EVP_PKEY_CTX_free(pctx);
                OSSL_PARAM_free(params);
                OSSL_PARAM_BLD_free(bld);
                key = built;
                if (!key)
                        goto finish;
        }
        n = i2d_ECDSA_SIG(sig, &der);
        ctx = EVP_MD_CTX_new();
        if (n > 0 && ctx && EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, key, NULL) == 1 &&
            EVP_DigestVerify(ctx, der, (size_t) n, data, size) == 1)
                ret = 0;

finish:
        ECDSA_SIG_free(sig);
        OPENSSL_free(der);
        EVP_MD_CTX_free(ctx);
        EVP_PKEY_free(built);
        ERR_clear_error();
        return ret;
}

int tdx_quote_verify(const TdxRoots *roots, const TdxQuote *q, const char **ret_reason) {
        STACK_OF(X509) *chain = NULL;
        X509_STORE *store = NULL;
        X509_STORE_CTX *sctx = NULL;
        X509 *leaf = NULL;
        BIO *bio = NULL;
        uint8_t hash[32];
        EVP_MD_CTX *md = NULL;
        unsigned hn = 0;
        int r = -EBADMSG;

        assert_return(roots && q && ret_reason, -EINVAL);

        if (p256_verify(q->attest_key, NULL, q->signature, q->signed_data, q->signed_size) < 0) {
                *ret_reason = "TD quote signature does not verify with its attestation key";
                return -EBADMSG;
        }
        /* the QE report binds the attestation key: report_data[0:32] = SHA-256(key || QE auth data) */
        md = EVP_MD_CTX_new();
        if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(md, q->attest_key, 64) != 1 ||
            EVP_DigestUpdate(md, q->qe_auth, q->qe_auth_size) != 1 || EVP_DigestFinal_ex(md, hash, &hn) != 1) {
                EVP_MD_CTX_free(md);
                ERR_clear_error();
                return -EIO;
        }
        EVP_MD_CTX_free(md);
        if (CRYPTO_memcmp(q->qe_report + SGX_REPORTDATA_OFFSET, hash, 32) != 0) {
                *ret_reason = "TD quote QE report does not bind the attestation key";
                return -EBADMSG;
        }

        /* the PCK chain (leaf first) to a configured Intel root */
        bio = BIO_new_mem_buf(q->pck_chain, (int) q->pck_chain_size);
        chain = sk_X509_new_null();
        store = X509_STORE_new();
        sctx = X509_STORE_CTX_new();
        if (!bio || !chain || !store || !sctx) {
                r = -ENOMEM;
                goto finish;
        }
        leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        for (X509 *c; sk_X509_num(chain) < 4 && (c = PEM_read_bio_X509(bio, NULL, NULL, NULL));)
                if (!sk_X509_push(chain, c))
                        X509_free(c);
        if (!leaf) {
                *ret_reason = "TD quote carries no PCK certificate";
                goto finish;
        }
        for (size_t i = 0; i < roots->n; i++)
                (void) X509_STORE_add_cert(store, roots->roots[i]);
        if (X509_STORE_CTX_init(sctx, store, leaf, chain) != 1 || X509_verify_cert(sctx) != 1) {
                *ret_reason = "TD quote PCK chain does not lead to a trusted Intel root";
                goto finish;
        }
        if (p256_verify(NULL, X509_get0_pubkey(leaf), q->qe_signature, q->qe_report, SGX_REPORT_SIZE) < 0) {
                *ret_reason = "TD quote QE report signature does not verify with the PCK certificate";
                goto finish;
        }
        r = qe_identity_check(q->qe_report, ret_reason);

finish:
        X509_STORE_CTX_free(sctx);
        X509_STORE_free(store);
        sk_X509_pop_free(chain, X509_free);
        X509_free(leaf);
        BIO_free(bio);
        ERR_clear_error();
        return r;
}
