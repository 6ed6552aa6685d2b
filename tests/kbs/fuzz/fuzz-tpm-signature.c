/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TPMT_SIGNATURE parsing, and verification of what parses (always refused: the key is unrelated). */

#include <openssl/evp.h>
#include <stdint.h>

#include "tpm-quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static EVP_PKEY *ec;
        TpmSignature s;

        if (!ec)
                ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        if (tpm_signature_parse(data, size, &s) == 0 && ec)
                (void) tpm_quote_verify_signature(ec, data, size, &s);
        return 0;
}
