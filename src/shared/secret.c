/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The one container for key material: size-capped, locked into RAM when the kernel allows it, and
 * wiped before the memory goes back to the allocator. */

#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "secret.h"

int secret_new(size_t size, Secret **ret) {
        Secret *s;

        assert_return(ret, -EINVAL);
        if (size == 0 || size > SECRET_SIZE_MAX)
                return -EINVAL;

        s = calloc(1, sizeof(Secret) + size);
        if (!s)
                return -ENOMEM;
        s->size = size;
        /* Best effort: main() already did mlockall(); this covers library users that did not. */
        s->locked = mlock(s, sizeof(Secret) + size) >= 0;

        *ret = s;
        return 0;
}

Secret *secret_free(Secret *s) {
        if (!s)
                return NULL;
        /* No munlock(): locks do not nest, and the page may hold another live secret. */
        explicit_bzero(s->data, s->size);
        explicit_bzero(s, sizeof(Secret));
        free(s);
        return NULL;
}
