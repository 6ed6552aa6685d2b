/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* svsm-vtpm: not implemented yet; refused. */

#include <errno.h>

#include "kbs-verifier.h"

int kbs_verify_svsm_vtpm(const KbsVerifyContext *ctx, json_object *evidence, const uint8_t *report_data,
                         size_t report_data_size, KbsClaims *claims, const char **ret_reason) {
        *ret_reason = "svsm-vtpm evidence is not supported yet";
        return -EOPNOTSUPP;
}
