/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>

/* RFC 8785 JSON Canonicalization Scheme (JCS) of a json-c value: object members sorted by their
 * names as UTF-16 code units, no whitespace, strings escaped as ECMAScript's JSON.stringify does,
 * numbers in ECMAScript's shortest round-trip form. Neutral: the attestation client computes the
 * same bytes for its binding hash. Returns -EINVAL for values JCS cannot represent (NaN, Inf,
 * invalid UTF-8) and -E2BIG beyond depth 64. */
int json_canon(json_object *o, char **ret, size_t *ret_size);
