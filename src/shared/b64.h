/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Base64 (RFC 4648 section 4) and base64url (section 5). Neutral: shared by the key broker and the
 * attestation client. Encoders return a NUL-terminated string (NULL on OOM). Decoders take a string
 * of length n and return a malloc'd buffer (NUL-terminated for convenience); they refuse characters
 * outside the alphabet, misplaced padding, and non-zero trailing bits (-EINVAL). */

typedef enum B64Flags {
        B64_URL = 1 << 0,        /* the URL-safe alphabet ('-', '_') instead of ('+', '/') */
        B64_PAD = 1 << 1,        /* encode: add '=' padding; decode: padding is required */
        B64_PAD_OPTIONAL = 1 << 2, /* decode: accept input with or without padding */
} B64Flags;

char *b64_encode(const void *p, size_t n, B64Flags flags);
int b64_decode(const char *s, size_t n, B64Flags flags, uint8_t **ret, size_t *ret_size);

/* Shorthands for the forms JOSE and Trustee use. */
static inline char *b64url_encode(const void *p, size_t n) {
        return b64_encode(p, n, B64_URL);
}
