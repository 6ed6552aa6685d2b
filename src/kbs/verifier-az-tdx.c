/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Trustee's `az-tdx-vtpm` evidence (versions 0, 1 and 2): the quote checks, TDREPORT.reportdata binds the
 * HCL runtime data, in version 2 the HCL user-data starts with the report data, and the TD quote
 * carries the same reportdata and TDINFO. With Intel roots in the policy file the TD quote's
 * signature, QE report, PCK chain and the QE's identity are verified (TCB status is not:
 * td_tcb_unevaluated, which a policy must accept with "accept_unevaluated_tdx_tcb"; the QE's ISVSVN
 * and the TEE TCB SVN go to the policy); without, the claims say td_quote_unverified and only a
 * policy with "accept_unverified_td_quote" accepts it. */

#include <errno.h>
#include <openssl/crypto.h>
#include <string.h>

#include "hash.h"
#include "kbs-verifier.h"
#include "log.h"
#include "tdx-quote.h"
#include "verifier-az.h"

#define TDREPORT_REPORTDATA_OFFSET 128
#define TDREPORT_TDINFO_OFFSET 512

int kbs_verify_az_tdx_vtpm(const KbsVerifyContext *ctx, json_object *evidence, const uint8_t *report_data,
                           size_t report_data_size, KbsClaims *claims, const char **ret_reason) {
        _cleanup_free_ uint8_t *sig = NULL, *msg = NULL, *hcl_raw = NULL, *td_quote = NULL;
        size_t sig_size, msg_size, hcl_size, td_quote_size;
        uint8_t pcrs[TPM_PCRS][32];
        const uint8_t *tdreport_rd;
        TdxQuote tdq;
        unsigned version;
        Digest var_hash;
        HclReport hcl;
        int r;

        r = kbs_az_evidence_parse(evidence, "td_quote", &version, &sig, &sig_size, &msg, &msg_size, &hcl_raw, &hcl_size,
                                  &td_quote, &td_quote_size, pcrs, ret_reason);
        if (r < 0)
                return r;
        if (hcl_report_parse(hcl_raw, hcl_size, &hcl) < 0 || hcl.report_type != HCL_REPORT_TDX) {
                *ret_reason = "HCL report is malformed or not a TDX report";
                return -EBADMSG;
        }
        r = kbs_az_check_quote_and_hcl(&hcl, sig, sig_size, msg, msg_size, pcrs, report_data, report_data_size,
                                       &claims->pcr_mask, ret_reason);
        if (r < 0)
                return r;

        tdreport_rd = hcl.hw_report + TDREPORT_REPORTDATA_OFFSET;
        if (hash_buffer(HASH_SHA256, hcl.var_data, hcl.var_data_size, &var_hash) < 0)
                return -EIO;
        if (CRYPTO_memcmp(tdreport_rd, var_hash.bytes, 32) != 0) {
                *ret_reason = "TDREPORT reportdata does not match the hash of the HCL runtime data";
                return -EBADMSG;
        }
        /* v2 (Trustee 258ea4ac): the HCL user-data starts with the report data, as for SNP. */
        if (version >= 2) {
                r = kbs_az_check_user_data(&hcl, report_data, report_data_size, ret_reason);
                if (r < 0)
                        return r;
        }
        if (tdx_quote_parse(td_quote, td_quote_size, &tdq) < 0) {
                *ret_reason = "TD quote is malformed (expected a version 4 or 5 ECDSA TDX quote)";
                return -EBADMSG;
        }
        if (CRYPTO_memcmp(tdq.report_data, tdreport_rd, 64) != 0) {
                *ret_reason = "TD quote reportdata differs from the TDREPORT's";
                return -EBADMSG;
        }
        /* The TD's identity (attributes, XFAM, MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0-3) is the
         * same 400 bytes in the TDREPORT's TDINFO and in the quote body. */
        if (CRYPTO_memcmp(hcl.hw_report + TDREPORT_TDINFO_OFFSET, tdq.td_info, TDX_TD_INFO_SIZE) != 0) {
                *ret_reason = "TD quote measurements differ from the TDREPORT's";
                return -EBADMSG;
        }

        /* TDATTRIBUTES bit 0: a debuggable TD, whose memory the host can read. */
        if (tdq.td_info[0] & TDX_TD_ATTRIBUTES_DEBUG) {
                *ret_reason = "TD attributes allow debugging (TDATTRIBUTES.DEBUG)";
                return -EBADMSG;
        }

        claims->have_pcrs = true;
        memcpy(claims->pcrs, pcrs, sizeof(pcrs));
        if (ctx && ctx->intel_roots && tdx_roots_count(ctx->intel_roots) > 0) {
                if (tdx_quote_verify(ctx->intel_roots, &tdq, ret_reason) < 0)
                        return -EBADMSG;
                claims->td_tcb_unevaluated = true;
                claims->have_td_qe = true;
                claims->td_qe_isvsvn = tdx_quote_qe_isvsvn(&tdq);
                memcpy(claims->td_tee_tcb_svn, tdq.tee_tcb_svn, TDX_TEE_TCB_SVN_SIZE);
                return 0;
        }
        log_warning("az-tdx-vtpm: the TD quote's signature is not verified (no Intel root configured).");
        claims->td_quote_unverified = true;
        return 0;
}
