/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "measure.h"

/* JSON for measurements (the only module using json-c for them): one log record in systemd's
 * userspace measurement log format, and the reference-value document `predict --json` prints. */

/* A record without the JSON-SEQ framing. boot_id may be NULL. */
int measure_json_record(const MeasureEvent *e, const char *boot_id, uint64_t timestamp_usec, char **ret);

/* {"pcrs": {"<bank>": {"<pcr>": "<hex>", ...}, ...}} for the PCRs in v->pcr_mask. */
int measure_json_pcr_values(const PcrValues *v, char **ret);

/* A systemd-pcrlock component (systemd.pcrlock(5)): {"records":[{"pcr":N,"digests":[{"hashAlg":...,
 * "digest":...},...]},...]}, one record per event in order, compact, as systemd's own .pcrlock files
 * are written. */
int measure_json_pcrlock(const MeasureEvent *events, size_t n, char **ret);
