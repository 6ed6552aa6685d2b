/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes the NTFS reader: the input is the start of a file system (boot sector, then the MFT). */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ntfs-fresh.h"

typedef struct Input {
        const uint8_t *data;
        size_t size;
} Input;

static int read_input(uint64_t offset, void *buf, size_t size, void *userdata) {
        const Input *in = userdata;

        if (offset > in->size || size > in->size - offset)
                abort(); /* the reader promises to stay inside the partition */
        memcpy(buf, in->data + offset, size);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Input in = { .data = data, .size = size };
        char *unexpected = NULL;

        if (ntfs_fresh_check(read_input, &in, size, &unexpected) >= 0)
                free(unexpected);
        return 0;
}
