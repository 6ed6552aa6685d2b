/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes both configuration parsers: the input is a config file text and a kernel command line. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text;
        Config c;

        log_set_max_level(LOG_CRIT); /* the parsers log every refusal: keep the fuzzer quiet */
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';

        if (config_init(&c) == 0) {
                (void) config_parse_text(&c, text, "fuzz");
                config_done(&c);
        }
        if (config_init(&c) == 0) {
                (void) config_parse_cmdline(&c, text);
                config_done(&c);
        }
        /* The file, then the command line over it (lock = yes binds the second). */
        if (config_init(&c) == 0) {
                if (config_parse_text(&c, text, "fuzz") >= 0)
                        (void) config_parse_cmdline(&c, text);
                config_done(&c);
        }
        free(text);
        return 0;
}
