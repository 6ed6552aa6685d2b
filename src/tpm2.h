/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "hash.h"

/* The only module that talks to tpm2-tss. TSS2_RC values become -errno here and never leave. */

typedef struct Tpm2Context Tpm2Context;

/* Opens the TPM through a TCTI configuration string ("device:/dev/tpmrm0", "swtpm:host=...,port=..."). */
int tpm2_context_new(const char *tcti, Tpm2Context **ret);
Tpm2Context *tpm2_context_free(Tpm2Context *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Tpm2Context *, tpm2_context_free);

/* Fills buf with n bytes from TPM2_GetRandom, looping over the TPM's per-call limit. */
int tpm2_get_random(Tpm2Context *c, void *buf, size_t n);

/* The PCR banks the TPM has active (any PCR selected), as a HashAlg bitmask. An active bank whose
 * algorithm ephroot cannot compute is reported in *ret_unsupported as a TPM_ALG_ID (0 if none). */
int tpm2_get_active_banks(Tpm2Context *c, unsigned *ret_banks, uint16_t *ret_unsupported);

/* One TPM2_PCR_Extend carrying every digest given (one per bank). */
int tpm2_pcr_extend(Tpm2Context *c, unsigned pcr, const Digest *digests, size_t n_digests);

int tpm2_pcr_read(Tpm2Context *c, unsigned pcr, HashAlg alg, Digest *ret);

/* Flushes a transient object or session handle (TPM handle value, not an ESYS_TR). */
int tpm2_flush_handle(Tpm2Context *c, uint32_t handle);
