/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

/* The only module that talks to tpm2-tss. TSS2_RC values become -errno here and never leave.
 *
 * Missing objects: a persistent handle or NV index given by number that the TPM does not have is
 * -ENOENT, and only that: the TPM (or the resource manager in front of it) answered TPM_RC_HANDLE when
 * the handle was looked up. Every other failure keeps its own translation (-EIO, -ECONNREFUSED, ...). */

typedef struct Tpm2Context Tpm2Context;

/* PC Client TPMs have 24 PCRs (TPM2_MAX_PCRS, 32, is only the structure size). A set of PCRs is a
 * bitmask: bit n for PCR n. */
#define TPM2_PCRS 24U
#define TPM2_PCRS_ALL ((1U << TPM2_PCRS) - 1U)

/* Opens the TPM through a TCTI configuration string ("device:/dev/tpmrm0", "swtpm:host=...,port=..."). */
int tpm2_context_new(const char *tcti, Tpm2Context **ret);
Tpm2Context *tpm2_context_free(Tpm2Context *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Tpm2Context *, tpm2_context_free);

/* Fills buf with n bytes from TPM2_GetRandom, looping over the TPM's per-call limit. */
int tpm2_get_random(Tpm2Context *c, void *buf, size_t n);

/* The PCR banks the TPM has active (any PCR selected), as a HashAlg bitmask: asked once per context
 * (TPM2_GetCapability) and cached. An active bank whose algorithm ephroot cannot compute is reported in
 * *ret_unsupported (when not NULL) as a TPM_ALG_ID, 0 if none: the caller decides to refuse. */
int tpm2_get_banks(Tpm2Context *c, unsigned *ret_banks, uint16_t *ret_unsupported);

/* One TPM2_PCR_Extend carrying every digest given (one per bank). */
int tpm2_pcr_extend(Tpm2Context *c, unsigned pcr, const Digest *digests, size_t n_digests);

/* The PCRs in pcr_mask of one bank, into ret[n] for each PCR n of the mask (the others are left
 * alone). One TPM2_PCR_Read per group of 8 PCRs (a selection byte: a TPM returns at most 8 digests),
 * asked again for what an answer left out, a bounded number of times. -ENOENT when the bank is not
 * active, -EBADMSG when the TPM answers something else than asked. ret points to TPM2_PCRS digests
 * (a plain pointer so that the NULL check is not dead code: see measure_volume_events_build()). */
int tpm2_pcr_read(Tpm2Context *c, HashAlg alg, uint32_t pcr_mask, Digest *ret);

/* A key loaded in the TPM, with its public area as the TPM marshals it. */
typedef struct Tpm2Key {
        uint32_t handle;        /* ESYS_TR; 0 when none */
        bool flush;             /* a transient object this context made: flushed by tpm2_key_done() */
        uint8_t *public;        /* marshaled TPM2B_PUBLIC (u16 size + TPMT_PUBLIC) */
        size_t public_size;
} Tpm2Key;

typedef enum Tpm2Hierarchy {
        TPM2_HIERARCHY_OWNER,
        TPM2_HIERARCHY_ENDORSEMENT,
} Tpm2Hierarchy;

/* An attestation key made fresh: a primary restricted signing key, RSA-2048 with RSASSA-SHA256 or
 * (ecc) ECC P-256 with ECDSA-SHA256, fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|
 * sign, empty auth, in the given hierarchy. One TPM command. */
int tpm2_create_ak(Tpm2Context *c, Tpm2Hierarchy h, bool ecc, Tpm2Key *ret);

/* The persistent object at handle (the TCG default RSA EK at 0x81010001, Azure's AK at 0x81000003), for
 * its public area and for use with empty auth. Not flushed by tpm2_key_done(). */
int tpm2_read_persistent_key(Tpm2Context *c, uint32_t handle, Tpm2Key *ret);

/* Flushes (when transient) and frees. */
void tpm2_key_done(Tpm2Context *c, Tpm2Key *k);

/* What tpm2_quote() returns as the signature. */
typedef enum Tpm2SigForm {
        TPM2_SIG_MARSHALED,     /* the TPMT_SIGNATURE as the TPM marshals it */
        TPM2_SIG_RSASSA_SHA256, /* the bare RSASSA-SHA256 signature; another scheme is -EOPNOTSUPP */
} Tpm2SigForm;

/* TPM2_Quote by ak (empty auth, the key's own scheme) over the sha256 PCRs in pcr_mask, with qualifying
 * data (at most 64 bytes). Returns the marshaled TPMS_ATTEST and the signature, malloc'd. */
int tpm2_quote(Tpm2Context *c, const Tpm2Key *ak, uint32_t pcr_mask, const void *qualifying, size_t qualifying_size,
               Tpm2SigForm form, uint8_t **ret_attest, size_t *ret_attest_size, uint8_t **ret_sig, size_t *ret_sig_size);

/* TPM2_ActivateCredential(ak, ek) under a PolicySecret(endorsement) session, from the marshaled
 * TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET. The recovered secret is malloc'd; wipe it. */
int tpm2_activate_credential(Tpm2Context *c, const Tpm2Key *ak, const Tpm2Key *ek, const uint8_t *id_object,
                             size_t id_object_size, const uint8_t *enc_secret, size_t enc_secret_size,
                             uint8_t **ret, size_t *ret_size);

/* Who authorizes an NV read: the index itself or the owner hierarchy, with the empty password. */
typedef enum Tpm2NvAuth {
        TPM2_NV_AUTH_INDEX,     /* the SVSM's report index */
        TPM2_NV_AUTH_OWNER,     /* Azure's indices (ownerread) */
} Tpm2NvAuth;

/* Reads an NV index whole, in chunks the TPM allows. -EFBIG when it is empty or holds more than
 * max_size bytes. */
int tpm2_nv_read(Tpm2Context *c, uint32_t index, Tpm2NvAuth auth, size_t max_size, uint8_t **ret, size_t *ret_size);

/* Writes data (1..512 bytes) at offset 0 of NV index, with owner authorization; first (re)defines the
 * index (owner auth, empty password, ownerread|ownerwrite, nameAlg sha256) when it is absent or of another
 * size than size. */
int tpm2_nv_write(Tpm2Context *c, uint32_t index, const void *data, size_t size);
