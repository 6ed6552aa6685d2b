/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Key material lives only here: size-capped, mlock()ed (best effort), wiped with explicit_bzero()
 * before it is freed. Never logged, never written to a file, argv or the environment. */

#define SECRET_SIZE_MAX 4096U

typedef struct Secret {
        size_t size;
        bool locked;      /* mlock() succeeded */
        uint8_t data[];
} Secret;

/* A zero-filled secret of size bytes (1..SECRET_SIZE_MAX, else -EINVAL). */
int secret_new(size_t size, Secret **ret);
/* Wipes and frees; accepts NULL; returns NULL. */
Secret *secret_free(Secret *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Secret *, secret_free);
