/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TPMS_ATTEST (quote) and TPM2B_PUBLIC parsing, and the PCR digest check on what parses. */

#include <stdint.h>
#include <string.h>

#include "tpm-public.h"
#include "tpm-quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const uint8_t pcrs[TPM_PCRS][32];
        uint8_t name[2 + 64];
        size_t name_size;
        TpmQuoteInfo q;
        TpmPublic pub;

        if (tpm_quote_info_parse(data, size, &q) == 0) {
                (void) tpm_quote_nonce_matches(&q, data, size < 64 ? size : 64);
                (void) tpm_quote_check_pcrs(&q, TPM_ALG_SHA256, pcrs, NULL);
        }
        if (tpm_public_parse(data, size, &pub) == 0)
                (void) tpm_public_name(&pub, name, &name_size);
        return 0;
}
