/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "azure-imds.h"
#include "evidence-az.h"
#include "hash.h"
#include "hcl-report.h"
#include "log.h"
#include "tdx-quote.h"
#include "tpm-attest.h"
#include "tpm-public.h"
#include "util.h"

#define POLL_FIRST_MS 20U
#define POLL_MAX_MS 250U
#define QUOTE_TRIES 3U     /* a PCR extended between quote and read: quote again, at most this often */
#define IMDS_TIMEOUT_MS 10000U

static void free_bytesp(uint8_t **p) {
        free(*p);
}

static void sleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Reads and parses the HCL report. The bytes are returned (the HclReport points into them). */
static int read_report(Tpm2Context *tpm, uint8_t **ret_bytes, size_t *ret_size, HclReport *ret) {
        _cleanup_(free_bytesp) uint8_t *b = NULL;
        size_t n;
        int r;

        r = tpm2_nv_read(tpm, AZURE_NV_HCL_REPORT, TPM2_NV_AUTH_OWNER, HCL_REPORT_MAX, &b, &n);
        if (r < 0)
                return r;
        r = hcl_report_parse(b, n, ret);
        if (r < 0)
                return r;
        *ret_bytes = TAKE_PTR(b);
        *ret_size = n;
        return 0;
}

static const char *hcl_error_to_string(int r) {
        switch (r) {
        case -ENODATA:
                return "truncated";
        case -EFBIG:
                return "oversized";
        case -EOPNOTSUPP:
                return "of an unsupported type";
        default:
                return "inconsistent";
        }
}

int evidence_az_detect(Tpm2Context *tpm, AzureTee *ret) {
        _cleanup_(free_bytesp) uint8_t *b = NULL;
        HclReport h;
        size_t n;
        int r;

        assert_return(tpm && ret, -EINVAL);

        r = read_report(tpm, &b, &n, &h);
        if (r == -ENOENT)
                return log_error_errno(r, "Failed to read the HCL report at NV 0x%08x: no such index (not an Azure confidential VM?).",
                                       AZURE_NV_HCL_REPORT);
        if (r < 0)
                return log_error_errno(r, "Failed to read the HCL report at NV 0x%08x: %m", AZURE_NV_HCL_REPORT);
        *ret = h.report_type == HCL_REPORT_SNP ? AZURE_TEE_SNP : AZURE_TEE_TDX;
        return 0;
}

/* What the last read of the report showed, for the message when the deadline passes. */
typedef enum ReportState {
        REPORT_UNCHANGED,       /* as before the write: the paravisor did not regenerate it */
        REPORT_OTHER_USER_DATA, /* regenerated, with user-data that is not ours */
        REPORT_MALFORMED,       /* does not parse (hcl_error) */
        REPORT_RUNTIME_DATA,    /* its runtime-data JSON does not parse */
        REPORT_UNBOUND,         /* ours, but the hardware report does not bind its runtime data */
} ReportState;

/* Writes the user data and waits, with a deadline, for a report that carries it and is whole. A
 * report that does not parse or does not bind is not refused at once: a read in chunks may straddle
 * the paravisor's rewrite. On success the report's bytes and parse. */
