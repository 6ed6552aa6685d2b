/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Intel TDX DCAP quotes (version 4, and version 5 with a TD 1.0/1.5 body), parsed from bytes, and
 * their signature chain verified with OpenSSL: the attestation key's ECDSA P-256 signature over
 * header and body, the QE report signed by the PCK certificate and binding the attestation key, and
 * the PCK chain to a configured Intel root, and the QE report's identity: Intel's QE signer (MRSIGNER),
 * the TDX QE's product (ISVPRODID 2), production attributes. TCB status (TCB info, the QE's TCB
 * levels, CRLs) is not evaluated: the QE's ISVSVN and the TEE TCB SVN are handed to the policy, which
 * may set floors. Neutral. */

typedef struct TdxQuote {
        uint16_t version;
        const uint8_t *signed_data; /* header + body */
        size_t signed_size;
        const uint8_t *tee_tcb_svn; /* 16 bytes in the body (its first member) */
        const uint8_t *report_data; /* 64 bytes in the body */
        const uint8_t *td_info;     /* TDATTRIBUTES..RTMR3: 400 bytes in the body */
        const uint8_t *signature;   /* 64: r || s, big-endian */
        const uint8_t *attest_key;  /* 64: x || y */
        const uint8_t *qe_report;   /* 384: SGX report body */
        const uint8_t *qe_signature; /* 64 */
        const uint8_t *qe_auth;
        size_t qe_auth_size;
        const char *pck_chain;      /* PEM, leaf first */
        size_t pck_chain_size;
} TdxQuote;

#define TDX_TD_INFO_SIZE 400
#define TDX_TEE_TCB_SVN_SIZE 16
/* The SGX report body of the quoting enclave (the QE report), 384 bytes */
#define TDX_QE_REPORT_SIZE 384U
#define TDX_QE_MISCSELECT_OFFSET 16U
#define TDX_QE_ATTRIBUTES_OFFSET 48U
#define TDX_QE_MRSIGNER_OFFSET 128U
#define TDX_QE_ISVPRODID_OFFSET 256U
#define TDX_QE_ISVSVN_OFFSET 258U
#define TDX_QE_REPORTDATA_OFFSET 320U
/* Intel's identity of the TDX quoting enclave (PCS qe/identity, "id":"TD_QE"): MRSIGNER, ISVPRODID,
 * ATTRIBUTES under a mask (no DEBUG), MISCSELECT 0. */
#define TDX_QE_ISVPRODID 2U
extern const uint8_t tdx_qe_mrsigner[32];
#define TDX_TD_ATTRIBUTES_DEBUG 0x01 /* td_info[0], bit 0 of TDATTRIBUTES */

/* The result points into p. */
int tdx_quote_parse(const uint8_t *p, size_t n, TdxQuote *ret);

typedef struct TdxRoots TdxRoots;
TdxRoots *tdx_roots_new(void);
void tdx_roots_free(TdxRoots *r);
/* Adds self-signed root certificates (PEM). */
int tdx_roots_add_pem(TdxRoots *r, const char *pem, size_t size);
size_t tdx_roots_count(const TdxRoots *r);

/* Verifies the quote's signatures, PCK chain and the QE's identity; *ret_reason says what failed. */
int tdx_quote_verify(const TdxRoots *roots, const TdxQuote *q, const char **ret_reason);

/* The QE report's ISVSVN (meaningful after tdx_quote_verify()). */
uint16_t tdx_quote_qe_isvsvn(const TdxQuote *q);
