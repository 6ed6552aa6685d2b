/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "snp-report.h"

/* Verifies SEV-SNP reports with OpenSSL: the report's ECDSA P-384 signature with the VCEK (or VLEK),
 * the VCEK -> ASK -> ARK chain (RSASSA-PSS) to a pinned AMD root, and the VCEK's TCB and hwID
 * extensions against the report. Neutral. */

typedef struct SnpRoots SnpRoots;

SnpRoots *snp_roots_new(void);
void snp_roots_free(SnpRoots *roots);
static inline void snp_roots_freep(SnpRoots **p) {
        if (*p)
                snp_roots_free(*p);
}

/* Adds a product's certificates from PEM bytes (AMD's ask_ark[_asvk].pem, in any order): exactly one
 * self-signed ARK, and the ASK (and optional ASVK) signed by it. Anything else is -EBADMSG. */
int snp_roots_add_pem(SnpRoots *roots, const char *pem, size_t size);
size_t snp_roots_count(const SnpRoots *roots);

typedef struct SnpVerifyResult {
        SnpProduct product;  /* from the ARK that anchors the chain */
        bool vlek;
        const char *reason;  /* on failure: what did not hold, for the log and the error body */
} SnpVerifyResult;

/* raw is the report's SNP_REPORT_SIZE bytes; cert is the VCEK/VLEK in DER or PEM. */
int snp_verify_report(const SnpRoots *roots, const uint8_t *raw, size_t raw_size, const uint8_t *cert,
                      size_t cert_size, SnpVerifyResult *ret);

/* What az-snp-vtpm 0.8.1 (the version Trustee pins) requires of the VCEK in Azure evidence:
 * notBefore < now < notAfter (certs.rs Vcek::validate), and the four TCB SPL extensions (read by
 * Trustee's verify_report_signature, an error when missing) and the hwID extension present.
 * -EBADMSG with *ret_reason set otherwise. */
int snp_vcek_check_azure(const uint8_t *cert, size_t cert_size, time_t now, const char **ret_reason);
