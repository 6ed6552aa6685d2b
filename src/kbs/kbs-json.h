/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "jwk.h"

/* Small json-c helpers for the key broker's strict parsers. */

/* Parses size bytes as one JSON value, nesting at most depth; trailing garbage is refused. */
int kbs_json_parse(const char *p, size_t size, int depth, json_object **ret);

/* The member's string, or NULL when absent or not a string. */
const char *kbs_json_string(json_object *o, const char *key);

/* Refuses members other than those listed (NULL-terminated); *ret_unknown names the first. */
int kbs_json_check_keys(json_object *o, const char *const *allowed, const char **ret_unknown);
