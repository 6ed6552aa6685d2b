/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "hcl-report.h"
#include "kbs-verifier.h"

/* Pieces shared by the two Azure vTPM verifiers. */

/* Reads versions 0 (byte arrays), 1 and 2 (hex quote, base64url reports); hw_key is "vcek" (SNP) or
 * "td_quote" (TDX). For SNP v0 the VCEK comes back as PEM text. */
int kbs_az_evidence_parse(json_object *evidence, const char *hw_key, unsigned *ret_version, uint8_t **ret_sig,
                          size_t *ret_sig_size, uint8_t **ret_msg, size_t *ret_msg_size, uint8_t **ret_hcl,
                          size_t *ret_hcl_size, uint8_t **ret_hw, size_t *ret_hw_size, uint8_t pcrs[TPM_PCRS][32],
                          const char **ret_reason);

/* The AK from the HCL runtime data signs the quote (raw RSASSA-PKCS1-v1_5 SHA-256), extraData ==
 * report_data, PCR digest == the PCRs sent; *ret_mask: the PCRs the quote covers. */
int kbs_az_check_quote_and_hcl(const HclReport *hcl, const uint8_t *sig, size_t sig_size, const uint8_t *msg,
                               size_t msg_size, const uint8_t pcrs[TPM_PCRS][32], const uint8_t *report_data,
                               size_t report_data_size, uint32_t *ret_mask, const char **ret_reason);

/* Evidence version 2: the HCL runtime data's user-data starts with report_data. */
int kbs_az_check_user_data(const HclReport *hcl, const uint8_t *report_data, size_t report_data_size,
                           const char **ret_reason);
