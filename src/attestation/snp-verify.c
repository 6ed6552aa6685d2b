/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <openssl/bn.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "log.h"
#include "snp-verify.h"

#define SNP_ROOTS_MAX 8
#define SNP_SIGNERS_MAX 4

typedef struct SnpRoot {
        X509 *ark;
        X509 *signers[SNP_SIGNERS_MAX]; /* ASK, ASVK */
        bool signer_is_vlek[SNP_SIGNERS_MAX];
        size_t n_signers;
        SnpProduct product;
} SnpRoot;

struct SnpRoots {
        SnpRoot roots[SNP_ROOTS_MAX];
        size_t n;
};

SnpRoots *snp_roots_new(void) {
        return calloc(1, sizeof(SnpRoots));
}

void snp_roots_free(SnpRoots *roots) {
        if (!roots)
                return;
        for (size_t i = 0; i < roots->n; i++) {
                X509_free(roots->roots[i].ark);
                for (size_t j = 0; j < roots->roots[i].n_signers; j++)
                        X509_free(roots->roots[i].signers[j]);
        }
        free(roots);
}

size_t snp_roots_count(const SnpRoots *roots) {
        return roots ? roots->n : 0;
}

static bool signed_by(X509 *cert, X509 *issuer) {
        EVP_PKEY *k = X509_get0_pubkey(issuer);
        bool ok = k && X509_verify(cert, k) == 1;

        ERR_clear_error();
        return ok;
}

static void common_name(X509 *c, char *buf, size_t size) {
        buf[0] = '\0';
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(c), NID_commonName, buf, (int) size) < 0)
                buf[0] = '\0';
        ERR_clear_error();
}

int snp_roots_add_pem(SnpRoots *roots, const char *pem, size_t size) {
        X509 *certs[SNP_SIGNERS_MAX + 2] = {};
        size_t n = 0;
        SnpRoot root = {};
        BIO *bio;
        char cn[128];
        int r = -EBADMSG;

        assert_return(roots && pem, -EINVAL);
        if (roots->n >= SNP_ROOTS_MAX)
                return -E2BIG;
        if (size > 64 * 1024)
                return -EFBIG;

        bio = BIO_new_mem_buf(pem, (int) size);
        if (!bio)
                return -ENOMEM;
        for (;;) {
                X509 *c = PEM_read_bio_X509(bio, NULL, NULL, NULL);
                if (!c)
                        break;
                if (n >= ELEMENTSOF(certs)) {
                        X509_free(c);
                        goto finish;
                }
                certs[n++] = c;
        }
        ERR_clear_error();

        for (size_t i = 0; i < n; i++)
                if (X509_check_issued(certs[i], certs[i]) == X509_V_OK && signed_by(certs[i], certs[i])) {
                        if (root.ark)
                                goto finish; /* two roots in one file */
                        root.ark = certs[i];
                        certs[i] = NULL;
                }
        if (!root.ark)
                goto finish;
        for (size_t i = 0; i < n; i++) {
                if (!certs[i])
                        continue;
                if (!signed_by(certs[i], root.ark) || root.n_signers >= SNP_SIGNERS_MAX)
                        goto finish;
                common_name(certs[i], cn, sizeof(cn));
                root.signer_is_vlek[root.n_signers] = strstr(cn, "VLEK") != NULL;
                root.signers[root.n_signers++] = certs[i];
                certs[i] = NULL;
        }
        if (root.n_signers == 0)
                goto finish;

        common_name(root.ark, cn, sizeof(cn));
        root.product = SNP_PRODUCT_UNKNOWN;
        if (startswith(cn, "ARK-")) {
                int p = snp_product_from_string(cn + 4);
                if (p > 0)
                        root.product = (SnpProduct) p;
        }
        roots->roots[roots->n++] = root;
        root = (SnpRoot) {};
        r = 0;

finish:
        X509_free(root.ark);
        for (size_t j = 0; j < root.n_signers; j++)
                X509_free(root.signers[j]);
        for (size_t i = 0; i < n; i++)
                X509_free(certs[i]);
        BIO_free(bio);
        ERR_clear_error();
        return r;
}

