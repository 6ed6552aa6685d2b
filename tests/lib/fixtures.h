/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The genuine third-party fixtures (hardware reports, upstream samples) are not part of the
 * repository: meson option 'fixtures' names their directory. A test that needs them skips (exit 77,
 * one line naming the option) when the directory is absent, as in a plain clone. */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef FIXTURES_DIR
#error "FIXTURES_DIR must point at the genuine fixtures (meson option 'fixtures')"
#endif

static inline void fixtures_require(void) {
        if (access(FIXTURES_DIR, R_OK | X_OK) < 0) {
                printf("SKIP: genuine fixtures not found at %s (meson option -Dfixtures=DIR)\n", FIXTURES_DIR);
                exit(77);
        }
}
