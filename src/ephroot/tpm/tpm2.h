/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
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

/* Attestation (issue 6). A key loaded in the TPM, with its public area as the TPM marshals it. */
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

/* The endorsement key: the persistent object at handle (0x81010001 for the TCG default RSA EK), else
 * -ENOENT. Not flushed. */
int tpm2_read_persistent_key(Tpm2Context *c, uint32_t handle, Tpm2Key *ret);

/* Flushes (when transient) and frees. */
void tpm2_key_done(Tpm2Context *c, Tpm2Key *k);

/* TPM2_Quote by ak over the sha256 PCRs in pcr_mask, with qualifying data (at most 64 bytes). Returns
 * the marshaled TPMS_ATTEST and TPMT_SIGNATURE, malloc'd. */
int tpm2_quote(Tpm2Context *c, const Tpm2Key *ak, uint32_t pcr_mask, const void *qualifying, size_t qualifying_size,
               uint8_t **ret_attest, size_t *ret_attest_size, uint8_t **ret_sig, size_t *ret_sig_size);

/* Every PCR (0-23) of one bank, in as few TPM2_PCR_Read calls as the TPM allows (bounded). */
int tpm2_pcr_read_all(Tpm2Context *c, HashAlg alg, Digest ret[24]);

/* TPM2_ActivateCredential(ak, ek) under a PolicySecret(endorsement) session, from the marshaled
 * TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET. The recovered secret is malloc'd; wipe it. */
int tpm2_activate_credential(Tpm2Context *c, const Tpm2Key *ak, const Tpm2Key *ek, const uint8_t *id_object,
                             size_t id_object_size, const uint8_t *enc_secret, size_t enc_secret_size,
                             uint8_t **ret, size_t *ret_size);

/* Reads an NV index whole (at most max_size bytes, else -EFBIG), in chunks the TPM allows. */
int tpm2_nv_read(Tpm2Context *c, uint32_t index, size_t max_size, uint8_t **ret, size_t *ret_size);


/* --- Azure vTPM (NV report, persistent AK) --- */

#define TPM2_AZ_PCRS 24U

/* (Re)defines NV index (owner authorization, empty password, ownerread|ownerwrite, nameAlg sha256)
 * when it is absent or of another size than size, then writes data at offset 0. size <= 1024. */
int tpm2_nv_az_write(Tpm2Context *c, uint32_t index, const void *data, size_t size);

/* Reads the whole NV index with owner authorization, in chunks. -ENOENT when it is not defined,
 * -EFBIG when its size exceeds max_size. */
int tpm2_nv_az_read(Tpm2Context *c, uint32_t index, size_t max_size, uint8_t **ret, size_t *ret_size);

/* The RSA public key of a persistent key: modulus (malloc'd) and exponent (0 means 65537). */
int tpm2_read_public_rsa_az(Tpm2Context *c, uint32_t handle, uint8_t **ret_n, size_t *ret_n_size,
                            uint32_t *ret_exponent);

/* TPM2_Quote with the persistent RSASSA key at ak_handle (empty password), the key's own scheme,
 * over sha256 PCRs 0..23: the marshaled TPMS_ATTEST and the raw RSASSA signature (malloc'd). */
int tpm2_quote_az(Tpm2Context *c, uint32_t ak_handle, const void *qualifying, size_t qualifying_size,
                  uint8_t **ret_msg, size_t *ret_msg_size, uint8_t **ret_sig, size_t *ret_sig_size);

/* The sha256 PCRs 0..23. */
int tpm2_pcr_read_az(Tpm2Context *c, uint8_t ret[TPM2_AZ_PCRS][32]);
