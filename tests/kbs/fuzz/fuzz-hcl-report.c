/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Azure HCL report parser and its runtime-data JSON. */

#include <stdint.h>
#include <stdlib.h>

#include "hcl-report.h"
#include "snp-report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t *n = NULL, *e = NULL, *ud = NULL;
        size_t ns, es, uds;
        HclReport h;
        SnpReport snp;

        if (hcl_report_parse(data, size, &h) < 0)
                return 0;
        if (h.report_type == HCL_REPORT_SNP)
                (void) snp_report_parse(h.hw_report, HCL_HW_REPORT_SIZE, &snp);
        if (hcl_var_data_rsa_key(h.var_data, h.var_data_size, "HCLAkPub", &n, &ns, &e, &es) == 0) {
                free(n);
                free(e);
        }
        if (hcl_var_data_user_data(h.var_data, h.var_data_size, &ud, &uds) == 0)
                free(ud);
        /* the client's side: the binding and the whole runtime data */
        (void) hcl_report_check_binding(&h);
        HclRuntimeData rd;
        if (hcl_runtime_data_parse(h.var_data, h.var_data_size, &rd) == 0)
                hcl_runtime_data_done(&rd);
        return 0;
}
