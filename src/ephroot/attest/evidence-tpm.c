/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Trustee's generic `tpm` evidence (kbs-protocol.md): {"ak_public": base64(DER SPKI), "tpm_quote":
 * {"message": base64(TPMS_ATTEST), "signature": base64(TPMT_SIGNATURE), "pcrs": [24 x hex sha256]}},
 * the quote's qualifying data being the report data cut to 32 bytes. The AK is made fresh for each
 * attestation (a primary key: CreatePrimary, no EK session) and flushed after the quote. */

#define _GNU_SOURCE
#include <stdlib.h>

#include "attest-key.h"
#include "b64.h"
#include "evidence.h"
#include "json-util.h"
#include "jwk.h"
#include "log.h"
#include "util.h"

#define TPM_QUALIFYING_SIZE 32U

static Tpm2Hierarchy ak_hierarchy(const Config *c) {
        return c->attest_ak_endorsement ? TPM2_HIERARCHY_ENDORSEMENT : TPM2_HIERARCHY_OWNER;
}

static int need_tpm(Tpm2Context *tpm) {
        if (!tpm)
                return log_error_errno(SYNTHETIC_ERRNO(ENODEV), "Failed to make TPM evidence: no TPM is open (tpm=none).");
        return 0;
}

int evidence_tpm_ak_spki(Tpm2Context *tpm, const Config *config, char **ret_b64) {
        _cleanup_free_ uint8_t *spki = NULL;
        size_t spki_size;
        Tpm2Key ak = {};
        char *b64;
        int r;

        r = need_tpm(tpm);
        if (r < 0)
                return r;
        r = tpm2_create_ak(tpm, ak_hierarchy(config), config->attest_ak_ecc, &ak);
        if (r < 0)
                return log_error_errno(r, "Failed to create the attestation key: %m");
        r = attest_tpm_public_to_spki(ak.public, ak.public_size, &spki, &spki_size);
        tpm2_key_done(tpm, &ak);
        if (r < 0)
                return log_error_errno(r, "Failed to encode the attestation key's public key: %m");
        b64 = b64_encode(spki, spki_size, B64_PAD);
        if (!b64)
                return log_oom();
        *ret_b64 = b64;
        return 0;
}

int evidence_tpm_quote_json(Tpm2Context *tpm, const Config *config, const Tpm2Key *ak, const uint8_t *qualifying,
                            size_t qualifying_size, json_object **ret) {
        _cleanup_free_ uint8_t *msg = NULL, *sig = NULL;
        _cleanup_json_ json_object *q = NULL, *pcrs = NULL;
        size_t msg_size, sig_size;
        Digest values[TPM2_PCRS];
        int r;

        r = tpm2_quote(tpm, ak, config->attest_pcrs, qualifying, qualifying_size, TPM2_SIG_MARSHALED, &msg, &msg_size,
                       &sig, &sig_size);
        if (r < 0)
                return log_error_errno(r, "Failed to quote the PCRs with the attestation key: %m");
        r = tpm2_pcr_read(tpm, HASH_SHA256, TPM2_PCRS_ALL, values);
        if (r < 0)
                return log_error_errno(r, "Failed to read the sha256 PCRs: %m");

        q = json_object_new_object();
        pcrs = json_object_new_array();
        if (!q || !pcrs)
                return log_oom();
        for (unsigned i = 0; i < TPM2_PCRS; i++) {
                _cleanup_free_ char *hex = hexmem(values[i].bytes, values[i].size);

                if (json_append(pcrs, hex ? json_object_new_string(hex) : NULL) < 0)
                        return log_oom();
        }
        if (json_add_b64(q, "message", msg, msg_size, B64_PAD) < 0 ||
            json_add_b64(q, "signature", sig, sig_size, B64_PAD) < 0 || json_add(q, "pcrs", TAKE_PTR(pcrs)) < 0)
                return log_oom();
        *ret = TAKE_PTR(q);
        return 0;
}

static int tpm_collect(const EvidenceRequest *req, char **ret_json) {
        _cleanup_free_ uint8_t *spki = NULL;
        _cleanup_json_ json_object *o = NULL, *q = NULL;
        size_t spki_size;
        Tpm2Key ak = {};
        int r;

        r = need_tpm(req->tpm);
        if (r < 0)
                return r;
        r = tpm2_create_ak(req->tpm, ak_hierarchy(req->config), req->config->attest_ak_ecc, &ak);
        if (r < 0)
                return log_error_errno(r, "Failed to create the attestation key: %m");
        r = evidence_tpm_quote_json(req->tpm, req->config, &ak, req->report_data, TPM_QUALIFYING_SIZE, &q);
        if (r >= 0) {
                r = attest_tpm_public_to_spki(ak.public, ak.public_size, &spki, &spki_size);
                if (r < 0)
                        log_error_errno(r, "Failed to encode the attestation key's public key: %m");
        }
        tpm2_key_done(req->tpm, &ak);
        if (r < 0)
                return r;

        o = json_object_new_object();
        if (!o || json_add_b64(o, "ak_public", spki, spki_size, B64_PAD) < 0 || json_add(o, "tpm_quote", TAKE_PTR(q)) < 0 ||
            json_to_string(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, ret_json) < 0)
                return log_oom();
        return 0;
}

const EvidenceProvider evidence_provider_tpm = {
        .tee = "tpm",
        .collect = tpm_collect,
};
