/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "config.h"
#include "measure.h"
#include "tpm2.h"

/* The TPM's active banks, refusing an active bank ephroot cannot compute (it would stay unextended)
 * and a TPM with none. Logs failures. */
int measure_get_banks(Tpm2Context *tpm, const char *tcti, unsigned *ret_banks);

/* Measures kernel, initrd and command line (with the running kernel's release and build-id in the
 * kernel record) into the TPM and the log: what `ephroot measure` and the boot's first phase do.
 * Logs failures. */
int measure_boot_inputs(Tpm2Context *tpm, const Config *c, const MeasureInputs *in, unsigned banks);
