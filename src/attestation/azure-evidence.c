/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "azure-evidence.h"
#include "b64.h"
#include "hcl-report.h"
#include "json-util.h"
#include "macro.h"
#include "util.h"

static const char *const tee_names[_AZURE_TEE_MAX] = {
        [AZURE_TEE_SNP] = "az-snp-vtpm",
        [AZURE_TEE_TDX] = "az-tdx-vtpm",
};

const char *azure_tee_to_string(AzureTee t) {
        return t < _AZURE_TEE_MAX ? tee_names[t] : NULL;
}

/* Adds key: encoded bytes. hex is lower case (Rust's hex::encode); base64url keeps its '=' padding
 * (base64::engine::general_purpose::URL_SAFE). */
static int add_bytes(json_object *o, const char *key, const uint8_t *p, size_t n, bool hex) {
        return hex ? json_add_hex(o, key, p, n) : json_add_b64(o, key, p, n, B64_URL | B64_PAD);
}

int azure_evidence_build(AzureTee tee, const AzureEvidencePieces *p, char **ret_json) {
        _cleanup_json_ json_object *o = NULL;
        json_object *quote, *pcrs;
        int r;

        assert_return(tee < _AZURE_TEE_MAX, -EINVAL);
        assert_return(p && ret_json, -EINVAL);

        if (!p->hcl_report || !p->quote_msg || !p->quote_sig || !p->pcrs || !p->hw || p->hcl_report_size == 0 ||
            p->quote_msg_size == 0 || p->quote_sig_size == 0 || p->hw_size == 0)
                return -EINVAL;
        if (p->hcl_report_size > HCL_REPORT_MAX || p->quote_msg_size > AZURE_QUOTE_MSG_MAX ||
            p->quote_sig_size > AZURE_QUOTE_SIG_MAX ||
            p->hw_size > (tee == AZURE_TEE_SNP ? AZURE_VCEK_MAX : AZURE_TD_QUOTE_MAX))
                return -E2BIG;

        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        /* Version 2 for both (Trustee 258ea4ac, 2026-07-16; guest-components sends it): the same members
         * as 1, and the verifier also checks that the HCL user-data starts with the report data. */
        if (p->version > 2)
                return -EINVAL;
        r = json_add_int(o, "version", p->version == 0 ? 2 : (int) p->version);
        if (r < 0)
                return r;
        quote = json_object_new_object();
        r = json_add(o, "tpm_quote", quote);
        if (r < 0)
                return r;
        r = add_bytes(quote, "signature", p->quote_sig, p->quote_sig_size, /* hex= */ true);
        if (r >= 0)
                r = add_bytes(quote, "message", p->quote_msg, p->quote_msg_size, /* hex= */ true);
        if (r < 0)
                return r;
        pcrs = json_object_new_array_ext(AZURE_PCRS);
        r = json_add(quote, "pcrs", pcrs);
        if (r < 0)
                return r;
        for (size_t i = 0; i < AZURE_PCRS; i++) {
                _cleanup_free_ char *h = hexmem(p->pcrs[i], 32);

                r = json_append(pcrs, h ? json_object_new_string(h) : NULL);
                if (r < 0)
                        return r;
        }
        r = add_bytes(o, "hcl_report", p->hcl_report, p->hcl_report_size, /* hex= */ false);
        if (r >= 0)
                r = add_bytes(o, tee == AZURE_TEE_SNP ? "vcek" : "td_quote", p->hw, p->hw_size, /* hex= */ false);
        if (r < 0)
                return r;

        return json_to_string(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, ret_json);
}

/* An IMDS reply: one JSON object, bounded. */
static int parse_body(const char *body, size_t n, json_object **ret) {
        _cleanup_json_ json_object *o = NULL;
        int r;

        if (n > AZURE_IMDS_BODY_MAX)
                return -EBADMSG;
        r = json_parse_strict(body, n, /* depth= */ 8, &o);
        if (r < 0)
                return r;
        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        *ret = TAKE_PTR(o);
        return 0;
}

/* The first certificate of a PEM text, as DER. */
static int pem_first_cert(const char *pem, uint8_t **ret, size_t *ret_size) {
        static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
        _cleanup_free_ char *b64 = NULL;
        const char *s, *e;
        size_t k = 0;
        int r;

        s = strstr(pem, begin);
        if (!s)
                return -EBADMSG;
        s += strlen(begin);
        e = strstr(s, end);
        if (!e || (size_t) (e - s) > AZURE_VCEK_MAX * 2)
                return -EBADMSG;
        b64 = malloc((size_t) (e - s) + 1);
        if (!b64)
                return -ENOMEM;
        for (const char *p = s; p < e; p++)
                if (!strchr(" \t\r\n", *p))
                        b64[k++] = *p;
        b64[k] = '\0';
        r = b64_decode(b64, k, B64_PAD, ret, ret_size);
        if (r < 0)
                return -EBADMSG;
        if (*ret_size == 0 || *ret_size > AZURE_VCEK_MAX) {
                *ret = mfree(*ret);
                return -EBADMSG;
        }
        return 0;
}

int azure_imds_parse_certification(const char *body, size_t n, uint8_t **ret_der, size_t *ret_size) {
        _cleanup_json_ json_object *o = NULL;
        const char *pem;
        int r;

        assert_return(ret_der && ret_size, -EINVAL);

        r = parse_body(body, n, &o);
        if (r < 0)
                return r;
        pem = json_get_string(o, "vcekCert");
        if (!pem)
                return -EBADMSG;
        return pem_first_cert(pem, ret_der, ret_size);
}

int azure_imds_td_quote_request(const uint8_t *tdreport, size_t n, char **ret_json) {
        _cleanup_json_ json_object *o = json_object_new_object();
        int r;

        assert_return(tdreport && n > 0 && ret_json, -EINVAL);

        if (!o)
                return -ENOMEM;
        r = json_add_b64(o, "report", tdreport, n, B64_URL);
        if (r < 0)
                return r;
        return json_to_string(o, JSON_C_TO_STRING_PLAIN, ret_json);
}

int azure_imds_parse_td_quote(const char *body, size_t n, uint8_t **ret, size_t *ret_size) {
        _cleanup_json_ json_object *o = NULL;
        const char *q;
        int r;

        assert_return(ret && ret_size, -EINVAL);

        r = parse_body(body, n, &o);
        if (r < 0)
                return r;
        q = json_get_string(o, "quote");
        if (!q)
                return -EBADMSG;
        if (b64_decode(q, strlen(q), B64_URL | B64_PAD_OPTIONAL, ret, ret_size) < 0)
                return -EBADMSG;
        if (*ret_size == 0 || *ret_size > AZURE_TD_QUOTE_MAX) {
                *ret = mfree(*ret);
                return -EBADMSG;
        }
        return 0;
}
