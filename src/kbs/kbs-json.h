/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Transitional: the broker's JSON helpers are json-util.h's. */
#include "json-util.h"
#include "jwk.h"

#define kbs_json_parse json_parse_strict
#define kbs_json_string json_get_string
#define kbs_json_check_keys json_check_keys
