/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TDX quote parsing and verification (against the quote's own last certificate as root, so the whole
 * path runs on what parses). */

#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tdx-quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *reason;
        TdxRoots *roots;
        TdxQuote q;
        char *pem, *last = NULL;

        if (tdx_quote_parse(data, size, &q) < 0)
                return 0;
        roots = tdx_roots_new();
        pem = strndup(q.pck_chain, q.pck_chain_size);
        if (roots && pem) {
                for (char *p = pem; (p = strstr(p, "-----BEGIN CERTIFICATE-----")); p++)
                        last = p;
                if (last)
                        (void) tdx_roots_add_pem(roots, last, strlen(last));
                (void) tdx_quote_verify(roots, &q, &reason);
        }
        free(pem);
        tdx_roots_free(roots);
        return 0;
}
