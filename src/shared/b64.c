/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "macro.h"

static const char alphabet_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char alphabet_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *b64_encode(const void *p, size_t n, B64Flags flags) {
        const char *a = flags & B64_URL ? alphabet_url : alphabet_std;
        const uint8_t *x = p;
        char *r, *z;

        if (n > (SIZE_MAX - 8) / 4 * 3)
                return NULL;
        z = r = malloc((n + 2) / 3 * 4 + 1);
        if (!r)
                return NULL;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t) x[i] << 16;
                size_t left = n - i;

                if (left > 1)
                        v |= (uint32_t) x[i + 1] << 8;
                if (left > 2)
                        v |= x[i + 2];
                *z++ = a[(v >> 18) & 63];
                *z++ = a[(v >> 12) & 63];
                if (left > 1)
                        *z++ = a[(v >> 6) & 63];
                else if (flags & B64_PAD)
                        *z++ = '=';
                if (left > 2)
                        *z++ = a[v & 63];
                else if (flags & B64_PAD)
                        *z++ = '=';
        }
        *z = '\0';
        return r;
}

static int decode_char(char c, bool url) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == (url ? '-' : '+'))
                return 62;
        if (c == (url ? '_' : '/'))
                return 63;
        return -EINVAL;
}

int b64_decode(const char *s, size_t n, B64Flags flags, uint8_t **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *buf = NULL;
        bool url = flags & B64_URL;
        size_t pad = 0, data, out = 0;
        uint32_t acc = 0;
        unsigned bits = 0;

        assert_return(s || n == 0, -EINVAL);
        assert_return(ret, -EINVAL);

        while (pad < 2 && n - pad > 0 && s[n - pad - 1] == '=')
                pad++;
        data = n - pad;
        if (pad > 0) {
                if (!(flags & (B64_PAD | B64_PAD_OPTIONAL)))
                        return -EINVAL;
                if (n % 4 != 0)
                        return -EINVAL;
        } else if ((flags & B64_PAD) && n % 4 != 0)
                return -EINVAL;
        if (data % 4 == 1)
                return -EINVAL;
        if (pad > 0 && (data % 4) + pad != 4)
                return -EINVAL;

        buf = malloc(data / 4 * 3 + 3 + 1);
        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < data; i++) {
                int v = decode_char(s[i], url);
                if (v < 0)
                        return -EINVAL;
                acc = (acc << 6) | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        buf[out++] = (uint8_t) (acc >> bits);
                        acc &= (1U << bits) - 1;
                }
        }
        if (acc != 0) /* non-canonical: trailing bits set */
                return -EINVAL;
        buf[out] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = out;
        return 0;
}
