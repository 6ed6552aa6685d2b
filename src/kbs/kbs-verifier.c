/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <string.h>

#include "b64.h"
#include "json-util.h"
#include "kbs-verifier.h"
#include "util.h"

static const char *const tee_names[_KBS_TEE_MAX] = {
        [KBS_TEE_TPM] = "tpm",
        [KBS_TEE_AZ_SNP_VTPM] = "az-snp-vtpm",
        [KBS_TEE_AZ_TDX_VTPM] = "az-tdx-vtpm",
        [KBS_TEE_SVSM_VTPM] = "svsm-vtpm",
        [KBS_TEE_SNP] = "snp",
        [KBS_TEE_TDX] = "tdx",
        [KBS_TEE_SGX] = "sgx",
        [KBS_TEE_SE] = "se",
        [KBS_TEE_CCA] = "cca",
        [KBS_TEE_CSV] = "csv",
        [KBS_TEE_SAMPLE] = "sample",
};

const char *kbs_tee_to_string(KbsTee t) {
        return t < _KBS_TEE_MAX ? tee_names[t] : NULL;
}

int kbs_tee_from_string(const char *s) {
        for (int i = 0; i < _KBS_TEE_MAX; i++)
                if (streq_ptr(s, tee_names[i]))
                        return i;
        return -EINVAL;
}

void kbs_claims_done(KbsClaims *c) {
        free(c->ak_der);
        *c = (KbsClaims) {};
}

int kbs_evidence_bytes(json_object *o, const char *key, KbsBytesEncoding enc, size_t max, uint8_t **ret,
                       size_t *ret_size) {
        json_object *v;
        const char *s;
        size_t n;

        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
                return -ENOENT;

        if (enc == KBS_BYTES_ARRAY) {
                uint8_t *b;

                if (!json_object_is_type(v, json_type_array) || (n = json_object_array_length(v)) > max)
                        return -EBADMSG;
                b = malloc(n + 1);
                if (!b)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        json_object *e = json_object_array_get_idx(v, i);
                        int64_t x = json_object_get_int64(e);
                        if (!json_object_is_type(e, json_type_int) || x < 0 || x > 255) {
                                free(b);
                                return -EBADMSG;
                        }
                        b[i] = (uint8_t) x;
                }
                *ret = b;
                *ret_size = n;
                return 0;
        }

        if (!json_object_is_type(v, json_type_string))
                return -EBADMSG;
        s = json_object_get_string(v);
        n = (size_t) json_object_get_string_len(v);
        switch (enc) {
        case KBS_BYTES_HEX: {
                void *b;
                if (n > 2 * max || unhexmem(s, &b, ret_size) < 0)
                        return -EBADMSG;
                *ret = b;
                return 0;
        }
        case KBS_BYTES_B64:
                if (n > (max + 2) / 3 * 4)
                        return -EBADMSG;
                return b64_decode(s, n, B64_PAD, ret, ret_size) < 0 ? -EBADMSG : 0;
        case KBS_BYTES_B64URL:
                if (n > (max + 2) / 3 * 4)
                        return -EBADMSG;
                return b64_decode(s, n, B64_URL | B64_PAD_OPTIONAL, ret, ret_size) < 0 ? -EBADMSG : 0;
        default:
                return -EINVAL;
        }
}

int kbs_evidence_pcrs(json_object *quote, KbsBytesEncoding enc, uint8_t ret[TPM_PCRS][32]) {
        json_object *v;

        if (!json_object_object_get_ex(quote, "pcrs", &v) || !json_object_is_type(v, json_type_array) ||
            json_object_array_length(v) != TPM_PCRS)
                return -EBADMSG;
        for (size_t i = 0; i < TPM_PCRS; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                _cleanup_json_ json_object *wrap = json_object_new_object();
                _cleanup_free_ uint8_t *b = NULL;
                size_t n;

                if (!e)
                        return -EBADMSG;
                if (!wrap || json_add(wrap, "v", json_object_get(e)) < 0)
                        return -ENOMEM;
                if (kbs_evidence_bytes(wrap, "v", enc, 32, &b, &n) < 0 || n != 32)
                        return -EBADMSG;
                memcpy(ret[i], b, 32);
        }
        return 0;
}

