/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The IMDS reply bodies the Azure evidence reads: the certification JSON (VCEK PEM) and the TD
 * quote JSON. */

#include <stdint.h>
#include <stdlib.h>

#include "azure-evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t *out = NULL;
        size_t n;

        if (azure_imds_parse_certification((const char *) data, size, &out, &n) == 0)
                free(out);
        if (azure_imds_parse_td_quote((const char *) data, size, &out, &n) == 0)
                free(out);
        return 0;
}
