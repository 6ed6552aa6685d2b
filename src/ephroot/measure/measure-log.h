/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "measure.h"
#include "tpm2.h"

/* How long to wait for another writer (systemd-pcrextend, a second ephroot) to release the log. */
#define MEASURE_LOG_LOCK_TIMEOUT_USEC (5ULL * 1000000ULL)

/* Extends each event into the TPM and appends its record to the userspace measurement log at
 * log_path (systemd's format: JSON-SEQ, one record per extend, content.timestamp in CLOCK_BOOTTIME
 * µs). The log is opened and locked (flock LOCK_EX) before the first extend and stays locked until
 * the last record is written, so a reader taking LOCK_SH sees PCRs and log agree. systemd's sticky-bit
 * protocol: into a log whose sticky bit is already set nothing is logged (the events are extended,
 * as systemd extends them, and -ESTALE is returned); for each event the bit is set before the extend and cleared only after the record is written and
 * fsync'ed, so a failure or crash in between leaves the log marked incomplete. Logs failures. */
int measure_log_extend(Tpm2Context *tpm, const char *log_path, const MeasureEvent *events, size_t n);
