/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "b64.h"
#include "macro.h"

/* The one json-c idiom of the project: strict parsing, typed member reads, and object building where
 * every add either succeeds or leaves the object as it was and returns -ENOMEM. json-c never leaves
 * this header's callers: they see json_object, -errno and C types. */

static inline void json_object_putp(json_object **p) {
        if (*p)
                (void) json_object_put(*p);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* Parses size bytes as exactly one JSON value nested at most depth deep: no NUL byte, no trailing
 * data but whitespace, and not the bare literal null. -EBADMSG otherwise. */
int json_parse_strict(const char *p, size_t size, int depth, json_object **ret);

/* The member's string, or NULL when o is not an object, the member is absent or not a string. */
const char *json_get_string(json_object *o, const char *key);

/* Decodes the string member key as base64 with flags (b64.h). -EBADMSG when it is absent, not a
 * string or malformed; -EFBIG when it is longer than the base64 of max bytes (checked before
 * decoding; the caller checks the exact size it needs). */
int json_get_b64(json_object *o, const char *key, B64Flags flags, size_t max, uint8_t **ret, size_t *ret_size);

/* -EINVAL when o has a member other than those listed (NULL-terminated), naming it in *ret_unknown;
 * -EBADMSG when o is not an object. */
int json_check_keys(json_object *o, const char *const *allowed, const char **ret_unknown);

/* Building. json_add() takes ownership of v, also on failure; v == NULL (a constructor that ran out
 * of memory) is -ENOMEM, so a constructor's result can be passed straight in. The typed adders make
 * the value themselves; json_add_string() with s == NULL adds JSON null. All return 0 or -ENOMEM. */
int json_add(json_object *o, const char *key, json_object *v);
int json_add_string(json_object *o, const char *key, const char *s);
int json_add_null(json_object *o, const char *key);
int json_add_int(json_object *o, const char *key, int64_t v);
int json_add_uint(json_object *o, const char *key, uint64_t v);
int json_add_bool(json_object *o, const char *key, bool v);
int json_add_b64(json_object *o, const char *key, const void *p, size_t n, B64Flags flags);
int json_add_hex(json_object *o, const char *key, const void *p, size_t n);
/* Appends v to array a, taking ownership of v also on failure; v == NULL is -ENOMEM as above. */
int json_append(json_object *a, json_object *v);

/* json_object_to_json_string_ext() copied into a string the caller owns. */
int json_to_string(json_object *o, int flags, char **ret);
