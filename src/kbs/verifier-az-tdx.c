/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Trustee's `az-tdx-vtpm` evidence (version 0 and 1): the quote checks, TDREPORT.reportdata binds the
 * HCL runtime data, and the TD quote carries the same reportdata. The TD quote's own signature needs
 * Intel collateral (PCK chain, TCB info, QE identity), which this server does not fetch or verify: the
 * claims say so (td_quote_unverified) and only a policy with "accept_unverified_td_quote" accepts it. */

#include <errno.h>
#include <openssl/crypto.h>
#include <string.h>

#include "hash.h"
#include "kbs-verifier.h"
#include "log.h"
#include "verifier-az.h"

#define TDREPORT_REPORTDATA_OFFSET 128
#define TD_QUOTE_HEADER_SIZE 48
#define TD_QUOTE_REPORTDATA_IN_BODY 520
#define TD_QUOTE_TEE_TDX 0x81
#define TDREPORT_TDINFO_OFFSET 512
#define TD_QUOTE_TDINFO_IN_BODY 120
#define TDINFO_COMPARED_SIZE 400

static uint16_t le16(const uint8_t *p) {
        return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

/* The reportdata of a TD quote v4 (body right after the header) or v5 (body descriptor: u16 type,
 * u32 size, then the body). */
static const uint8_t *td_quote_report_data(const uint8_t *q, size_t n) {
        size_t body;

        if (n < TD_QUOTE_HEADER_SIZE + 6 || le32(q + 4) != TD_QUOTE_TEE_TDX)
                return NULL;
        switch (le16(q)) {
        case 4:
                body = TD_QUOTE_HEADER_SIZE;
                break;
        case 5:
                if (le16(q + TD_QUOTE_HEADER_SIZE) != 2 && le16(q + TD_QUOTE_HEADER_SIZE) != 3)
                        return NULL;
                body = TD_QUOTE_HEADER_SIZE + 6;
                break;
        default:
                return NULL;
        }
        if (n < body + TD_QUOTE_REPORTDATA_IN_BODY + 64)
                return NULL;
        return q + body + TD_QUOTE_REPORTDATA_IN_BODY;
}

int kbs_verify_az_tdx_vtpm(const KbsVerifyContext *ctx, json_object *evidence, const uint8_t *report_data,
                           size_t report_data_size, KbsClaims *claims, const char **ret_reason) {
        _cleanup_free_ uint8_t *sig = NULL, *msg = NULL, *hcl_raw = NULL, *td_quote = NULL;
        size_t sig_size, msg_size, hcl_size, td_quote_size;
        uint8_t pcrs[TPM_PCRS][32];
        const uint8_t *tdreport_rd, *quote_rd;
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
                                       ret_reason);
        if (r < 0)
                return r;

        tdreport_rd = hcl.hw_report + TDREPORT_REPORTDATA_OFFSET;
        if (hash_buffer(HASH_SHA256, hcl.var_data, hcl.var_data_size, &var_hash) < 0)
                return -EIO;
        if (CRYPTO_memcmp(tdreport_rd, var_hash.bytes, 32) != 0) {
                *ret_reason = "TDREPORT reportdata does not match the hash of the HCL runtime data";
                return -EBADMSG;
        }
        quote_rd = td_quote_report_data(td_quote, td_quote_size);
        if (!quote_rd) {
                *ret_reason = "TD quote is malformed (expected a version 4 or 5 TDX quote)";
                return -EBADMSG;
        }
        if (CRYPTO_memcmp(quote_rd, tdreport_rd, 64) != 0) {
                *ret_reason = "TD quote reportdata differs from the TDREPORT's";
                return -EBADMSG;
        }
        /* The TD's identity (attributes, XFAM, MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0-3) is the
         * same 400 bytes in the TDREPORT's TDINFO and in the quote body. */
        if (CRYPTO_memcmp(hcl.hw_report + TDREPORT_TDINFO_OFFSET, quote_rd - TD_QUOTE_REPORTDATA_IN_BODY + TD_QUOTE_TDINFO_IN_BODY,
                          TDINFO_COMPARED_SIZE) != 0) {
                *ret_reason = "TD quote measurements differ from the TDREPORT's";
                return -EBADMSG;
        }

        log_warning("az-tdx-vtpm: the TD quote's signature is not verified (no Intel collateral configured).");
        claims->td_quote_unverified = true;
        claims->have_pcrs = true;
        memcpy(claims->pcrs, pcrs, sizeof(pcrs));
        return 0;
}
