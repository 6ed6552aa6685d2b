/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* TPM 2.0 attestation structures (TPM 2.0 Part 2), parsed from their big-endian marshaled form
 * without tss2: TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE and TPMT_SIGNATURE. Neutral and without
 * I/O: shared with the attestation client, fuzzed directly. Every size is checked against the
 * buffer and against the TPM's own limits; trailing bytes are refused. */

#define TPM_GENERATED_VALUE 0xFF544347U
#define TPM_ST_ATTEST_QUOTE 0x8018U
#define TPM_ALG_RSASSA 0x0014U
#define TPM_ALG_RSAPSS 0x0016U
#define TPM_ALG_ECDSA 0x0018U
#define TPM_ALG_SHA1 0x0004U
#define TPM_ALG_SHA256 0x000BU
#define TPM_ALG_SHA384 0x000CU
#define TPM_ALG_SHA512 0x000DU

#define TPM_NAME_MAX 68        /* hash alg + SHA-512 digest */
#define TPM_DATA_MAX 64        /* sizeof(TPMU_HA) */
#define TPM_PCR_SELECT_MAX 4   /* 32 PCRs */
#define TPM_PCR_BANKS_MAX 16
#define TPM_SIG_MAX 512        /* RSA 4096 */

typedef struct TpmPcrSelection {
        uint16_t hash;
        uint8_t size;
        uint8_t select[TPM_PCR_SELECT_MAX];
} TpmPcrSelection;

typedef struct TpmQuoteInfo {
        uint32_t magic;
        uint16_t type;
        uint16_t signer_size;
        uint8_t signer[TPM_NAME_MAX];
        uint16_t extra_size;
        uint8_t extra[TPM_DATA_MAX];
        uint64_t clock;
        uint32_t reset_count, restart_count;
        uint8_t safe;
        uint64_t firmware_version;
        uint32_t n_selections;
        TpmPcrSelection selections[TPM_PCR_BANKS_MAX];
        uint16_t pcr_digest_size;
        uint8_t pcr_digest[TPM_DATA_MAX];
} TpmQuoteInfo;

typedef struct TpmSignature {
        uint16_t alg;  /* TPM_ALG_RSASSA, TPM_ALG_RSAPSS or TPM_ALG_ECDSA */
        uint16_t hash;
        uint16_t sig_size; /* RSA: the signature; ECDSA: r */
        uint8_t sig[TPM_SIG_MAX];
        uint16_t s_size;   /* ECDSA only */
        uint8_t s[TPM_DATA_MAX + 2];
} TpmSignature;

/* Parses a marshaled TPMS_ATTEST that must be a quote (magic and type are checked: -EBADMSG). */
int tpm_quote_info_parse(const uint8_t *p, size_t n, TpmQuoteInfo *ret);

/* Parses a marshaled TPMT_SIGNATURE (RSASSA, RSAPSS, ECDSA). */
int tpm_signature_parse(const uint8_t *p, size_t n, TpmSignature *ret);

/* Size in bytes of the digest of a TPM hash algorithm, 0 if unknown. */
size_t tpm_hash_size(uint16_t alg);
