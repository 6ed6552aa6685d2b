/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "config.h"
#include "luks.h"
#include "measure.h"
#include "tpm2.h"

/* The TPM's active banks (asked once per TPM context, tpm2_get_banks()), refusing an active bank
 * ephroot cannot compute (it would stay unextended) and a TPM with none: -EOPNOTSUPP, -ENODEV. Logs
 * failures. ret_banks may be NULL.
 *
 * Every function below extends into those banks, and fails with the same error, silently, when they
 * are refused: call this one first, where the TCTI is known, so the refusal is logged once. */
int measure_get_banks(Tpm2Context *tpm, const char *tcti, unsigned *ret_banks);

/* Measures kernel, initrd and command line (with the running kernel's release and build-id in the
 * kernel record) into the TPM and the log: what `ephroot measure` and the boot's first phase do.
 * Logs failures. */
int measure_boot_inputs(Tpm2Context *tpm, const Config *c, const MeasureInputs *in);

/* What the disk event describes about the target (docs/measurements.md, "The disk event"). */
typedef struct MeasureVolumeTarget {
        const char *identity;   /* NULL: none */
        const char *role;
        const char *classification;
        bool forced;
} MeasureVolumeTarget;

/* Extends the two events of measure_volume_events_build() (the disk event, and systemd's volume-key
 * event: HMAC keyed by the volume key over "cryptsetup:<dm name>:<uuid>") into c->pcr_disk under one
 * log lock. Logs failures. */
int measure_volume_events(Tpm2Context *tpm, const Config *c, const MeasureVolumeTarget *t, const LuksVolume *v,
                          const char *dm_name, const Secret *key);

/* Extends one string event (leave-initrd, failure) into pcr. Logs failures. */
int measure_string_event(Tpm2Context *tpm, const Config *c, MeasureEventType type, unsigned pcr, const char *string);
