/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Trustee's Azure vTPM evidence, assembled from its pieces; no I/O. The JSON is compact, members in
 * Trustee's order, encodings as Trustee's attesters make them (guest-components
 * attestation-agent/attester/src/az_{snp,tdx}_vtpm, verifier deps/verifier/src/az_*_vtpm):
 *   az-snp-vtpm v2: {"version":2,"tpm_quote":{"signature":hex,"message":hex,"pcrs":[24 x hex]},
 *                    "hcl_report":b64url padded,"vcek":b64url padded (DER)}
 *   az-tdx-vtpm v1: {"version":1,"tpm_quote":{...},"hcl_report":b64url padded,"td_quote":b64url padded} */

#define AZURE_PCRS 24U
#define AZURE_QUOTE_SIG_MAX 512U      /* raw RSA signature (RSA-2048: 256) */
#define AZURE_QUOTE_MSG_MAX 1024U     /* TPMS_ATTEST of a quote over 24 PCRs: ~150 bytes */
#define AZURE_VCEK_MAX 8192U          /* DER certificate */
#define AZURE_TD_QUOTE_MAX (64U * 1024U)

typedef enum AzureTee {
        AZURE_TEE_SNP,  /* az-snp-vtpm */
        AZURE_TEE_TDX,  /* az-tdx-vtpm */
        _AZURE_TEE_MAX,
} AzureTee;

const char *azure_tee_to_string(AzureTee t);

typedef struct AzureEvidencePieces {
        const uint8_t *hcl_report;      /* the NV 0x01400001 contents as read */
        size_t hcl_report_size;
        const uint8_t *quote_msg;       /* TPMS_ATTEST as marshaled by the TPM */
        size_t quote_msg_size;
        const uint8_t *quote_sig;       /* the raw RSASSA signature bytes */
        size_t quote_sig_size;
        const uint8_t (*pcrs)[32];      /* sha256 PCRs 0..23 */
        const uint8_t *hw;              /* SNP: the VCEK (DER); TDX: the TD quote */
        size_t hw_size;
        unsigned version;               /* 0: the current one (2); 1: Trustee's earlier format, same members */
} AzureEvidencePieces;

/* The evidence JSON text for tee, malloc'd. -EINVAL for a missing piece, -E2BIG for one over its bound. */
int azure_evidence_build(AzureTee tee, const AzureEvidencePieces *p, char **ret_json);

/* IMDS bodies (azure-cvm.md), parsed without I/O.
 * GET /metadata/THIM/amd/certification -> {"vcekCert": PEM, "certificateChain": PEM}: the VCEK as DER.
 * POST /acc/tdquote {"report": base64url(TDREPORT)} -> {"quote": base64url}: the TD quote. */
#define AZURE_IMDS_BODY_MAX (64U * 1024U)
int azure_imds_parse_certification(const char *body, size_t n, uint8_t **ret_der, size_t *ret_size);
int azure_imds_td_quote_request(const uint8_t *tdreport, size_t n, char **ret_json);
int azure_imds_parse_td_quote(const char *body, size_t n, uint8_t **ret, size_t *ret_size);
