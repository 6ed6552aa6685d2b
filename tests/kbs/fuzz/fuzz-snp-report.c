/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SEV-SNP report parser; the first 1184 bytes are the report, the rest is tried as its VCEK (DER
 * or PEM) against no roots and as a root bundle. */

#include <stdint.h>

#include "snp-verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        SnpRoots *roots;
        SnpVerifyResult res;
        SnpReport r;

        if (snp_report_parse(data, size < SNP_REPORT_SIZE ? size : SNP_REPORT_SIZE, &r) == 0)
                (void) snp_report_product(&r);
        if (size <= SNP_REPORT_SIZE)
                return 0;
        roots = snp_roots_new();
        if (!roots)
                return 0;
        (void) snp_roots_add_pem(roots, (const char *) data + SNP_REPORT_SIZE, size - SNP_REPORT_SIZE);
        (void) snp_verify_report(roots, data, SNP_REPORT_SIZE, data + SNP_REPORT_SIZE, size - SNP_REPORT_SIZE, &res);
        snp_roots_free(roots);
        return 0;
}
