/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The table of configuration keys (config-keys.c), private to the configuration module: how each key
 * is parsed (shared by the file and the command line, config.c) and printed (config_dump(),
 * config_get()). */

#include <stddef.h>

#include "config.h"

#define CONFIG_KEY_MAX 64U
#define CONFIG_ITEMS_MAX 64U /* the parser keeps one "seen" flag per key */

/* Parses one value into the field; logs and returns -errno when it is refused. */
typedef int (*ConfigParser)(const char *key, const char *value, void *field, const char *origin);
/* The field's value as configuration text; *ret NULL when the key is unset. */
typedef int (*ConfigFormatter)(const void *field, char **ret);

typedef struct ConfigItem {
        const char *key;
        ConfigParser parse;
        ConfigFormatter format;
        size_t offset;
        bool security;     /* given twice in one source: refused */
        const char *unset; /* what config_dump() says when unset; NULL: "(unset)" */
} ConfigItem;

extern const ConfigItem config_items[];
extern const size_t config_items_count;

/* Copies a key into buf, lower-case, '_' as '-' (the kernel treats them alike in parameter names).
 * -EINVAL: empty, too long, or not letters, digits, '-' and '_'. */
/* "0-15", "0,2,4-7": a mask of PCRs 0..23. -EINVAL otherwise. */
int config_parse_pcr_list(const char *value, uint32_t *ret);

int config_key_normalize(const char *key, size_t len, char *buf, size_t bufsize);
