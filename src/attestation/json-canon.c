/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-canon.h"
#include "macro.h"

#define JSON_CANON_DEPTH_MAX 64
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

typedef struct Buf {
        char *p;
        size_t n, allocated;
} Buf;

static int buf_put(Buf *b, const char *s, size_t n) {
        if (b->n + n + 1 > b->allocated) {
                size_t want = MAX(b->allocated * 2, b->n + n + 1);
                char *q = realloc(b->p, MAX(want, (size_t) 64));
                if (!q)
                        return -ENOMEM;
                b->p = q;
                b->allocated = MAX(want, (size_t) 64);
        }
        memcpy(b->p + b->n, s, n);
        b->n += n;
        b->p[b->n] = '\0';
        return 0;
}

static int buf_puts(Buf *b, const char *s) {
        return buf_put(b, s, strlen(s));
}

/* Decodes one UTF-8 sequence; returns its length or -EINVAL (overlong, surrogate, > U+10FFFF). */
static int utf8_decode(const uint8_t *s, size_t n, uint32_t *ret) {
        uint32_t c;
        int len;

        if (n == 0)
                return -EINVAL;
        if (s[0] < 0x80) {
                *ret = s[0];
                return 1;
        }
        if ((s[0] & 0xE0) == 0xC0)
                len = 2, c = s[0] & 0x1F;
        else if ((s[0] & 0xF0) == 0xE0)
                len = 3, c = s[0] & 0x0F;
        else if ((s[0] & 0xF8) == 0xF0)
                len = 4, c = s[0] & 0x07;
        else
                return -EINVAL;
        if ((size_t) len > n)
                return -EINVAL;
        for (int i = 1; i < len; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return -EINVAL;
                c = (c << 6) | (s[i] & 0x3F);
        }
        if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10FFFF ||
            (c >= 0xD800 && c <= 0xDFFF))
                return -EINVAL;
        *ret = c;
        return len;
}

static int put_string(Buf *b, const char *s, size_t n) {
        int r;

        r = buf_put(b, "\"", 1);
        for (size_t i = 0; r >= 0 && i < n;) {
                uint8_t c = (uint8_t) s[i];
                uint32_t cp;
                int l;

                switch (c) {
                case '"':
                        r = buf_puts(b, "\\\"");
                        break;
                case '\\':
                        r = buf_puts(b, "\\\\");
                        break;
                case '\b':
                        r = buf_puts(b, "\\b");
                        break;
                case '\f':
                        r = buf_puts(b, "\\f");
                        break;
                case '\n':
                        r = buf_puts(b, "\\n");
                        break;
                case '\r':
                        r = buf_puts(b, "\\r");
                        break;
                case '\t':
                        r = buf_puts(b, "\\t");
                        break;
                default:
                        if (c < 0x20) {
                                char esc[8];
                                (void) snprintf(esc, sizeof(esc), "\\u%04x", c);
                                r = buf_puts(b, esc);
                                break;
                        }
                        l = utf8_decode((const uint8_t *) s + i, n - i, &cp);
                        if (l < 0)
                                return l;
                        r = buf_put(b, s + i, (size_t) l);
                        i += (size_t) l;
                        continue;
                }
                i++;
        }
        return r < 0 ? r : buf_put(b, "\"", 1);
}

/* ECMAScript Number::toString for finite doubles: the shortest digits that round-trip, then the
 * layout rules of ECMA-262 section 7.1.12.1 (as RFC 8785 section 3.2.2.3 requires). */
static int put_number(Buf *b, double d) {
        char digits[32], out[64], *e;
        int k = 0, exp10 = 0, n;

        if (!isfinite(d))
                return -EINVAL;
        if (d == 0)
                return buf_puts(b, "0");
        if (d < 0) {
                int r = buf_puts(b, "-");
                if (r < 0)
                        return r;
                d = -d;
        }
        for (int prec = 1; prec <= 17; prec++) {
                (void) snprintf(out, sizeof(out), "%.*e", prec - 1, d);
                if (strtod(out, NULL) == d)
                        break;
        }
        /* out = "D.DDDDe[+-]XX" */
        e = strchr(out, 'e');
        if (!e)
                return -EINVAL;
        exp10 = atoi(e + 1);
        for (char *p = out; p < e; p++)
                if (*p >= '0' && *p <= '9')
                        digits[k++] = *p;
        while (k > 1 && digits[k - 1] == '0')
                k--;
        digits[k] = '\0';
        n = exp10 + 1; /* the position of the decimal point relative to the digits */

        if (k <= n && n <= 21) {
                int r = buf_puts(b, digits);
                for (int i = k; r >= 0 && i < n; i++)
                        r = buf_puts(b, "0");
                return r;
        }
        if (0 < n && n <= 21) {
                int r = buf_put(b, digits, (size_t) n);
                if (r >= 0)
                        r = buf_puts(b, ".");
                return r < 0 ? r : buf_puts(b, digits + n);
        }
        if (-6 < n && n <= 0) {
                int r = buf_puts(b, "0.");
                for (int i = 0; r >= 0 && i < -n; i++)
                        r = buf_puts(b, "0");
                return r < 0 ? r : buf_puts(b, digits);
        }
        (void) snprintf(out, sizeof(out), "%c%s%s%se%c%d", digits[0], k > 1 ? "." : "", k > 1 ? digits + 1 : "",
                        "", n - 1 >= 0 ? '+' : '-', abs(n - 1));
        return buf_puts(b, out);
}