static X509 *cert_parse(const uint8_t *p, size_t n) {
        X509 *c = NULL;

        if (n > 16 * 1024)
                return NULL;
        if (n > 10 && memcmp(p, "-----BEGIN", 10) == 0) {
                BIO *bio = BIO_new_mem_buf(p, (int) n);
                if (bio)
                        c = PEM_read_bio_X509(bio, NULL, NULL, NULL);
                BIO_free(bio);
        } else {
                const unsigned char *q = p;
                c = d2i_X509(NULL, &q, (long) n);
                if (c && q != p + n) { /* trailing bytes */
                        X509_free(c);
                        c = NULL;
                }
        }
        ERR_clear_error();
        return c;
}

/* The value of an AMD extension: an INTEGER (SPL), or the raw bytes of an OCTET STRING (hwID). */
static int ext_data(X509 *c, const char *oid, const uint8_t **ret, int *ret_size) {
        ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
        int idx;

        if (!obj)
                return -ENOMEM;
        idx = X509_get_ext_by_OBJ(c, obj, -1);
        ASN1_OBJECT_free(obj);
        if (idx < 0)
                return -ENOENT;
        ASN1_OCTET_STRING *d = X509_EXTENSION_get_data(X509_get_ext(c, idx));
        *ret = ASN1_STRING_get0_data(d);
        *ret_size = ASN1_STRING_length(d);
        return 0;
}

static int ext_integer(X509 *c, const char *oid, long *ret) {
        const uint8_t *p;
        ASN1_INTEGER *i;
        int n, r;

        r = ext_data(c, oid, &p, &n);
        if (r < 0)
                return r;
        i = d2i_ASN1_INTEGER(NULL, &p, n);
        if (!i) {
                ERR_clear_error();
                return -EBADMSG;
        }
        *ret = ASN1_INTEGER_get(i);
        ASN1_INTEGER_free(i);
        return 0;
}

static int check_tcb(X509 *vcek, const SnpReport *rep, SnpProduct product, bool vlek, const char **reason) {
        static const char *const oids[] = { "1.3.6.1.4.1.3704.1.3.1", "1.3.6.1.4.1.3704.1.3.2",
                                            "1.3.6.1.4.1.3704.1.3.3", "1.3.6.1.4.1.3704.1.3.8" };
        /* byte of reported_tcb holding bootloader, tee, snp, microcode SPL */
        static const unsigned pos_milan[] = { 0, 1, 6, 7 }, pos_turin[] = { 1, 2, 3, 7 };
        const unsigned *pos = product == SNP_PRODUCT_TURIN ? pos_turin : pos_milan;

        for (size_t i = 0; i < ELEMENTSOF(oids); i++) {
                long v;
                int r = ext_integer(vcek, oids[i], &v);
                if (r == -ENOENT)
                        continue;
                if (r < 0 || v != (long) ((rep->reported_tcb >> (8 * pos[i])) & 0xFF)) {
                        *reason = "VCEK TCB does not match the report's reported_tcb";
                        return -EBADMSG;
                }
        }
        if (!vlek) {
                const uint8_t *p;
                int n, r = ext_data(vcek, "1.3.6.1.4.1.3704.1.4", &p, &n);

                if (r == 0) {
                        /* raw 64 bytes, or wrapped in a DER OCTET STRING */
                        if (n == 66 && p[0] == 0x04 && p[1] == 64)
                                p += 2, n -= 2;
                        if (n != 64 || CRYPTO_memcmp(p, rep->chip_id, 64) != 0) {
                                *reason = "VCEK hwID does not match the report's chip_id";
                                return -EBADMSG;
                        }
                }
        }
        return 0;
}

static int verify_signature(X509 *cert, const uint8_t *raw, const SnpReport *rep) {
        EVP_PKEY *key = X509_get0_pubkey(cert);
        uint8_t r_be[72], s_be[72];
        ECDSA_SIG *sig = NULL;
        unsigned char *der = NULL;
        EVP_MD_CTX *ctx = NULL;
        BIGNUM *r = NULL, *s = NULL;
        int n, ret = -EBADMSG;

        if (!key || !EVP_PKEY_is_a(key, "EC") || EVP_PKEY_get_bits(key) != 384)
                return -EBADMSG;
        for (size_t i = 0; i < 72; i++) {
                r_be[i] = rep->sig_r[71 - i];
                s_be[i] = rep->sig_s[71 - i];
        }
        r = BN_bin2bn(r_be, 72, NULL);
        s = BN_bin2bn(s_be, 72, NULL);
        sig = ECDSA_SIG_new();
        if (!r || !s || !sig || ECDSA_SIG_set0(sig, r, s) != 1) {
                BN_free(r);
                BN_free(s);
                ret = -ENOMEM;
                goto finish;
        }
        n = i2d_ECDSA_SIG(sig, &der);
        ctx = EVP_MD_CTX_new();
        if (n <= 0 || !ctx) {
                ret = -ENOMEM;
                goto finish;
        }
        if (EVP_DigestVerifyInit_ex(ctx, NULL, "SHA384", NULL, NULL, key, NULL) == 1 &&
            EVP_DigestVerify(ctx, der, (size_t) n, raw, SNP_REPORT_SIGNED_SIZE) == 1)
                ret = 0;

finish:
        ECDSA_SIG_free(sig);
        OPENSSL_free(der);
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        return ret;
}

