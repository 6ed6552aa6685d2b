/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes the PE/COFF Authenticode digest: every range it would hash lies inside the input, and the
 * digest in every bank is computed without reading past it; and the section lookup a UKI's
 * prediction uses (pe_section_find): its raw range lies inside the input too. */

#include <stdint.h>
#include <stdlib.h>

#include "pe-authenticode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Digest d[_HASH_ALG_MAX];
        PeSection s;
        PeLayout l;

        if (pe_section_find(data, size, ".linux", &s, NULL) == 0) {
                if (s.raw.offset > size || s.raw.size > size - s.raw.offset || s.raw.size > s.virtual_size)
                        abort();
                if (s.virtual_size <= (1U << 20) && pe_section_digest(data, &s, HASH_BIT(HASH_SHA256), d) < 0)
                        abort();
        }
        if (pe_authenticode_layout(data, size, &l, NULL) < 0)
                return 0;
        for (size_t i = 0; i < l.n_ranges; i++)
                if (l.ranges[i].offset > size || l.ranges[i].size > size - l.ranges[i].offset)
                        abort();
        if (pe_authenticode_digest(data, size, HASH_ALL, d, NULL) < 0)
                abort();
        return 0;
}
