/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "azure-evidence.h"
#include "evidence.h"

/* The Azure CVM flow (docs/azure.md): the report data goes to NV 0x01400002, the paravisor
 * regenerates the HCL report at NV 0x01400001 with it as user-data (polled for, with a deadline), the
 * AK at 0x81000003 quotes sha256 PCRs 0..23 over the report data, and IMDS gives the VCEK (SNP) or
 * the TD quote (TDX). evidence_provider_az_snp and evidence_provider_az_tdx (evidence.h) run it with
 * IMDS; tests run it with a fetcher of their own. */

#define AZURE_NV_HCL_REPORT 0x01400001U
#define AZURE_NV_USER_DATA 0x01400002U
#define AZURE_AK_HANDLE 0x81000003U
#define AZURE_USER_DATA_SIZE 64U /* report data, zero-padded: what Azure's NV index holds */

typedef struct AzureFetcher {
        /* SNP: the VCEK of this chip and TCB, DER. */
        int (*vcek)(void *userdata, const Config *config, uint8_t **ret_der, size_t *ret_size);
        /* TDX: the TD quote for this TDREPORT (HCL_TDREPORT_SIZE bytes). */
        int (*td_quote)(void *userdata, const Config *config, const uint8_t *tdreport, size_t size, uint8_t **ret,
                        size_t *ret_size);
        void *userdata;
} AzureFetcher;

/* The fetcher the providers use: IMDS at config->azure_imds_url. */
extern const AzureFetcher azure_fetcher_imds;

/* Runs the flow for tee and returns the evidence JSON. Logs every failure. */
int evidence_az_collect_with(const EvidenceRequest *req, AzureTee tee, const AzureFetcher *fetcher, char **ret_json);

/* Which Azure TEE this VM is, from the type of the HCL report at NV 0x01400001 (for a configuration
 * that leaves the tee to detection). -ENOENT when there is no HCL report (not an Azure CVM). */
int evidence_az_detect(Tpm2Context *tpm, AzureTee *ret);
