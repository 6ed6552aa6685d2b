/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <json-c/json.h>
#include <string.h>

#include "azure-evidence.h"
#include "b64.h"
#include "hcl-report.h"
#include "macro.h"
#include "util.h"

static const char *const tee_names[_AZURE_TEE_MAX] = {
        [AZURE_TEE_SNP] = "az-snp-vtpm",
        [AZURE_TEE_TDX] = "az-tdx-vtpm",
};

const char *azure_tee_to_string(AzureTee t) {
        return t < _AZURE_TEE_MAX ? tee_names[t] : NULL;
}

static void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}

/* Adds key: encoded bytes. hex is lower case (Rust's hex::encode); base64url keeps its '=' padding
 * (base64::engine::general_purpose::URL_SAFE). */
static int add_bytes(json_object *o, const char *key, const uint8_t *p, size_t n, bool hex) {
        _cleanup_free_ char *s = hex ? hexmem(p, n) : b64_encode(p, n, B64_URL | B64_PAD);
        json_object *v;

        if (!s)
                return -ENOMEM;
        v = json_object_new_string(s);
        if (!v || json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

int azure_evidence_build(AzureTee tee, const AzureEvidencePieces *p, char **ret_json) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_object *quote, *pcrs;
        const char *text;
        char *copy;
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
        quote = json_object_new_object();
        pcrs = json_object_new_array_ext(AZURE_PCRS);
        if (!o || !quote || !pcrs) {
                json_object_put(quote);
                json_object_put(pcrs);
                return -ENOMEM;
        }
        if (json_object_object_add(o, "version", json_object_new_int(tee == AZURE_TEE_SNP ? 2 : 1)) < 0 ||
            json_object_object_add(o, "tpm_quote", quote) < 0) {
                json_object_put(quote);
                json_object_put(pcrs);
                return -ENOMEM;
        }
        r = add_bytes(quote, "signature", p->quote_sig, p->quote_sig_size, /* hex= */ true);
        if (r < 0)
                return r;
        r = add_bytes(quote, "message", p->quote_msg, p->quote_msg_size, /* hex= */ true);
        if (r < 0)
                return r;
        if (json_object_object_add(quote, "pcrs", pcrs) < 0) {
                json_object_put(pcrs);
                return -ENOMEM;
        }
        for (size_t i = 0; i < AZURE_PCRS; i++) {
                _cleanup_free_ char *h = hexmem(p->pcrs[i], 32);
                json_object *v = h ? json_object_new_string(h) : NULL;

                if (!v || json_object_array_add(pcrs, v) < 0) {
                        json_object_put(v);
                        return -ENOMEM;
                }
        }
        r = add_bytes(o, "hcl_report", p->hcl_report, p->hcl_report_size, /* hex= */ false);
        if (r < 0)
                return r;
        r = add_bytes(o, tee == AZURE_TEE_SNP ? "vcek" : "td_quote", p->hw, p->hw_size, /* hex= */ false);
        if (r < 0)
                return r;

        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;
        copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        *ret_json = copy;
        return 0;
}

static int parse_body(const char *body, size_t n, json_object **ret) {
        json_tokener *tok;
        json_object *o;

        if (!body || n == 0 || n > AZURE_IMDS_BODY_MAX || memchr(body, '\0', n))
                return -EBADMSG;
        tok = json_tokener_new_ex(8);
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, body, (int) n);
        if (json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                json_tokener_free(tok);
                return -EBADMSG;
        }
        json_tokener_free(tok);
        *ret = o;
        return 0;
}

static const char *string_member(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
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
        _cleanup_(json_object_putp) json_object *o = NULL;
        const char *pem;
        int r;

        assert_return(ret_der && ret_size, -EINVAL);

        r = parse_body(body, n, &o);
        if (r < 0)
                return r;
        pem = string_member(o, "vcekCert");
        if (!pem)
                return -EBADMSG;
        return pem_first_cert(pem, ret_der, ret_size);
}

int azure_imds_td_quote_request(const uint8_t *tdreport, size_t n, char **ret_json) {
        _cleanup_free_ char *b = NULL;
        char *s;

        assert_return(tdreport && n > 0 && ret_json, -EINVAL);

        b = b64_encode(tdreport, n, B64_URL);
        if (!b || asprintf(&s, "{\"report\":\"%s\"}", b) < 0)
                return -ENOMEM;
        *ret_json = s;
        return 0;
}

int azure_imds_parse_td_quote(const char *body, size_t n, uint8_t **ret, size_t *ret_size) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        const char *q;
        int r;

        assert_return(ret && ret_size, -EINVAL);

        r = parse_body(body, n, &o);
        if (r < 0)
                return r;
        q = string_member(o, "quote");
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
