/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
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
