/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes the firmware event log parser (TCG PC Client format) and its replay in every bank. */

#include <stdint.h>
#include <stdlib.h>

#include "tcg-log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        TcgLog log;

        if (tcg_log_parse(data, size, &log) < 0)
                return 0;
        FOREACH_HASH_ALG(alg, HASH_ALL) {
                Digest pcrs[TCG_PCRS];
                (void) tcg_log_replay(&log, alg, pcrs);
        }
        for (size_t i = 0; i < log.n_events; i++)
                (void) tcg_event_type_to_string(log.events[i].type);
        tcg_log_done(&log);
        return 0;
}
