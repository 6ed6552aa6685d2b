/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "jwk.h"
#include "rcar.h"
#include "snp-report.h"
#include "snp-verify.h"
#include "tdx-quote.h"
#include "tpm-quote.h"

/* The TEE types the server knows by name (Trustee's lowercase names). */
typedef enum KbsTee {
        KBS_TEE_TPM,
        KBS_TEE_AZ_SNP_VTPM,
        KBS_TEE_AZ_TDX_VTPM,
        KBS_TEE_SVSM_VTPM,
        _KBS_TEE_SUPPORTED,
        /* known to Trustee, not verified here */
        KBS_TEE_SNP = _KBS_TEE_SUPPORTED,
        KBS_TEE_TDX,
        KBS_TEE_SGX,
        KBS_TEE_SE,
        KBS_TEE_CCA,
        KBS_TEE_CSV,
        KBS_TEE_SAMPLE,
        _KBS_TEE_MAX,
} KbsTee;

const char *kbs_tee_to_string(KbsTee t);
int kbs_tee_from_string(const char *s);

/* What a verifier established from the evidence; the policy decides on these. */
typedef struct KbsClaims {
        KbsTee tee;
        bool have_pcrs;
        uint32_t pcr_mask;      /* the PCRs the verified quote covers: only these of pcrs[] are proven */
        uint8_t pcrs[TPM_PCRS][32];
        bool have_measurement;
        uint8_t measurement[48];
        uint32_t vmpl;
        SnpProduct product;
        uint8_t *ak_der;        /* tpm: the AK's SubjectPublicKeyInfo (DER) */
        size_t ak_der_size;
        bool td_quote_unverified;     /* no Intel root configured: signature not checked */
        bool td_tcb_unevaluated;      /* signature and PCK chain checked, TCB status not */
        bool have_td_qe;              /* the QE report was authenticated and is Intel's TDX QE */
        uint16_t td_qe_isvsvn;        /* with have_td_qe */
        uint8_t td_tee_tcb_svn[16];   /* with have_td_qe: the body's TEE_TCB_SVN, signed by the QE's key */
        bool have_snp;                /* a verified SNP report (az-snp-vtpm, svsm-vtpm): the fields below */
        uint64_t snp_guest_policy;
        uint64_t snp_reported_tcb, snp_committed_tcb; /* laid out as product says */
} KbsClaims;

void kbs_claims_done(KbsClaims *c);

typedef struct KbsSvsmChallenge KbsSvsmChallenge;

typedef struct KbsVerifyContext {
        const SnpRoots *amd_roots;
        const TdxRoots *intel_roots;  /* az-tdx-vtpm: TD quote signature chains to these */
        const KbsSvsmChallenge *svsm; /* svsm-vtpm: the session's credential */
        time_t now;                   /* certificate validity is checked at this time; 0: now */
} KbsVerifyContext;

/* Every verifier: evidence is the primary evidence (a JSON value), report_data the 48-byte binding
 * hash. Returns 0 and fills claims, or < 0 with *ret_reason saying which check failed (a static
 * string, safe to log and to send). */
typedef int (*KbsVerifier)(const KbsVerifyContext *ctx, json_object *evidence,
                           const uint8_t *report_data, size_t report_data_size, KbsClaims *claims, const char **ret_reason);

int kbs_verify_tpm(const KbsVerifyContext *ctx, json_object *evidence, const uint8_t *report_data, size_t report_data_size,
                   KbsClaims *claims, const char **ret_reason);
int kbs_verify_az_snp_vtpm(const KbsVerifyContext *ctx, json_object *evidence,
                           const uint8_t *report_data, size_t report_data_size, KbsClaims *claims, const char **ret_reason);
int kbs_verify_az_tdx_vtpm(const KbsVerifyContext *ctx, json_object *evidence,
                           const uint8_t *report_data, size_t report_data_size, KbsClaims *claims, const char **ret_reason);
int kbs_verify_svsm_vtpm(const KbsVerifyContext *ctx, json_object *evidence,
                         const uint8_t *report_data, size_t report_data_size, KbsClaims *claims, const char **ret_reason);

/* Dispatches on tee. */
int kbs_verify(const KbsVerifyContext *ctx, KbsTee tee, json_object *evidence,
               const uint8_t *report_data, size_t report_data_size, KbsClaims *claims, const char **ret_reason);

/* Helpers shared by the verifiers. */
/* A hex or base64 string member, or (Trustee's v0 form) an array of byte values. */
typedef enum KbsBytesEncoding {
        KBS_BYTES_HEX,
        KBS_BYTES_B64,    /* standard alphabet, padded */
        KBS_BYTES_B64URL, /* URL alphabet, padding optional */
        KBS_BYTES_ARRAY,
} KbsBytesEncoding;
int kbs_evidence_bytes(json_object *o, const char *key, KbsBytesEncoding enc, size_t max, uint8_t **ret,
                       size_t *ret_size);
/* tpm_quote.pcrs: 24 sha256 values, hex strings or byte arrays. */
/* init-data bound as Trustee's tpm and Azure verifiers bind it (deps/verifier/src/tpm/mod.rs
 * verify_init_data at 78962cd4): sha256 PCR 8 == SHA-256(32 zero bytes || init-data digest). */
#define KBS_INIT_DATA_PCR 8
int kbs_check_init_data(const KbsClaims *claims, const uint8_t *digest, size_t digest_size, const char **ret_reason);

int kbs_evidence_pcrs(json_object *quote, KbsBytesEncoding enc, uint8_t ret[TPM_PCRS][32]);
/* Fills the claims every verified SNP report gives: measurement, VMPL, product, guest policy, TCBs. */
void kbs_claims_set_snp(KbsClaims *claims, const SnpReport *snp, SnpProduct product);
/* Verifies a TPM quote (message, signature) with ak: signature, extraData == nonce, PCR digest.
 * *ret_mask: the PCRs the quote selects, the only values of pcrs[] the quote proves. */
int kbs_check_quote(EVP_PKEY *ak, const uint8_t *msg, size_t msg_size, const TpmSignature *sig,
                    const uint8_t *nonce, size_t nonce_size, const uint8_t pcrs[TPM_PCRS][32], uint32_t *ret_mask,
                    const char **ret_reason);