/* Compares two UTF-8 strings by their UTF-16 code units (RFC 8785 section 3.2.3). */
static int utf16_units(const char *s, size_t *i, uint16_t ret[2]) {
        uint32_t cp;
        int l = utf8_decode((const uint8_t *) s + *i, strlen(s + *i), &cp);

        if (l < 0) {
                /* invalid input is refused later by put_string(); order bytes meanwhile */
                ret[0] = (uint8_t) s[*i];
                *i += 1;
                return 1;
        }
        *i += (size_t) l;
        if (cp < 0x10000) {
                ret[0] = (uint16_t) cp;
                return 1;
        }
        cp -= 0x10000;
        ret[0] = (uint16_t) (0xD800 + (cp >> 10));
        ret[1] = (uint16_t) (0xDC00 + (cp & 0x3FF));
        return 2;
}

static int compare_utf16(const void *a, const void *b) {
        const char *x = *(const char *const *) a, *y = *(const char *const *) b;
        size_t i = 0, j = 0;
        uint16_t ux[2], uy[2];
        int nx = 0, ny = 0, px = 0, py = 0;

        for (;;) {
                if (px == nx) {
                        if (!x[i])
                                break;
                        nx = utf16_units(x, &i, ux), px = 0;
                }
                if (py == ny) {
                        if (!y[j])
                                return 1;
                        ny = utf16_units(y, &j, uy), py = 0;
                }
                if (ux[px] != uy[py])
                        return ux[px] < uy[py] ? -1 : 1;
                px++, py++;
        }
        return (py == ny && !y[j]) ? 0 : -1;
}

static int put_value(Buf *b, json_object *o, unsigned depth) {
        int r;

        if (depth > JSON_CANON_DEPTH_MAX)
                return -E2BIG;

        switch (json_object_get_type(o)) {
        case json_type_null:
                return buf_puts(b, "null");
        case json_type_boolean:
                return buf_puts(b, json_object_get_boolean(o) ? "true" : "false");
        case json_type_int: {
                char num[32];
                /* json-c keeps integers as int64 or uint64; both are exact. JCS would print integers
                 * beyond 2^53 as doubles; refuse them rather than silently changing their value. */
                int64_t v = json_object_get_int64(o);
                if (v > (INT64_C(1) << 53) || v < -(INT64_C(1) << 53)) /* also INT64_MIN/MAX (clamped) */
                        return -EINVAL;
                (void) snprintf(num, sizeof(num), "%lld", (long long) json_object_get_int64(o));
                return buf_puts(b, num);
        }
        case json_type_double:
                return put_number(b, json_object_get_double(o));
        case json_type_string:
                return put_string(b, json_object_get_string(o), (size_t) json_object_get_string_len(o));
        case json_type_array: {
                size_t n = json_object_array_length(o);
                r = buf_puts(b, "[");
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        if (i > 0)
                                r = buf_puts(b, ",");
                        if (r >= 0)
                                r = put_value(b, json_object_array_get_idx(o, i), depth + 1);
                }
                return r < 0 ? r : buf_puts(b, "]");
        }
        case json_type_object: {
                _cleanup_free_ const char **keys = NULL;
                size_t n = 0, i = 0;

                n = (size_t) json_object_object_length(o);
                keys = calloc(n + 1, sizeof(char *));
                if (!keys)
                        return -ENOMEM;
                json_object_object_foreach(o, k, v) {
                        (void) v;
                        if (i < n)
                                keys[i++] = k;
                }
                qsort(keys, i, sizeof(char *), compare_utf16);
                r = buf_puts(b, "{");
                for (size_t j = 0; r >= 0 && j < i; j++) {
                        if (j > 0)
                                r = buf_puts(b, ",");
                        if (r >= 0)
                                r = put_string(b, keys[j], strlen(keys[j]));
                        if (r >= 0)
                                r = buf_puts(b, ":");
                        if (r >= 0)
                                r = put_value(b, json_object_object_get(o, keys[j]), depth + 1);
                }
                return r < 0 ? r : buf_puts(b, "}");
        }
        default:
                return -EINVAL;
        }
}

int json_canon(json_object *o, char **ret, size_t *ret_size) {
        Buf b = {};
        int r;

        assert_return(ret, -EINVAL);

        r = put_value(&b, o, 0);
        if (r < 0) {
                free(b.p);
                return r;
        }
        *ret = b.p;
        if (ret_size)
                *ret_size = b.n;
        return 0;
}