void kbs_claims_set_snp(KbsClaims *claims, const SnpReport *snp, SnpProduct product) {
        claims->have_measurement = true;
        memcpy(claims->measurement, snp->measurement, 48);
        claims->vmpl = snp->vmpl;
        claims->product = product;
        claims->have_snp = true;
        claims->snp_guest_policy = snp->policy;
        claims->snp_reported_tcb = snp->reported_tcb;
        claims->snp_committed_tcb = snp->committed_tcb;
}

int kbs_check_quote(EVP_PKEY *ak, const uint8_t *msg, size_t msg_size, const TpmSignature *sig, const uint8_t *nonce,
                    size_t nonce_size, const uint8_t pcrs[TPM_PCRS][32], uint32_t *ret_mask,
                    const char **ret_reason) {
        TpmQuoteInfo q;
        int r;

        r = tpm_quote_info_parse(msg, msg_size, &q);
        if (r < 0) {
                *ret_reason = "TPM quote is not a well-formed TPMS_ATTEST quote";
                return -EBADMSG;
        }
        /* SHA-1 collisions are practical: a quote signed over SHA-1 proves nothing about its message. */
        if (sig->hash == TPM_ALG_SHA1) {
                *ret_reason = "TPM quote signature is over SHA-1";
                return -EBADMSG;
        }
        r = tpm_quote_verify_signature(ak, msg, msg_size, sig);
        if (r < 0) {
                *ret_reason = "TPM quote signature does not verify with the AK";
                return -EBADMSG;
        }
        if (!tpm_quote_nonce_matches(&q, nonce, nonce_size)) {
                *ret_reason = "TPM quote extraData does not match the expected report data";
                return -EBADMSG;
        }
        r = tpm_quote_check_pcrs(&q, sig->hash, pcrs, ret_mask);
        if (r < 0) {
                *ret_reason = r == -EOPNOTSUPP ? "TPM quote selects PCRs other than sha256 0-23"
                                               : "TPM quote PCR digest does not match the PCR values sent";
                return -EBADMSG;
        }
        return 0;
}

int kbs_check_init_data(const KbsClaims *claims, const uint8_t *digest, size_t digest_size, const char **ret_reason) {
        uint8_t input[64] = {}, expected[32];
        unsigned n = 0;
        bool ok;

        if (!claims->have_pcrs || !(claims->pcr_mask & (1U << KBS_INIT_DATA_PCR))) {
                *ret_reason = "init-data given, but the quote does not cover PCR 8 to bind it";
                return -EBADMSG;
        }
        /* Trustee copies the digest into the upper 32 bytes of a 64-byte array: only a 32-byte (sha256)
         * digest fits (a longer one would panic there); refused here instead. */
        if (digest_size != 32) {
                *ret_reason = "init-data digest is not 32 bytes (algorithm sha256): it cannot be bound to PCR 8";
                return -EBADMSG;
        }
        memcpy(input + 32, digest, 32);
        ok = EVP_Digest(input, sizeof(input), expected, &n, EVP_sha256(), NULL) == 1 && n == 32;
        ERR_clear_error();
        if (!ok)
                return -EIO;
        if (CRYPTO_memcmp(expected, claims->pcrs[KBS_INIT_DATA_PCR], 32) != 0) {
                *ret_reason = "PCR 8 does not match the init-data digest";
                return -EBADMSG;
        }
        return 0;
}

int kbs_verify(const KbsVerifyContext *ctx, KbsTee tee, json_object *evidence,
               const uint8_t *report_data, size_t report_data_size, KbsClaims *claims, const char **ret_reason) {
        static const KbsVerifier table[_KBS_TEE_SUPPORTED] = {
                [KBS_TEE_TPM] = kbs_verify_tpm,
                [KBS_TEE_AZ_SNP_VTPM] = kbs_verify_az_snp_vtpm,
                [KBS_TEE_AZ_TDX_VTPM] = kbs_verify_az_tdx_vtpm,
                [KBS_TEE_SVSM_VTPM] = kbs_verify_svsm_vtpm,
        };

        if (tee >= _KBS_TEE_SUPPORTED) {
                *ret_reason = "tee is not supported by this server";
                return -EOPNOTSUPP;
        }
        if (!json_object_is_type(evidence, json_type_object)) {
                *ret_reason = "evidence is not a JSON object";
                return -EBADMSG;
        }
        claims->tee = tee;
        return table[tee](ctx, evidence, report_data, report_data_size, claims, ret_reason);
}
