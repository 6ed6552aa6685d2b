/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "evidence.h"
#include "log.h"

static int svsm_collect(const EvidenceRequest *req, char **ret_json) {
        return log_error_errno(SYNTHETIC_ERRNO(EOPNOTSUPP), "svsm-vtpm evidence is not implemented yet.");
}

const EvidenceProvider evidence_provider_svsm_vtpm = {
        .tee = "svsm-vtpm",
        .collect = svsm_collect,
};