int snp_verify_report(const SnpRoots *roots, const uint8_t *raw, size_t raw_size, const uint8_t *cert,
                      size_t cert_size, SnpVerifyResult *ret) {
        SnpVerifyResult res = { .reason = "SNP report is malformed" };
        const SnpRoot *anchor = NULL;
        SnpReport rep;
        X509 *vcek = NULL;
        int r;

        assert_return(roots && raw && cert && ret, -EINVAL);

        r = snp_report_parse(raw, raw_size, &rep);
        if (r < 0)
                goto finish;
        res.vlek = snp_report_signing_key(&rep) == 1;
        if (snp_report_signing_key(&rep) > 1) {
                res.reason = "SNP report is signed by an unknown key type";
                r = -EBADMSG;
                goto finish;
        }

        vcek = cert_parse(cert, cert_size);
        if (!vcek) {
                res.reason = "VCEK is not a certificate";
                r = -EBADMSG;
                goto finish;
        }

        /* the report's signature first: cheaper than the RSA-4096 chain */
        if (verify_signature(vcek, raw, &rep) < 0) {
                res.reason = "SNP report signature does not verify with the VCEK";
                r = -EBADMSG;
                goto finish;
        }

        for (size_t i = 0; !anchor && i < roots->n; i++)
                for (size_t j = 0; j < roots->roots[i].n_signers; j++)
                        if (roots->roots[i].signer_is_vlek[j] == res.vlek &&
                            signed_by(vcek, roots->roots[i].signers[j])) {
                                anchor = roots->roots + i;
                                break;
                        }
        if (!anchor) {
                res.reason = res.vlek ? "VLEK is not signed by a trusted ASVK" : "VCEK is not signed by a trusted ASK";
                r = -EBADMSG;
                goto finish;
        }
        res.product = anchor->product;
        r = check_tcb(vcek, &rep, anchor->product, res.vlek, &res.reason);
        if (r < 0)
                goto finish;
        res.reason = NULL;
        r = 0;

finish:
        X509_free(vcek);
        *ret = res;
        return r;
}

int snp_vcek_check_azure(const uint8_t *cert, size_t cert_size, time_t now, const char **ret_reason) {
        static const char *const required[] = { "1.3.6.1.4.1.3704.1.3.1", "1.3.6.1.4.1.3704.1.3.2",
                                                "1.3.6.1.4.1.3704.1.3.3", "1.3.6.1.4.1.3704.1.3.8",
                                                "1.3.6.1.4.1.3704.1.4" };
        X509 *vcek;
        int r = -EBADMSG;

        assert_return(cert && ret_reason, -EINVAL);
        vcek = cert_parse(cert, cert_size);
        if (!vcek) {
                *ret_reason = "VCEK is not a certificate";
                return -EBADMSG;
        }
        if (X509_cmp_time(X509_get0_notBefore(vcek), &now) >= 0 || X509_cmp_time(X509_get0_notAfter(vcek), &now) <= 0) {
                *ret_reason = "VCEK is outside its validity dates";
                goto finish;
        }
        for (size_t i = 0; i < ELEMENTSOF(required); i++) {
                const uint8_t *p;
                int n;

                if (ext_data(vcek, required[i], &p, &n) < 0) {
                        *ret_reason = i < 4 ? "VCEK lacks a TCB extension (bootloader, TEE, SNP or microcode SPL)"
                                            : "VCEK lacks the hwID extension";
                        goto finish;
                }
        }
        r = 0;
finish:
        X509_free(vcek);
        ERR_clear_error();
        return r;
}
