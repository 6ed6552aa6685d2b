/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <string.h>

#include "kbs-json.h"

int kbs_json_parse(const char *p, size_t size, int depth, json_object **ret) {
        json_tokener *tok;
        json_object *o;

        assert_return(ret, -EINVAL);
        if (!p || size == 0 || size > INT32_MAX)
                return -EBADMSG;
        if (memchr(p, '\0', size))
                return -EBADMSG;
        tok = json_tokener_new_ex(depth);
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, p, (int) size);
        if (json_tokener_get_error(tok) != json_tokener_success) {
                /* a complete value followed by more input, or an incomplete one */
                json_object_put(o);
                json_tokener_free(tok);
                return -EBADMSG;
        }
        for (size_t i = json_tokener_get_parse_end(tok); i < size; i++)
                if (!strchr(" \t\r\n", p[i])) {
                        json_object_put(o);
                        json_tokener_free(tok);
                        return -EBADMSG;
                }
        json_tokener_free(tok);
        if (!o)
                return -EBADMSG; /* "null" */
        *ret = o;
        return 0;
}

const char *kbs_json_string(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
            !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

int kbs_json_check_keys(json_object *o, const char *const *allowed, const char **ret_unknown) {
        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        json_object_object_foreach(o, k, v) {
                bool found = false;
                (void) v;
                for (const char *const *a = allowed; *a; a++)
                        if (streq(k, *a))
                                found = true;
                if (!found) {
                        if (ret_unknown)
                                *ret_unknown = k;
                        return -EINVAL;
                }
        }
        return 0;
}
