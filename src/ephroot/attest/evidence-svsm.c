/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `svsm-vtpm` evidence (docs/attestation.md, docs/kbs.md): the ephemeral vTPM of the ACSAC 2023 paper,
 * living in the SVSM at VMPL0. Its EK (TCG default RSA-2048 at 0x81010001) is bound by a VMPL0 SNP
 * report (REPORT_DATA = SHA-512 of the EK's TPM2B_PUBLIC) that the SVSM leaves in NV 0x01C00002; a
 * fresh AK is tied to that EK by credential activation, a round trip carried by RCAR's extra-params:
 *   auth  extra-params {"ek_public","ak_public"} -> reply {"credential_blob","encrypted_secret"}
 *   attest {"version":1,"snp_report","vcek","ek_public","ak_public","activated_secret","tpm_quote"}
 * the quote's qualifying data being the 48-byte report data. */

#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "attest-proto.h"
#include "b64.h"
#include "evidence.h"
#include "json-util.h"
#include "jwk.h"
#include "log.h"
#include "snp-report.h"
#include "util.h"

#define SVSM_EK_HANDLE 0x81010001U
#define SVSM_REPORT_NV_INDEX 0x01C00002U
#define SVSM_REPORT_NV_MAX 4096U
#define SVSM_VCEK_MAX (16U * 1024U)
#define SVSM_CREDENTIAL_MAX 1024U

typedef struct SvsmState {
        Tpm2Key ek, ak;
} SvsmState;

static void svsm_state_free(Tpm2Context *tpm, void *p) {
        SvsmState *s = p;

        if (!s)
                return;
        tpm2_key_done(tpm, &s->ak);
        tpm2_key_done(tpm, &s->ek);
        free(s);
}

static int svsm_auth_extra_params(Tpm2Context *tpm, const Config *config, void **ret_state, char **ret_json) {
        _cleanup_json_ json_object *o = NULL;
        SvsmState *s;
        int r;

        if (!tpm)
                return log_error_errno(SYNTHETIC_ERRNO(ENODEV), "Failed to make svsm-vtpm evidence: no TPM is open (tpm=none).");
        s = calloc(1, sizeof(*s));
        if (!s)
                return log_oom();
        r = tpm2_read_persistent_key(tpm, SVSM_EK_HANDLE, &s->ek);
        if (r < 0) {
                svsm_state_free(tpm, s);
                return log_error_errno(r, "Failed to read the vTPM's endorsement key at 0x%08x: %m", SVSM_EK_HANDLE);
        }
        r = tpm2_create_ak(tpm, config->attest_ak_endorsement ? TPM2_HIERARCHY_ENDORSEMENT : TPM2_HIERARCHY_OWNER,
                           config->attest_ak_ecc, &s->ak);
        if (r < 0) {
                svsm_state_free(tpm, s);
                return log_error_errno(r, "Failed to create the attestation key: %m");
        }
        o = json_object_new_object();
        if (!o || json_add_b64(o, "ek_public", s->ek.public, s->ek.public_size, B64_URL) < 0 ||
            json_add_b64(o, "ak_public", s->ak.public, s->ak.public_size, B64_URL) < 0 ||
            json_to_string(o, JSON_C_TO_STRING_PLAIN, ret_json) < 0) {
                svsm_state_free(tpm, s);
                return log_oom();
        }
        *ret_state = s;
        return 0;
}

static int member_b64url(json_object *o, const char *name, size_t max, uint8_t **ret, size_t *ret_size) {
        int r = json_get_b64(o, name, B64_URL | B64_PAD_OPTIONAL, max, ret, ret_size);

        return r == -EFBIG ? -EBADMSG : r;
}

static int svsm_collect(const EvidenceRequest *req, char **ret_json) {
        _cleanup_free_ uint8_t *blob = NULL, *enc_secret = NULL, *secret = NULL, *report = NULL;
        _cleanup_free_ char *vcek = NULL, *secret_b64 = NULL;
        _cleanup_json_ json_object *extra = NULL, *q = NULL, *o = NULL;
        size_t blob_size, enc_size, secret_size = 0, report_size, vcek_size;
        const SvsmState *s = req->state;
        SnpReport parsed;
        int r;

        if (!s)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Failed to make svsm-vtpm evidence: no EK and AK from auth.");

        /* The broker's half of credential activation. */
        if (!req->extra_params || attest_proto_parse_json(req->extra_params, strlen(req->extra_params), &extra) < 0 ||
            !json_object_is_type(extra, json_type_object) ||
            member_b64url(extra, "credential_blob", SVSM_CREDENTIAL_MAX, &blob, &blob_size) < 0 ||
            member_b64url(extra, "encrypted_secret", SVSM_CREDENTIAL_MAX, &enc_secret, &enc_size) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                       "Failed to read the broker's credential: the auth reply's extra-params lack credential_blob/encrypted_secret.");
        r = tpm2_activate_credential(req->tpm, &s->ak, &s->ek, blob, blob_size, enc_secret, enc_size, &secret, &secret_size);
        if (r < 0)
                return log_error_errno(r, "Failed to activate the broker's credential with the vTPM's EK: %m");
        secret_b64 = b64url_encode(secret, secret_size);
        explicit_bzero(secret, secret_size);
        if (!secret_b64)
                return log_oom();

        /* The SVSM's VMPL0 report binding the EK (the guest cannot mint one; the NV copy is not trusted
         * as such: the verifier checks its signature). */
        r = tpm2_nv_read(req->tpm, SVSM_REPORT_NV_INDEX, TPM2_NV_AUTH_INDEX, SVSM_REPORT_NV_MAX, &report, &report_size);
        if (r < 0)
                return log_error_errno(r, "Failed to read the SNP report from NV index 0x%08x: %m", SVSM_REPORT_NV_INDEX);
        if (snp_report_parse(report, report_size, &parsed) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                       "Failed to parse the SNP report in NV index 0x%08x (%zu bytes, expected %u).",
                                       SVSM_REPORT_NV_INDEX, report_size, SNP_REPORT_SIZE);
        if (!req->config->attest_vcek_file)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "attest-tee=svsm-vtpm needs attest-vcek-file=, refusing.");
        r = read_full_file_bounded(req->config->attest_vcek_file, SVSM_VCEK_MAX, &vcek, &vcek_size);
        if (r < 0)
                return log_error_errno(r, "Failed to read the VCEK '%s': %m", req->config->attest_vcek_file);

        r = evidence_tpm_quote_json(req->tpm, req->config, &s->ak, req->report_data, RCAR_REPORT_DATA_SIZE, &q);
        if (r < 0)
                return r;

        o = json_object_new_object();
        if (!o || json_add_int(o, "version", 1) < 0 ||
            json_add_b64(o, "snp_report", report, report_size, B64_URL) < 0 ||
            json_add_b64(o, "vcek", vcek, vcek_size, B64_URL) < 0 ||
            json_add_b64(o, "ek_public", s->ek.public, s->ek.public_size, B64_URL) < 0 ||
            json_add_b64(o, "ak_public", s->ak.public, s->ak.public_size, B64_URL) < 0 ||
            json_add_string(o, "activated_secret", secret_b64) < 0 || json_add(o, "tpm_quote", TAKE_PTR(q)) < 0 ||
            json_to_string(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, ret_json) < 0)
                return log_oom();
        return 0;
}

const EvidenceProvider evidence_provider_svsm_vtpm = {
        .tee = "svsm-vtpm",
        .auth_extra_params = svsm_auth_extra_params,
        .collect = svsm_collect,
        .state_free = svsm_state_free,
};