static int fresh_report(const EvidenceRequest *req, const uint8_t user_data[AZURE_USER_DATA_SIZE],
                        uint8_t **ret_bytes, size_t *ret_size, HclReport *ret) {
        _cleanup_(free_bytesp) uint8_t *before = NULL;
        size_t before_size = 0;
        unsigned interval = POLL_FIRST_MS, polls = 0, timeout = req->config->azure_report_timeout;
        ReportState state = REPORT_UNCHANGED;
        int hcl_error = 0;
        uint64_t deadline;
        HclReport h;
        int r;

        /* The report as it was: only to say, on timeout, whether the paravisor regenerated it at all. */
        r = read_report(req->tpm, &before, &before_size, &h);
        if (r == -ENOENT)
                return log_error_errno(r, "Failed to read the HCL report at NV 0x%08x: no such index (not an Azure confidential VM?).",
                                       AZURE_NV_HCL_REPORT);
        if (r < 0 && r != -ENODATA && r != -EFBIG && r != -EBADMSG && r != -EOPNOTSUPP)
                return log_error_errno(r, "Failed to read the HCL report at NV 0x%08x: %m", AZURE_NV_HCL_REPORT);

        r = tpm2_nv_write(req->tpm, AZURE_NV_USER_DATA, user_data, AZURE_USER_DATA_SIZE);
        if (r < 0)
                return log_error_errno(r, "Failed to write the report data to NV 0x%08x: %m", AZURE_NV_USER_DATA);

        deadline = now_usec(CLOCK_MONOTONIC) + (uint64_t) timeout * 1000000ULL;
        for (;;) {
                _cleanup_(free_bytesp) uint8_t *b = NULL;
                size_t n = 0;
                uint64_t now;

                polls++;
                r = tpm2_nv_read(req->tpm, AZURE_NV_HCL_REPORT, TPM2_NV_AUTH_OWNER, HCL_REPORT_MAX, &b, &n);
                if (r < 0)
                        return log_error_errno(r, "Failed to read the HCL report at NV 0x%08x: %m", AZURE_NV_HCL_REPORT);
                r = hcl_report_parse(b, n, &h);
                if (r < 0) {
                        state = REPORT_MALFORMED;
                        hcl_error = r;
                } else {
                        HclRuntimeData rd;

                        if (state == REPORT_UNCHANGED && (!before || n != before_size || memcmp(b, before, n) != 0))
                                state = REPORT_OTHER_USER_DATA;
                        if (hcl_runtime_data_parse(h.var_data, h.var_data_size, &rd) < 0)
                                state = REPORT_RUNTIME_DATA;
                        else {
                                bool match = rd.has_user_data && rd.user_data_size == AZURE_USER_DATA_SIZE &&
                                        CRYPTO_memcmp(rd.user_data, user_data, AZURE_USER_DATA_SIZE) == 0;

                                hcl_runtime_data_done(&rd);
                                if (match && hcl_report_check_binding(&h) >= 0) {
                                        log_debug("HCL report with our user data after %u read(s).", polls);
                                        *ret_bytes = TAKE_PTR(b);
                                        *ret_size = n;
                                        *ret = h;
                                        return 0;
                                }
                                if (match)
                                        state = REPORT_UNBOUND;
                                else if (state != REPORT_UNCHANGED)
                                        state = REPORT_OTHER_USER_DATA;
                        }
                }

                now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline)
                        break;
                sleep_ms((unsigned) MIN((uint64_t) interval, (deadline - now + 999) / 1000));
                interval = MIN(interval * 2, POLL_MAX_MS);
        }

        switch (state) {
        case REPORT_UNCHANGED:
                return log_error_errno(SYNTHETIC_ERRNO(ETIMEDOUT),
                                       "Failed to get an HCL report for our report data: the report at NV 0x%08x was not regenerated within %u s after writing 0x%08x, giving up.",
                                       AZURE_NV_HCL_REPORT, timeout, AZURE_NV_USER_DATA);
        case REPORT_OTHER_USER_DATA:
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                       "Failed to get an HCL report for our report data: the report at NV 0x%08x was regenerated, but its user-data is not what was written to 0x%08x, refusing.",
                                       AZURE_NV_HCL_REPORT, AZURE_NV_USER_DATA);
        case REPORT_MALFORMED:
                return log_error_errno(hcl_error, "Failed to parse the HCL report at NV 0x%08x: it is %s, refusing.",
                                       AZURE_NV_HCL_REPORT, hcl_error_to_string(hcl_error));
        case REPORT_RUNTIME_DATA:
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                       "Failed to parse the runtime data of the HCL report at NV 0x%08x, refusing.",
                                       AZURE_NV_HCL_REPORT);
        case REPORT_UNBOUND:
        default:
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                       "Failed to verify the HCL report at NV 0x%08x: its hardware report does not bind its runtime data, refusing.",
                                       AZURE_NV_HCL_REPORT);
        }
}

/* The HCL report names the AK that will sign the quote; it must be the key at 0x81000003. */
static int check_ak(const Tpm2Key *ak, const HclReport *h) {
        HclRuntimeData rd;
        TpmPublic pub;
        int r;

        r = tpm_public_parse(ak->public, ak->public_size, &pub);
        if (r >= 0 && pub.type != TPM_ALG_RSA)
                r = -EOPNOTSUPP;
        if (r < 0)
                return log_error_errno(r, "Failed to read the attestation key at 0x%08x: %m", AZURE_AK_HANDLE);
        r = hcl_runtime_data_parse(h->var_data, h->var_data_size, &rd);
        if (r < 0)
                return log_error_errno(r, "Failed to parse the runtime data of the HCL report, refusing.");
        /* the TPM's exponent (0 means 65537) against the JWK's big-endian bytes, leading zeros aside */
        uint64_t e = 0;
        for (size_t i = 0; i < rd.ak.e_size; i++)
                e = e << 8 | rd.ak.e[i];
        bool same = rd.ak.n_size == pub.n_size && memcmp(rd.ak.n, pub.n, pub.n_size) == 0 &&
                e == (pub.rsa_exponent == 0 ? 65537U : pub.rsa_exponent);
        hcl_runtime_data_done(&rd);
        if (!same)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                       "Failed to match the HCL report's HCLAkPub with the attestation key at 0x%08x, refusing.",
                                       AZURE_AK_HANDLE);
        return 0;
}

