/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Trustee's `az-snp-vtpm` evidence, versions 0, 1 and 2 (deps/verifier/src/az_snp_vtpm): the checks
 * in Trustee's order, then VMPL 0. Version 2 also binds report_data into the HCL's user-data. */

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "hash.h"
#include "hcl-report.h"
#include "kbs-verifier.h"
#include "verifier-az.h"
#include "log.h"

#define AZ_SIG_MAX 512
#define AZ_MSG_MAX 1024
#define AZ_VCEK_MAX 8192

/* Extracts the common pieces from any version. */
typedef struct AzEvidence {
        unsigned version;
        uint8_t *sig, *msg, *hcl, *vcek;
        size_t sig_size, msg_size, hcl_size, vcek_size;
        uint8_t pcrs[TPM_PCRS][32];
} AzEvidence;

static void az_evidence_done(AzEvidence *e) {
        free(e->sig);
        free(e->msg);
        free(e->hcl);
        free(e->vcek);
}

int kbs_az_evidence_parse(json_object *evidence, const char *hw_key, unsigned *ret_version, uint8_t **ret_sig,
                          size_t *ret_sig_size, uint8_t **ret_msg, size_t *ret_msg_size, uint8_t **ret_hcl,
                          size_t *ret_hcl_size, uint8_t **ret_hw, size_t *ret_hw_size, uint8_t pcrs[TPM_PCRS][32],
                          const char **ret_reason) {
        json_object *v, *quote;
        bool vcek = streq(hw_key, "vcek");
        int64_t version = 0;

        if (json_object_object_get_ex(evidence, "version", &v)) {
                if (!json_object_is_type(v, json_type_int)) {
                        *ret_reason = "evidence version is not an integer";
                        return -EBADMSG;
                }
                version = json_object_get_int64(v);
                if (version < 1 || version > 2) {
                        *ret_reason = "evidence version is not supported";
                        return -EBADMSG;
                }
        }

        if (version == 0) {
                /* v0: {"quote":{signature,message,pcrs as byte arrays},"report":[bytes],"vcek":PEM}
                 * (TDX v0: {"tpm_quote":{...},"hcl_report":[bytes],"td_quote":[bytes]}) */
                if (!json_object_object_get_ex(evidence, vcek ? "quote" : "tpm_quote", &quote) ||
                    kbs_evidence_bytes(quote, "signature", KBS_BYTES_ARRAY, AZ_SIG_MAX, ret_sig, ret_sig_size) < 0 ||
                    kbs_evidence_bytes(quote, "message", KBS_BYTES_ARRAY, AZ_MSG_MAX, ret_msg, ret_msg_size) < 0 ||
                    kbs_evidence_pcrs(quote, KBS_BYTES_ARRAY, pcrs) < 0) {
                        *ret_reason = "evidence quote is missing or malformed";
                        return -EBADMSG;
                }
                if (kbs_evidence_bytes(evidence, vcek ? "report" : "hcl_report", KBS_BYTES_ARRAY, HCL_REPORT_MAX, ret_hcl,
                                       ret_hcl_size) < 0) {
                        *ret_reason = "evidence HCL report is missing or malformed";
                        return -EBADMSG;
                }
                if (vcek) {
                        const char *pem;
                        if (!json_object_object_get_ex(evidence, "vcek", &v) || !json_object_is_type(v, json_type_string) ||
                            json_object_get_string_len(v) > AZ_VCEK_MAX) {
                                *ret_reason = "evidence VCEK is missing or malformed";
                                return -EBADMSG;
                        }
                        pem = json_object_get_string(v);
                        *ret_hw = (uint8_t *) strdup(pem);
                        if (!*ret_hw)
                                return -ENOMEM;
                        *ret_hw_size = strlen(pem);
                } else if (kbs_evidence_bytes(evidence, hw_key, KBS_BYTES_ARRAY, 64 * 1024, ret_hw, ret_hw_size) < 0) {
                        *ret_reason = "evidence TD quote is missing or malformed";
                        return -EBADMSG;
                }
        } else {
                if (!json_object_object_get_ex(evidence, "tpm_quote", &quote) ||
                    kbs_evidence_bytes(quote, "signature", KBS_BYTES_HEX, AZ_SIG_MAX, ret_sig, ret_sig_size) < 0 ||
                    kbs_evidence_bytes(quote, "message", KBS_BYTES_HEX, AZ_MSG_MAX, ret_msg, ret_msg_size) < 0 ||
                    kbs_evidence_pcrs(quote, KBS_BYTES_HEX, pcrs) < 0) {
                        *ret_reason = "evidence tpm_quote is missing or malformed";
                        return -EBADMSG;
                }
                if (kbs_evidence_bytes(evidence, "hcl_report", KBS_BYTES_B64URL, HCL_REPORT_MAX, ret_hcl, ret_hcl_size) < 0) {
                        *ret_reason = "evidence hcl_report is missing or not base64url";
                        return -EBADMSG;
                }
                if (kbs_evidence_bytes(evidence, hw_key, KBS_BYTES_B64URL, vcek ? AZ_VCEK_MAX : 64 * 1024, ret_hw,
                                       ret_hw_size) < 0) {
                        *ret_reason = vcek ? "evidence vcek is missing or not base64url" : "evidence td_quote is missing or not base64url";
                        return -EBADMSG;
                }
        }
        *ret_version = (unsigned) version;
        return 0;
}

