/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Trustee's generic `tpm` evidence: {"ak_public": base64(DER SPKI), "tpm_quote": {"message":
 * base64(TPMS_ATTEST), "signature": base64(TPMT_SIGNATURE), "pcrs": [24 x hex sha256]}}. The quote's
 * extraData is the report data cut to 32 bytes (Trustee's attester today), or the report data
 * zero-padded to 64 bytes (its earlier attester, as in Trustee's own test evidence). The AK is trusted
 * only through the policy. */

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <string.h>

#include "kbs-verifier.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

int kbs_verify_tpm(const KbsVerifyContext *ctx, json_object *evidence, const uint8_t *report_data, size_t report_data_size,
                   KbsClaims *claims, const char **ret_reason) {
        _cleanup_free_ uint8_t *ak_der = NULL, *msg = NULL, *sig_raw = NULL;
        size_t ak_size, msg_size, sig_size;
        _cleanup_pkey_ EVP_PKEY *ak = NULL;
        const unsigned char *q;
        json_object *quote;
        TpmSignature sig;
        int r;

        if (kbs_evidence_bytes(evidence, "ak_public", KBS_BYTES_B64, 4096, &ak_der, &ak_size) < 0) {
                *ret_reason = "ak_public is missing or not base64";
                return -EBADMSG;
        }
        q = ak_der;
        ak = d2i_PUBKEY(NULL, &q, (long) ak_size);
        ERR_clear_error();
        if (!ak || q != ak_der + ak_size) {
                *ret_reason = "ak_public is not a DER SubjectPublicKeyInfo";
                return -EBADMSG;
        }
        /* Only the canonical encoding: the policy trusts AKs by their DER bytes, so one key must have one
         * encoding. */
        {
                unsigned char *canon = NULL;
                int n = i2d_PUBKEY(ak, &canon);
                bool same = n > 0 && (size_t) n == ak_size && memcmp(canon, ak_der, ak_size) == 0;
                OPENSSL_free(canon);
                if (!same) {
                        *ret_reason = "ak_public is not canonical DER";
                        return -EBADMSG;
                }
        }
        if (!json_object_object_get_ex(evidence, "tpm_quote", &quote) ||
            kbs_evidence_bytes(quote, "message", KBS_BYTES_B64, 1024, &msg, &msg_size) < 0 ||
            kbs_evidence_bytes(quote, "signature", KBS_BYTES_B64, 1024, &sig_raw, &sig_size) < 0) {
                *ret_reason = "tpm_quote message or signature is missing or not base64";
                return -EBADMSG;
        }
        if (tpm_signature_parse(sig_raw, sig_size, &sig) < 0) {
                *ret_reason = "tpm_quote signature is not a supported TPMT_SIGNATURE";
                return -EBADMSG;
        }
        if (kbs_evidence_pcrs(quote, KBS_BYTES_HEX, claims->pcrs) < 0) {
                *ret_reason = "tpm_quote pcrs must be 24 hex sha256 values";
                return -EBADMSG;
        }
        /* Which of the two bindings: decided by extraData's length, compared in kbs_check_quote(). */
        uint8_t nonce[64] = {};
        size_t nonce_size = MIN(report_data_size, (size_t) 32);
        TpmQuoteInfo info;
        if (report_data_size > 64) {
                *ret_reason = "report data is longer than 64 bytes";
                return -EINVAL;
        }
        if (tpm_quote_info_parse(msg, msg_size, &info) >= 0 && info.extra_size == 64)
                nonce_size = 64;
        memcpy(nonce, report_data, MIN(report_data_size, nonce_size));
        r = kbs_check_quote(ak, msg, msg_size, &sig, nonce, nonce_size, claims->pcrs, &claims->pcr_mask, ret_reason);
        if (r < 0)
                return r;

        claims->have_pcrs = true;
        claims->ak_der = TAKE_PTR(ak_der);
        claims->ak_der_size = ak_size;
        return 0;
}
