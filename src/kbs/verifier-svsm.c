/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The svsm-vtpm verifier (docs/kbs.md has the evidence format):
 *   {"version":1, "snp_report": b64url(1184 bytes), "vcek": b64url(DER),
 *    "ek_public": b64url(TPM2B_PUBLIC), "ak_public": b64url(TPM2B_PUBLIC),
 *    "activated_secret": b64url(the secret ActivateCredential returned),
 *    "tpm_quote": {"message": b64(TPMS_ATTEST), "signature": b64(TPMT_SIGNATURE), "pcrs": [24 x hex]}}
 * Checks, in order: the SNP report's signature and VCEK -> ASK -> ARK chain, VMPL 0, REPORT_DATA ==
 * SHA-512(EK TPM2B_PUBLIC), the EK and AK are those of the session's credential and the secret comes
 * back (so the AK lives in the TPM that owns the EK), then the quote by the AK over report_data and
 * the PCRs. The launch measurement goes to the policy, which must list it. */

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "b64.h"
#include "hash.h"
#include "json-util.h"
#include "kbs-verifier.h"
#include "tpm-credential.h"
#include "tpm-public.h"
#include "verifier-svsm.h"

#define AK_ATTRIBUTES_REQUIRED                                                                           \
        (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_RESTRICTED | \
         TPMA_OBJECT_SIGN)

void kbs_svsm_challenge_done(KbsSvsmChallenge *c) {
        free(c->ek);
        free(c->ak);
        OPENSSL_cleanse(c, sizeof(*c));
}

int kbs_svsm_challenge_new(json_object *extra_params, KbsSvsmChallenge *ret, json_object **ret_extra,
                           const char **ret_detail) {
        _cleanup_(kbs_svsm_challenge_done) KbsSvsmChallenge c = {};
        _cleanup_free_ uint8_t *id = NULL, *es = NULL;
        _cleanup_json_ json_object *extra = NULL;
        uint8_t name[2 + 64];
        size_t name_size, id_size, es_size;
        TpmPublic ek, ak;
        int r;

        if (kbs_evidence_bytes(extra_params, "ek_public", KBS_BYTES_B64URL, KBS_SVSM_TPM2B_MAX, &c.ek, &c.ek_size) < 0 ||
            kbs_evidence_bytes(extra_params, "ak_public", KBS_BYTES_B64URL, KBS_SVSM_TPM2B_MAX, &c.ak, &c.ak_size) < 0) {
                *ret_detail = "svsm-vtpm needs extra-params {ek_public, ak_public} (base64url TPM2B_PUBLIC)";
                return -EBADMSG;
        }
        if (tpm_public_parse(c.ek, c.ek_size, &ek) < 0 || tpm_public_parse(c.ak, c.ak_size, &ak) < 0) {
                *ret_detail = "ek_public or ak_public is not a TPM2B_PUBLIC";
                return -EBADMSG;
        }
        if ((ak.attributes & AK_ATTRIBUTES_REQUIRED) != AK_ATTRIBUTES_REQUIRED || (ak.attributes & TPMA_OBJECT_DECRYPT)) {
                *ret_detail = "ak_public is not a restricted signing key fixed to its TPM";
                return -EBADMSG;
        }
        if (tpm_public_name(&ak, name, &name_size) < 0) {
                *ret_detail = "ak_public has an unsupported name algorithm";
                return -EBADMSG;
        }
        if (RAND_bytes(c.secret, sizeof(c.secret)) != 1)
                return -EIO;
        r = tpm_make_credential(&ek, name, name_size, c.secret, sizeof(c.secret), &id, &id_size, &es, &es_size);
        if (r < 0) {
                *ret_detail = "ek_public is not an RSA restricted decryption key with AES-CFB (the TCG EK template)";
                return -EBADMSG;
        }
        extra = json_object_new_object();
        if (!extra || json_add_b64(extra, "credential_blob", id, id_size, B64_URL) < 0 ||
            json_add_b64(extra, "encrypted_secret", es, es_size, B64_URL) < 0)
                return -ENOMEM;

        *ret = c;
        c = (KbsSvsmChallenge) {};
        *ret_extra = TAKE_PTR(extra);
        return 0;
}

