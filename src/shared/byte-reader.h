/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* A cursor over bytes for the binary parsers: every read is checked against what is left, and a
 * short read takes nothing. Little-endian integers (TCG logs, the broker's sealed sessions). */
typedef struct ByteReader {
        const uint8_t *p;
        size_t left;
} ByteReader;

/* n bytes, or NULL when fewer are left. */
static inline const uint8_t *byte_reader_take(ByteReader *r, size_t n) {
        const uint8_t *p = r->p;

        if (n > r->left)
                return NULL;
        r->p += n;
        r->left -= n;
        return p;
}

static inline int byte_reader_le16(ByteReader *r, uint16_t *ret) {
        const uint8_t *p = byte_reader_take(r, 2);

        if (!p)
                return -1;
        *ret = (uint16_t) (p[0] | p[1] << 8);
        return 0;
}

static inline int byte_reader_le32(ByteReader *r, uint32_t *ret) {
        const uint8_t *p = byte_reader_take(r, 4);

        if (!p)
                return -1;
        *ret = (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
        return 0;
}