/* Evidence version 2 (Trustee deps/verifier/src/az_snp_vtpm/mod.rs verify_user_data, 78962cd4, used by
 * both Azure verifiers): the HCL runtime data's user-data starts with the report data. */
int kbs_az_check_user_data(const HclReport *hcl, const uint8_t *report_data, size_t report_data_size,
                           const char **ret_reason) {
        _cleanup_free_ uint8_t *ud = NULL;
        size_t ud_size;

        if (hcl_var_data_user_data(hcl->var_data, hcl->var_data_size, &ud, &ud_size) < 0 || ud_size < report_data_size ||
            CRYPTO_memcmp(ud, report_data, report_data_size) != 0) {
                *ret_reason = "HCL user-data does not start with the report data";
                return -EBADMSG;
        }
        return 0;
}

int kbs_az_check_quote_and_hcl(const HclReport *hcl, const uint8_t *sig, size_t sig_size, const uint8_t *msg,
                               size_t msg_size, const uint8_t pcrs[TPM_PCRS][32],
                               const uint8_t *report_data, size_t report_data_size, uint32_t *ret_mask,
                               const char **ret_reason) {
        _cleanup_free_ uint8_t *n = NULL, *e = NULL;
        _cleanup_pkey_ EVP_PKEY *ak = NULL;
        TpmSignature ts = { .alg = TPM_ALG_RSASSA, .hash = TPM_ALG_SHA256 };
        size_t ns, es;

        if (hcl_var_data_rsa_key(hcl->var_data, hcl->var_data_size, "HCLAkPub", &n, &ns, &e, &es) < 0 ||
            jwk_rsa_from_ne(n, ns, e, es, &ak) < 0) {
                *ret_reason = "HCL runtime data has no usable HCLAkPub";
                return -EBADMSG;
        }
        if (sig_size == 0 || sig_size > sizeof(ts.sig)) {
                *ret_reason = "TPM quote signature has an invalid size";
                return -EBADMSG;
        }
        memcpy(ts.sig, sig, sig_size);
        ts.sig_size = (uint16_t) sig_size;
        return kbs_check_quote(ak, msg, msg_size, &ts, report_data, report_data_size, pcrs, ret_mask, ret_reason);
}

int kbs_verify_az_snp_vtpm(const KbsVerifyContext *ctx, json_object *evidence,
                           const uint8_t *report_data, size_t report_data_size, KbsClaims *claims, const char **ret_reason) {
        _cleanup_(az_evidence_done) AzEvidence e = {};
        SnpVerifyResult res;
        SnpReport snp;
        HclReport hcl;
        Digest var_hash;
        int r;

        r = kbs_az_evidence_parse(evidence, "vcek", &e.version, &e.sig, &e.sig_size, &e.msg, &e.msg_size, &e.hcl,
                                  &e.hcl_size, &e.vcek, &e.vcek_size, e.pcrs, ret_reason);
        if (r < 0)
                return r;
        if (hcl_report_parse(e.hcl, e.hcl_size, &hcl) < 0 || hcl.report_type != HCL_REPORT_SNP) {
                *ret_reason = "HCL report is malformed or not an SNP report";
                return -EBADMSG;
        }
        /* 1-3: the quote */
        r = kbs_az_check_quote_and_hcl(&hcl, e.sig, e.sig_size, e.msg, e.msg_size, e.pcrs, report_data, report_data_size,
                                       &claims->pcr_mask, ret_reason);
        if (r < 0)
                return r;
        /* 4: the SNP report binds the HCL runtime data */
        if (snp_report_parse(hcl.hw_report, SNP_REPORT_SIZE, &snp) < 0) {
                *ret_reason = "SNP report in the HCL report is malformed";
                return -EBADMSG;
        }
        if (hash_buffer(HASH_SHA256, hcl.var_data, hcl.var_data_size, &var_hash) < 0)
                return -EIO;
        if (CRYPTO_memcmp(snp.report_data, var_hash.bytes, 32) != 0) {
                *ret_reason = "SNP report_data does not match the hash of the HCL runtime data";
                return -EBADMSG;
        }
        /* v2: the runtime data's user-data starts with report_data */
        if (e.version >= 2) {
                r = kbs_az_check_user_data(&hcl, report_data, report_data_size, ret_reason);
                if (r < 0)
                        return r;
        }
        /* 5: VCEK -> ASK -> ARK and the report's signature */
        if (!ctx || !ctx->amd_roots || snp_roots_count(ctx->amd_roots) == 0) {
                *ret_reason = "no trusted AMD root is configured";
                return -EBADMSG;
        }
        /* the VCEK as az-snp-vtpm 0.8.1 requires it (dates, TCB and hwID extensions); the DER form of
         * v1/v2 and the PEM text of v0 both parse */
        if (snp_vcek_check_azure(e.vcek, e.vcek_size, ctx->now ? ctx->now : time(NULL), ret_reason) < 0)
                return -EBADMSG;
        if (snp_verify_report(ctx->amd_roots, hcl.hw_report, SNP_REPORT_SIZE, e.vcek, e.vcek_size, &res) < 0) {
                *ret_reason = res.reason;
                return -EBADMSG;
        }
        /* 6: VMPL 0 */
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

        claims->have_pcrs = true;
        memcpy(claims->pcrs, e.pcrs, sizeof(e.pcrs));
        kbs_claims_set_snp(claims, &snp, res.product);
        return 0;
}
