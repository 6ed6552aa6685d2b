/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

#include "kbs-verifier.h"

/* svsm-vtpm: an SVSM-hosted ephemeral vTPM (snp-tdx-svsm.md). Its EK is bound by a VMPL0 SNP report
 * (REPORT_DATA = SHA-512 of the EK's TPM2B_PUBLIC); the AK is tied to that EK by credential
 * activation, which needs a round trip, so it rides on RCAR's auth: the client names its EK and AK in
 * the auth request's extra-params, the server answers with a credential (TPM2_MakeCredential) in the
 * auth response's extra-params, and the client proves it activated it in the evidence. */

#define KBS_SVSM_SECRET_SIZE 32
#define KBS_SVSM_TPM2B_MAX 1024

struct KbsSvsmChallenge {
        uint8_t secret[KBS_SVSM_SECRET_SIZE];
        uint8_t *ek, *ak; /* TPM2B_PUBLIC as the client sent them */
        size_t ek_size, ak_size;
};

void kbs_svsm_challenge_done(KbsSvsmChallenge *c);

/* From the auth request's extra-params {"ek_public","ak_public"} (base64url TPM2B_PUBLIC): a fresh
 * secret made into a credential for the AK under the EK. *ret_extra is the auth response's
 * extra-params {"credential_blob","encrypted_secret"} (base64url TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET). */
int kbs_svsm_challenge_new(json_object *extra_params, KbsSvsmChallenge *ret, json_object **ret_extra,
                           const char **ret_detail);
