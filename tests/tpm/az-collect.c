/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test driver for the Azure evidence flow: runs a provider's collect() (evidence-az.c, with IMDS at
 * the configured azure-imds-url) against a TPM and prints the evidence JSON.
 *   az-collect TCTI TEE REPORT-DATA-HEX [CONFIG-TEXT]
 * TEE is az-snp-vtpm, az-tdx-vtpm, or auto (detected from the HCL report). Exit 0 with the JSON on
 * stdout, else 1 with the reason logged on stderr. */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "evidence-az.h"
#include "log.h"
#include "tpm2.h"
#include "util.h"

int main(int argc, char **argv) {
        _cleanup_(tpm2_context_freep) Tpm2Context *tpm = NULL;
        _cleanup_free_ void *rd = NULL;
        _cleanup_free_ char *json = NULL;
        const EvidenceProvider *p;
        Config config;
        size_t rd_size;
        int r;

        log_set_target(LOG_TARGET_STDERR);
        if (argc < 4 || argc > 5) {
                fprintf(stderr, "usage: az-collect TCTI TEE REPORT-DATA-HEX [CONFIG-TEXT]\n");
                return 2;
        }
        if (config_init(&config) < 0 || (argc == 5 && config_parse_text(&config, argv[4], "test config") < 0))
                return 1;
        log_set_max_level(config.log_level);
        if (unhexmem(argv[3], &rd, &rd_size) < 0 || rd_size != RCAR_REPORT_DATA_SIZE) {
                log_error("Report data must be %u bytes of hex.", RCAR_REPORT_DATA_SIZE);
                return 2;
        }
        r = tpm2_context_new(argv[1], &tpm);
        if (r < 0) {
                log_error_errno(r, "Failed to open the TPM '%s': %m", argv[1]);
                return 1;
        }
        if (streq(argv[2], "auto")) {
                AzureTee t;
                if (evidence_az_detect(tpm, &t) < 0)
                        return 1;
                p = t == AZURE_TEE_SNP ? &evidence_provider_az_snp : &evidence_provider_az_tdx;
                log_info("Detected %s.", p->tee);
        } else if (streq(argv[2], evidence_provider_az_snp.tee))
                p = &evidence_provider_az_snp;
        else if (streq(argv[2], evidence_provider_az_tdx.tee))
                p = &evidence_provider_az_tdx;
        else {
                log_error("Unknown tee '%s'.", argv[2]);
                return 2;
        }

        EvidenceRequest req = { .tpm = tpm, .config = &config, .report_data = rd };
        r = p->collect(&req, &json);
        config_done(&config);
        if (r < 0)
                return 1;
        puts(json);
        return 0;
}
