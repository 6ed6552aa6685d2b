/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* TPM2B_PUBLIC / TPMT_PUBLIC (TPM 2.0 Part 2, 12.2) for RSA and ECC keys, parsed from bytes without
 * tss2 or I/O, and the object's Name. Neutral: the client reads its EK and AK with it too. */

#define TPM_ALG_RSA 0x0001U
#define TPM_ALG_ECC 0x0023U
#define TPM_ALG_NULL 0x0010U
#define TPM_ALG_AES 0x0006U
#define TPM_ALG_CFB 0x0043U

#define TPMA_OBJECT_FIXEDTPM (1U << 1)
#define TPMA_OBJECT_FIXEDPARENT (1U << 4)
#define TPMA_OBJECT_SENSITIVEDATAORIGIN (1U << 5)
#define TPMA_OBJECT_RESTRICTED (1U << 16)
#define TPMA_OBJECT_DECRYPT (1U << 17)
#define TPMA_OBJECT_SIGN (1U << 18)

#define TPM_ECC_NIST_P256 0x0003U
#define TPM_ECC_NIST_P384 0x0004U

typedef struct TpmPublic {
        uint16_t type;        /* TPM_ALG_RSA or TPM_ALG_ECC */
        uint16_t name_alg;
        uint32_t attributes;
        uint16_t sym_alg, sym_bits, sym_mode; /* TPM_ALG_NULL when none */
        uint16_t scheme, scheme_hash;
        uint16_t rsa_bits;
        uint32_t rsa_exponent;                /* 0 means 65537 */
        uint16_t curve;
        uint16_t n_size;                      /* RSA modulus, or ECC x */
        uint8_t n[512];
        uint16_t y_size;                      /* ECC y */
        uint8_t y[66];
        const uint8_t *tpmt;                  /* the TPMT_PUBLIC bytes inside the input */
        size_t tpmt_size;
} TpmPublic;

/* Parses a TPM2B_PUBLIC (u16 size, then TPMT_PUBLIC of exactly that size); the result points into p. */
int tpm_public_parse(const uint8_t *p, size_t n, TpmPublic *ret);

/* Name = nameAlg || H_nameAlg(TPMT_PUBLIC); ret must hold 2 + 64 bytes. */
int tpm_public_name(const TpmPublic *pub, uint8_t *ret, size_t *ret_size);