/* Quote, then read the PCRs; the quote's PCR digest must be the hash of what was read (a PCR extended
 * in between: again, a few times at most). */
static int quote_and_pcrs(Tpm2Context *tpm, const Tpm2Key *ak, const uint8_t *report_data, uint8_t **ret_msg,
                          size_t *ret_msg_size, uint8_t **ret_sig, size_t *ret_sig_size, uint8_t pcrs[AZURE_PCRS][32]) {
        for (unsigned attempt = 1;; attempt++) {
                _cleanup_(free_bytesp) uint8_t *msg = NULL, *sig = NULL;
                size_t msg_size, sig_size;
                Digest values[TPM2_PCRS];
                TpmQuoteInfo qi;
                Digest d;
                int r;

                r = tpm2_quote(tpm, ak, TPM2_PCRS_ALL, report_data, RCAR_REPORT_DATA_SIZE, TPM2_SIG_RSASSA_SHA256,
                               &msg, &msg_size, &sig, &sig_size);
                if (r < 0)
                        return log_error_errno(r, "Failed to quote PCRs 0-23 with the attestation key at 0x%08x: %m",
                                               AZURE_AK_HANDLE);
                r = tpm2_pcr_read(tpm, HASH_SHA256, TPM2_PCRS_ALL, values);
                if (r < 0)
                        return log_error_errno(r, "Failed to read the sha256 PCRs 0-23: %m");
                for (unsigned i = 0; i < AZURE_PCRS; i++)
                        memcpy(pcrs[i], values[i].bytes, 32);
                r = tpm_quote_info_parse(msg, msg_size, &qi);
                if (r < 0)
                        return log_error_errno(r, "Failed to parse the TPM's quote, refusing.");
                r = hash_buffer(HASH_SHA256, pcrs, AZURE_PCRS * 32, &d);
                if (r < 0)
                        return log_error_errno(r, "Failed to hash the PCR values: %m");
                if (qi.extra_size != RCAR_REPORT_DATA_SIZE ||
                    memcmp(qi.extra, report_data, RCAR_REPORT_DATA_SIZE) != 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                               "Failed to verify the TPM's quote: it does not carry the report data, refusing.");
                if (qi.pcr_digest_size == 32 && memcmp(qi.pcr_digest, d.bytes, 32) == 0) {
                        *ret_msg = TAKE_PTR(msg);
                        *ret_msg_size = msg_size;
                        *ret_sig = TAKE_PTR(sig);
                        *ret_sig_size = sig_size;
                        return 0;
                }
                if (attempt >= QUOTE_TRIES)
                        return log_error_errno(SYNTHETIC_ERRNO(EAGAIN),
                                               "Failed to quote PCRs 0-23: they kept changing between quote and read (%u attempts).",
                                               attempt);
                log_debug("PCRs changed between quote and read, quoting again.");
        }
}