int kbs_verify_svsm_vtpm(const KbsVerifyContext *ctx, json_object *evidence, const uint8_t *report_data,
                         size_t report_data_size, KbsClaims *claims, const char **ret_reason) {
        _cleanup_free_ uint8_t *report = NULL, *vcek = NULL, *ek = NULL, *ak = NULL, *secret = NULL, *msg = NULL,
                               *sig_raw = NULL;
        size_t report_size, vcek_size, ek_size, ak_size, secret_size, msg_size, sig_size;
        _cleanup_pkey_ EVP_PKEY *ak_key = NULL;
        uint8_t pcrs[TPM_PCRS][32];
        SnpVerifyResult res;
        json_object *v, *quote;
        TpmPublic ak_pub;
        TpmSignature sig;
        SnpReport snp;
        Digest ek_hash;
        int r;

        if (!json_object_object_get_ex(evidence, "version", &v) || !json_object_is_type(v, json_type_int) ||
            json_object_get_int64(v) != 1) {
                *ret_reason = "svsm-vtpm evidence version must be 1";
                return -EBADMSG;
        }
        if (kbs_evidence_bytes(evidence, "snp_report", KBS_BYTES_B64URL, SNP_REPORT_SIZE, &report, &report_size) < 0 ||
            kbs_evidence_bytes(evidence, "vcek", KBS_BYTES_B64URL, 8192, &vcek, &vcek_size) < 0 ||
            kbs_evidence_bytes(evidence, "ek_public", KBS_BYTES_B64URL, KBS_SVSM_TPM2B_MAX, &ek, &ek_size) < 0 ||
            kbs_evidence_bytes(evidence, "ak_public", KBS_BYTES_B64URL, KBS_SVSM_TPM2B_MAX, &ak, &ak_size) < 0 ||
            kbs_evidence_bytes(evidence, "activated_secret", KBS_BYTES_B64URL, 64, &secret, &secret_size) < 0 ||
            !json_object_object_get_ex(evidence, "tpm_quote", &quote) ||
            kbs_evidence_bytes(quote, "message", KBS_BYTES_B64, 1024, &msg, &msg_size) < 0 ||
            kbs_evidence_bytes(quote, "signature", KBS_BYTES_B64, 1024, &sig_raw, &sig_size) < 0 ||
            kbs_evidence_pcrs(quote, KBS_BYTES_HEX, pcrs) < 0) {
                *ret_reason = "svsm-vtpm evidence is missing a member or one is malformed";
                return -EBADMSG;
        }

        /* the SNP report: signature and chain, VMPL 0 */
        if (!ctx || !ctx->amd_roots || snp_roots_count(ctx->amd_roots) == 0) {
                *ret_reason = "no trusted AMD root is configured";
                return -EBADMSG;
        }
        if (snp_report_parse(report, report_size, &snp) < 0) {
                *ret_reason = "SNP report is malformed";
                return -EBADMSG;
        }
        if (snp_verify_report(ctx->amd_roots, report, report_size, vcek, vcek_size, &res) < 0) {
                *ret_reason = res.reason;
                return -EBADMSG;
        }
        if (snp.vmpl != 0) {
                *ret_reason = "SNP report is not from VMPL 0";
                return -EBADMSG;
        }
        /* A guest whose policy allows debugging can have its memory (keys, released secrets)
         * decrypted by the host with SNP_DBG_DECRYPT, whatever its launch measurement. */
        if (snp.policy & SNP_POLICY_DEBUG) {
                *ret_reason = "SNP guest policy allows debugging (policy bit 19)";
                return -EBADMSG;
        }
        /* REPORT_DATA binds the EK */
        if (hash_buffer(HASH_SHA512, ek, ek_size, &ek_hash) < 0)
                return -EIO;
        if (CRYPTO_memcmp(snp.report_data, ek_hash.bytes, 64) != 0) {
                *ret_reason = "SNP REPORT_DATA is not SHA-512 of the EK";
                return -EBADMSG;
        }
        /* the credential: same EK and AK as at auth, and the secret came back */
        if (!ctx->svsm || !ctx->svsm->ek) {
                *ret_reason = "session holds no credential (auth was not made for svsm-vtpm)";
                return -EBADMSG;
        }
        if (ek_size != ctx->svsm->ek_size || memcmp(ek, ctx->svsm->ek, ek_size) != 0 || ak_size != ctx->svsm->ak_size ||
            memcmp(ak, ctx->svsm->ak, ak_size) != 0) {
                *ret_reason = "EK or AK differs from the one the credential was made for";
                return -EBADMSG;
        }
        if (secret_size != KBS_SVSM_SECRET_SIZE || CRYPTO_memcmp(secret, ctx->svsm->secret, KBS_SVSM_SECRET_SIZE) != 0) {
                *ret_reason = "credential activation proof is wrong (the AK is not in the EK's TPM)";
                return -EBADMSG;
        }
        /* the quote by that AK */
        if (tpm_public_parse(ak, ak_size, &ak_pub) < 0 || tpm_public_to_pkey(&ak_pub, &ak_key) < 0) {
                *ret_reason = "ak_public is not a usable key";
                return -EBADMSG;
        }
        if (tpm_signature_parse(sig_raw, sig_size, &sig) < 0) {
                *ret_reason = "tpm_quote signature is not a supported TPMT_SIGNATURE";
                return -EBADMSG;
        }
        r = kbs_check_quote(ak_key, msg, msg_size, &sig, report_data, report_data_size, pcrs, &claims->pcr_mask,
                            ret_reason);
        if (r < 0)
                return r;

        claims->have_pcrs = true;
        memcpy(claims->pcrs, pcrs, sizeof(pcrs));
        kbs_claims_set_snp(claims, &snp, res.product);
        return 0;
}
