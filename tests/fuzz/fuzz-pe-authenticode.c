/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes the PE/COFF Authenticode digest: every range it would hash lies inside the input, and the
 * digest in every bank is computed without reading past it. */

#include <stdint.h>
#include <stdlib.h>

#include "pe-authenticode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Digest d[_HASH_ALG_MAX];
        PeLayout l;

        if (pe_authenticode_layout(data, size, &l, NULL) < 0)
                return 0;
        for (size_t i = 0; i < l.n_ranges; i++)
                if (l.ranges[i].offset > size || l.ranges[i].size > size - l.ranges[i].offset)
                        abort();
        if (pe_authenticode_digest(data, size, HASH_ALL, d, NULL) < 0)
                abort();
        return 0;
}
