/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <string.h>

#include "json-util.h"
#include "util.h"

int json_parse_strict(const char *p, size_t size, int depth, json_object **ret) {
        json_tokener *tok;
        json_object *o;
        bool ok;

        assert_return(ret, -EINVAL);
        if (!p || size == 0 || size > INT32_MAX || memchr(p, '\0', size))
                return -EBADMSG;
        tok = json_tokener_new_ex(depth);
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, p, (int) size);
        /* a complete value, followed by nothing but whitespace */
        ok = json_tokener_get_error(tok) == json_tokener_success;
        for (size_t i = json_tokener_get_parse_end(tok); ok && i < size; i++)
                if (!strchr(" \t\r\n", p[i]))
                        ok = false;
        json_tokener_free(tok);
        if (!ok || !o) { /* !o: the literal null */
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

const char *json_get_string(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
            !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

int json_get_b64(json_object *o, const char *key, B64Flags flags, size_t max, uint8_t **ret, size_t *ret_size) {
        const char *s = json_get_string(o, key);
        size_t n;
        int r;

        assert_return(ret && ret_size, -EINVAL);
        if (!s)
                return -EBADMSG;
        n = strlen(s);
        if (n > (max + 2) / 3 * 4)
                return -EFBIG;
        r = b64_decode(s, n, flags, ret, ret_size);
        if (r == -ENOMEM)
                return r;
        return r < 0 ? -EBADMSG : 0;
}

int json_check_keys(json_object *o, const char *const *allowed, const char **ret_unknown) {
        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        json_object_object_foreach(o, k, v) {
                bool found = false;

                (void) v;
                for (const char *const *a = allowed; *a && !found; a++)
                        found = streq(k, *a);
                if (!found) {
                        if (ret_unknown)
                                *ret_unknown = k;
                        return -EINVAL;
                }
        }
        return 0;
}

/* v == NULL is JSON null here; json_add() refuses it. */
static int add_value(json_object *o, const char *key, json_object *v) {
        assert_return(o && key, -EINVAL);
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

int json_add(json_object *o, const char *key, json_object *v) {
        /* NULL: the constructor that made v ran out of memory */
        return v ? add_value(o, key, v) : -ENOMEM;
}

int json_add_string(json_object *o, const char *key, const char *s) {
        return s ? json_add(o, key, json_object_new_string(s)) : add_value(o, key, NULL);
}

int json_add_null(json_object *o, const char *key) {
        return add_value(o, key, NULL);
}

int json_add_int(json_object *o, const char *key, int64_t v) {
        return json_add(o, key, json_object_new_int64(v));
}

int json_add_uint(json_object *o, const char *key, uint64_t v) {
        return json_add(o, key, json_object_new_uint64(v));
}

int json_add_bool(json_object *o, const char *key, bool v) {
        return json_add(o, key, json_object_new_boolean(v));
}

int json_add_b64(json_object *o, const char *key, const void *p, size_t n, B64Flags flags) {
        _cleanup_free_ char *s = b64_encode(p, n, flags);

        return s ? json_add_string(o, key, s) : -ENOMEM;
}

int json_add_hex(json_object *o, const char *key, const void *p, size_t n) {
        _cleanup_free_ char *s = hexmem(p, n);

        return s ? json_add_string(o, key, s) : -ENOMEM;
}

int json_append(json_object *a, json_object *v) {
        assert_return(a, -EINVAL);
        if (!v || json_object_array_add(a, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

int json_to_string(json_object *o, int flags, char **ret) {
        const char *s;
        char *copy;

        assert_return(ret, -EINVAL);
        s = json_object_to_json_string_ext(o, flags);
        if (!s)
                return -ENOMEM;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}