int evidence_az_collect_with(const EvidenceRequest *req, AzureTee tee, const AzureFetcher *fetcher, char **ret_json) {
        _cleanup_(free_bytesp) uint8_t *hcl = NULL, *msg = NULL, *sig = NULL, *hw = NULL;
        uint8_t user_data[AZURE_USER_DATA_SIZE] = {}, pcrs[AZURE_PCRS][32];
        size_t hcl_size = 0, msg_size = 0, sig_size = 0, hw_size = 0;
        const char *name = azure_tee_to_string(tee);
        HclReport h = {};
        Tpm2Key ak = {};
        int r;

        assert_return(req && req->tpm && req->config && req->report_data && fetcher && ret_json, -EINVAL);
        assert_return(tee < _AZURE_TEE_MAX, -EINVAL);

        /* 1. the report data, zero-padded to the index's 64 bytes, into a fresh HCL report */
        memcpy(user_data, req->report_data, RCAR_REPORT_DATA_SIZE);
        r = fresh_report(req, user_data, &hcl, &hcl_size, &h);
        if (r < 0)
                return r;
        if (h.report_type != (tee == AZURE_TEE_SNP ? HCL_REPORT_SNP : HCL_REPORT_TDX))
                return log_error_errno(SYNTHETIC_ERRNO(EMEDIUMTYPE),
                                       "Failed to collect %s evidence: the HCL report is of the other type (%s), refusing.",
                                       name, h.report_type == HCL_REPORT_SNP ? "SNP" : "TDX");

        /* 2. the AK the report names, its quote and the PCRs */
        r = tpm2_read_persistent_key(req->tpm, AZURE_AK_HANDLE, &ak);
        if (r < 0)
                return log_error_errno(r, "Failed to read the attestation key at 0x%08x: %m", AZURE_AK_HANDLE);
        r = check_ak(&ak, &h);
        if (r >= 0)
                r = quote_and_pcrs(req->tpm, &ak, req->report_data, &msg, &msg_size, &sig, &sig_size, pcrs);
        tpm2_key_done(req->tpm, &ak);
        if (r < 0)
                return r;

        /* 3. the VCEK or the TD quote */
        if (tee == AZURE_TEE_SNP) {
                r = fetcher->vcek(fetcher->userdata, req->config, &hw, &hw_size);
                if (r < 0)
                        return log_error_errno(r, "Failed to fetch the VCEK from '%s': %m", req->config->azure_imds_url);
        } else {
                TdxQuote q;

                r = fetcher->td_quote(fetcher->userdata, req->config, h.hw_report, HCL_TDREPORT_SIZE, &hw, &hw_size);
                if (r < 0)
                        return log_error_errno(r, "Failed to fetch the TD quote from '%s': %m", req->config->azure_imds_url);
                if (tdx_quote_parse(hw, hw_size, &q) < 0 || memcmp(q.report_data, h.report_data, 64) != 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                               "Failed to verify the TD quote from '%s': it is malformed or not for our TDREPORT, refusing.",
                                               req->config->azure_imds_url);
        }

        /* 4. the evidence */
        AzureEvidencePieces p = {
                .hcl_report = hcl, .hcl_report_size = hcl_size,
                .quote_msg = msg, .quote_msg_size = msg_size,
                .quote_sig = sig, .quote_sig_size = sig_size,
                .pcrs = (const uint8_t (*)[32]) pcrs,
                .hw = hw, .hw_size = hw_size,
        };
        r = azure_evidence_build(tee, &p, ret_json);
        if (r < 0)
                return log_error_errno(r, "Failed to assemble the %s evidence: %m", name);
        log_debug("%s evidence: HCL report %zu bytes, quote %zu bytes, %s %zu bytes.", name, hcl_size, msg_size,
                  tee == AZURE_TEE_SNP ? "VCEK" : "TD quote", hw_size);
        return 0;
}

/* IMDS */

static int imds_vcek(void *userdata, const Config *config, uint8_t **ret_der, size_t *ret_size) {
        _cleanup_free_ char *body = NULL;
        size_t n;
        int r;

        r = azure_imds_request(config->azure_imds_url, "/metadata/THIM/amd/certification", /* body= */ NULL,
                               IMDS_TIMEOUT_MS, &body, &n);
        if (r < 0)
                return r;
        return azure_imds_parse_certification(body, n, ret_der, ret_size);
}

static int imds_td_quote(void *userdata, const Config *config, const uint8_t *tdreport, size_t size, uint8_t **ret,
                         size_t *ret_size) {
        _cleanup_free_ char *req = NULL, *body = NULL;
        size_t n;
        int r;

        r = azure_imds_td_quote_request(tdreport, size, &req);
        if (r < 0)
                return r;
        r = azure_imds_request(config->azure_imds_url, "/acc/tdquote", req, IMDS_TIMEOUT_MS, &body, &n);
        if (r < 0)
                return r;
        return azure_imds_parse_td_quote(body, n, ret, ret_size);
}

const AzureFetcher azure_fetcher_imds = {
        .vcek = imds_vcek,
        .td_quote = imds_td_quote,
};

static int collect_snp(const EvidenceRequest *req, char **ret_json) {
        return evidence_az_collect_with(req, AZURE_TEE_SNP, &azure_fetcher_imds, ret_json);
}

static int collect_tdx(const EvidenceRequest *req, char **ret_json) {
        return evidence_az_collect_with(req, AZURE_TEE_TDX, &azure_fetcher_imds, ret_json);
}

const EvidenceProvider evidence_provider_az_snp = {
        .tee = "az-snp-vtpm",
        .collect = collect_snp,
};

const EvidenceProvider evidence_provider_az_tdx = {
        .tee = "az-tdx-vtpm",
        .collect = collect_tdx,
};
