/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes the ELF note parser that reads /sys/kernel/notes. */

#include <stdint.h>
#include <stdlib.h>

#include "measure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *hex = NULL;

        if (elf_notes_find_build_id(data, size, &hex) >= 0)
                free(hex);
        return 0;
}
