/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#define SNP_POLICY_DEBUG (UINT64_C(1) << 19) /* the guest policy allows the host to debug (decrypt) it */

#include <stddef.h>
#include <stdint.h>

/* The AMD SEV-SNP attestation report (SEV-SNP ABI, 1184 bytes, little-endian), parsed without I/O.
 * Neutral: the attestation client reads its own report with it. */

#define SNP_REPORT_SIZE 1184U
#define SNP_REPORT_SIGNED_SIZE 0x2A0U
#define SNP_SIG_ALGO_ECDSA_P384_SHA384 1U

typedef enum SnpProduct {
        SNP_PRODUCT_UNKNOWN,
        SNP_PRODUCT_MILAN,
        SNP_PRODUCT_GENOA,
        SNP_PRODUCT_TURIN,
        _SNP_PRODUCT_MAX,
} SnpProduct;

typedef struct SnpReport {
        uint32_t version;
        uint32_t guest_svn;
        uint64_t policy;            /* guest policy; SNP_POLICY_DEBUG */
        uint32_t vmpl;
        uint32_t signature_algo;
        uint64_t current_tcb;
        uint64_t platform_info;
        uint32_t flags;
        uint8_t report_data[64];
        uint8_t measurement[48];
        uint8_t host_data[32];
        uint8_t id_key_digest[48];
        uint8_t author_key_digest[48];
        uint8_t report_id[32];
        uint64_t reported_tcb;
        uint8_t cpuid_family, cpuid_model, cpuid_stepping; /* version >= 3 */
        uint8_t chip_id[64];
        uint64_t committed_tcb;
        uint64_t launch_tcb;
        uint8_t sig_r[72], sig_s[72]; /* little-endian, as in the report */
} SnpReport;

/* The SVNs of a TCB_VERSION (reported_tcb, committed_tcb, ...), whose layout depends on the product:
 * Milan and Genoa: bootloader, tee, 4 reserved, snp, microcode; Turin: fmc, bootloader, tee, snp,
 * 3 reserved, microcode (fmc is 0 before Turin). */
typedef struct SnpTcb {
        uint8_t fmc, bootloader, tee, snp, microcode;
} SnpTcb;

/* Parses exactly SNP_REPORT_SIZE bytes; refuses other sizes, versions outside 2..5, and a signature
 * algorithm other than ECDSA P-384 (-EBADMSG / -EOPNOTSUPP). */
int snp_report_parse(const uint8_t *p, size_t n, SnpReport *ret);

/* The product from CPUID (report version 3+), else SNP_PRODUCT_UNKNOWN. */
SnpProduct snp_report_product(const SnpReport *r);
const char *snp_product_to_string(SnpProduct p);
SnpTcb snp_tcb_decode(uint64_t tcb, SnpProduct product);
int snp_product_from_string(const char *s);

/* Signing key in flags bits 2-4: 0 = VCEK, 1 = VLEK. */
static inline unsigned snp_report_signing_key(const SnpReport *r) {
        return (r->flags >> 2) & 7U;
}
