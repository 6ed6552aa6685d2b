/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "evidence-az.h"
#include "evidence.h"
#include "log.h"
#include "macro.h"

static const EvidenceProvider *const providers[] = {
        &evidence_provider_tpm,
        &evidence_provider_svsm_vtpm,
        &evidence_provider_az_snp,
        &evidence_provider_az_tdx,
};

const EvidenceProvider *evidence_provider_find(const char *tee) {
        if (!tee)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(providers); i++)
                if (streq(providers[i]->tee, tee))
                        return providers[i];
        return NULL;
}

int evidence_provider_resolve(Tpm2Context *tpm, const char *tee, const EvidenceProvider **ret) {
        const EvidenceProvider *p;
        AzureTee t;
        int r;

        assert_return(tee && ret, -EINVAL);

        if (streq(tee, EVIDENCE_TEE_AZURE_DETECT)) {
                r = evidence_az_detect(tpm, &t);
                if (r < 0)
                        return log_error_errno(r, "Failed to detect the Azure TEE from the vTPM's HCL report (attest-tee=%s): %m",
                                               tee);
                tee = azure_tee_to_string(t);
                log_info("attest-tee=%s: the HCL report says %s.", EVIDENCE_TEE_AZURE_DETECT, tee);
        }
        p = evidence_provider_find(tee);
        if (!p)
                return log_error_errno(SYNTHETIC_ERRNO(EOPNOTSUPP), "attest-tee=%s: no such evidence provider.", tee);
        *ret = p;
        return 0;
}
