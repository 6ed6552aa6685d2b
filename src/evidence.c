/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "evidence.h"
#include "macro.h"

static const EvidenceProvider *const providers[] = {
        &evidence_provider_tpm,
        &evidence_provider_svsm_vtpm,
        /* The Azure providers (evidence-az.c, issue 8) are added here: &evidence_provider_az_snp,
         * &evidence_provider_az_tdx. */
};

const EvidenceProvider *evidence_provider_find(const char *tee) {
        if (!tee)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(providers); i++)
                if (streq(providers[i]->tee, tee))
                        return providers[i];
        return NULL;
}
