/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

#include "b64.h"
#include "json-util.h"
#include "kbs-policy.h"
#include "log.h"
#include "util.h"

#define KBS_POLICY_SIZE_MAX (1024U * 1024U)
#define KBS_LIST_MAX 1024

void kbs_policy_set_done(KbsPolicySet *s) {
        for (size_t i = 0; i < s->n; i++) {
                KbsPolicy *p = s->policies + i;
                free(p->name);
                free(p->measurements);
                for (size_t j = 0; j < p->n_trusted_aks; j++)
                        free(p->trusted_aks[j]);
                free(p->trusted_aks);
                free(p->trusted_ak_sizes);
                for (size_t j = 0; j < p->n_resources; j++)
                        free(p->resources[j]);
                free(p->resources);
        }
        for (size_t i = 0; i < s->n_amd_root_files; i++)
                free(s->amd_root_files[i]);
        free(s->amd_root_files);
        snp_roots_free(s->amd_roots);
        for (size_t i = 0; i < s->n_intel_root_files; i++)
                free(s->intel_root_files[i]);
        free(s->intel_root_files);
        tdx_roots_free(s->intel_roots);
        *s = (KbsPolicySet) {};
}

static int hex_exact(const char *s, size_t size, uint8_t *out) {
        _cleanup_free_ void *b = NULL;
        size_t n;

        if (!s || strlen(s) != 2 * size || unhexmem(s, &b, &n) < 0 || n != size)
                return -EINVAL;
        memcpy(out, b, size);
        return 0;
}

static int add_pcr_value(KbsPolicy *p, unsigned pcr, json_object *v) {
        if (!json_object_is_type(v, json_type_string))
                return -EINVAL;
        if (p->n_pcr_values[pcr] >= KBS_PCR_ALTERNATIVES_MAX)
                return -E2BIG;
        if (hex_exact(json_object_get_string(v), 32, p->pcr_values[pcr][p->n_pcr_values[pcr]]) < 0)
                return -EINVAL;
        p->n_pcr_values[pcr]++;
        p->pcr_mask |= 1U << pcr;
        return 0;
}

int kbs_policy_parse_pcrs(KbsPolicy *p, json_object *o) {
        json_object *inner, *bank;
        int r;

        if (json_object_is_type(o, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(o); i++) {
                        r = kbs_policy_parse_pcrs(p, json_object_array_get_idx(o, i));
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (!json_object_is_type(o, json_type_object))
                return -EINVAL;
        if (json_object_object_get_ex(o, "pcrs", &inner)) /* the whole `ephroot predict --json` output */
                o = inner;
        if (!json_object_is_type(o, json_type_object))
                return -EINVAL;
        if (!json_object_object_get_ex(o, "sha256", &bank) || !json_object_is_type(bank, json_type_object))
                return -ENOENT; /* the evidence carries sha256 PCRs only */

        json_object_object_foreach(bank, k, v) {
                unsigned pcr;

                if (safe_atou(k, &pcr) < 0 || pcr >= TPM_PCRS)
                        return -EINVAL;
                if (json_object_is_type(v, json_type_array)) {
                        for (size_t i = 0; i < json_object_array_length(v); i++) {
                                r = add_pcr_value(p, pcr, json_object_array_get_idx(v, i));
                                if (r < 0)
                                        return r;
                        }
                } else {
                        r = add_pcr_value(p, pcr, v);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int parse_ak(const char *s, uint8_t **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *der = NULL;
        const unsigned char *q;
        EVP_PKEY *k;
        size_t n;

        if (startswith(s, "-----BEGIN")) {
                BIO *bio = BIO_new_mem_buf(s, -1);
                unsigned char *d = NULL;
                int l;

                k = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
                BIO_free(bio);
                l = k ? i2d_PUBKEY(k, &d) : -1;
                EVP_PKEY_free(k);
                ERR_clear_error();
                if (l <= 0)
                        return -EINVAL;
                der = malloc((size_t) l);
                if (der)
                        memcpy(der, d, (size_t) l);
                OPENSSL_free(d);
                if (!der)
                        return -ENOMEM;
                *ret = TAKE_PTR(der);
                *ret_size = (size_t) l;
                return 0;
        }
        if (b64_decode(s, strlen(s), B64_PAD_OPTIONAL, &der, &n) < 0)
                return -EINVAL;
        q = der;
        k = d2i_PUBKEY(NULL, &q, (long) n);
        ERR_clear_error();
        if (!k || q != der + n) {
                EVP_PKEY_free(k);
                return -EINVAL;
        }
        EVP_PKEY_free(k);
        *ret = TAKE_PTR(der);
        *ret_size = n;
        return 0;
}

static bool resource_component_ok(const char *s, size_t n) {
        if (n == 0 || n > 128 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
                return false;
        if (n == 1 && s[0] == '*')
                return true;
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]))
                        return false;
        return true;
}

static bool resource_pattern_ok(const char *s) {
        const char *a = strchr(s, '/'), *b = a ? strchr(a + 1, '/') : NULL;

        return a && b && !strchr(b + 1, '/') && resource_component_ok(s, (size_t) (a - s)) &&
               resource_component_ok(a + 1, (size_t) (b - a - 1)) && resource_component_ok(b + 1, strlen(b + 1));
}

static int string_array(json_object *v, size_t max, char ***ret, size_t *ret_n) {
        char **l;
        size_t n;

        if (!json_object_is_type(v, json_type_array) || (n = json_object_array_length(v)) > max)
                return -EINVAL;
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                if (!json_object_is_type(e, json_type_string) || !(l[i] = strdup(json_object_get_string(e)))) {
                        for (size_t j = 0; j <= i; j++)
                                free(l[j]);
                        free(l);
                        return -EINVAL;
                }
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

/* What a policy must pin, checked once it is parsed: each tee it accepts needs the check that ties
 * evidence of that tee to this deployment, and no policy may check nothing. */
static int policy_check_minimums(const KbsPolicy *p, const char *name) {
        if ((p->tee_mask & (1U << KBS_TEE_TPM)) && p->n_trusted_aks == 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: policy '%s' accepts tee \"tpm\" but lists no \"trusted_aks\", refusing.", name,
                                       p->name);
        if ((p->tee_mask & (1U << KBS_TEE_SVSM_VTPM)) && p->n_measurements == 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: policy '%s' accepts tee \"svsm-vtpm\" but lists no \"snp_measurements\", refusing.",
                                       name, p->name);
        /* Azure's paravisor has one launch measurement for every CVM of every tenant: without PCRs such
         * a policy would release its secrets to anyone's VM. */
        for (KbsTee t = KBS_TEE_AZ_SNP_VTPM; t <= KBS_TEE_AZ_TDX_VTPM; t++)
                if ((p->tee_mask & (1U << t)) && p->pcr_mask == 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "%s: policy '%s' accepts tee \"%s\" but pins no PCR (\"pcrs\"): the paravisor's "
                                               "launch measurement is the same for every Azure CVM, refusing.",
                                               name, p->name, kbs_tee_to_string(t));
        if (p->pcr_mask == 0 && p->n_measurements == 0 && p->n_trusted_aks == 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: policy '%s' checks nothing (no \"pcrs\", \"snp_measurements\" or \"trusted_aks\"), refusing.",
                                       name, p->name);
        /* PCRs 11, 12, 15 are ephroot's measurements of files on the host-writable OS disk; only the
         * firmware's and the boot loader's (4, 7, 8, 9) bind them to what ran (docs/measurements.md). */
        if ((p->tee_mask & ((1U << KBS_TEE_TPM) | (1U << KBS_TEE_AZ_SNP_VTPM) | (1U << KBS_TEE_AZ_TDX_VTPM) |
                            (1U << KBS_TEE_SVSM_VTPM))) &&
            p->pcr_mask != 0 && (p->pcr_mask & ~((1U << 11) | (1U << 12) | (1U << 15))) == 0)
                log_warning("%s: policy '%s' pins only PCRs among 11, 12, 15: a host that changes grub.cfg, the kernel "
                            "or the initrd GRUB loads is not refused by it; pin 4, 7, 8, 9 too (`ephroot reference`).",
                            name, p->name);
        return 0;
}

static int parse_policy(KbsPolicy *p, json_object *o, const char *name) {
        static const char *const keys[] = { "name", "tee", "pcrs", "snp_measurements", "trusted_aks", "resources",
                                            "accept_unverified_td_quote", "accept_unevaluated_tdx_tcb",
                                            "min_tdx_qe_isvsvn", "min_tdx_tee_tcb_svn", "min_snp_tcb",
                                            "snp_guest_policy", NULL };
        const char *unknown = NULL;
        json_object *v;
        int r;

        if (json_check_keys(o, keys, &unknown) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: unknown policy key \"%s\", refusing.", name,
                                       unknown ?: "?");
        if (!json_get_string(o, "name") || isempty(json_get_string(o, "name")))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: every policy needs a \"name\", refusing.", name);
        p->name = strdup(json_get_string(o, "name"));
        if (!p->name)
                return log_oom();

        if (!json_object_object_get_ex(o, "tee", &v) || !json_object_is_type(v, json_type_array) ||
            json_object_array_length(v) == 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: policy '%s' needs a non-empty \"tee\" list, refusing.",
                                       name, p->name);
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                json_object *e = json_object_array_get_idx(v, i);
                int t = json_object_is_type(e, json_type_string) ? kbs_tee_from_string(json_object_get_string(e)) : -EINVAL;
                if (t < 0 || t >= _KBS_TEE_SUPPORTED)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "%s: policy '%s' names a tee this server does not verify: %s, refusing.",
                                               name, p->name, json_object_get_string(e));
                p->tee_mask |= 1U << t;
        }

        if (json_object_object_get_ex(o, "pcrs", &v)) {
                r = kbs_policy_parse_pcrs(p, v);
                if (r < 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "%s: policy '%s' has invalid \"pcrs\" (expected `ephroot predict --json` output with a sha256 bank), refusing.",
                                               name, p->name);
        }

        if (json_object_object_get_ex(o, "snp_measurements", &v)) {
                size_t n;
                if (!json_object_is_type(v, json_type_array) || (n = json_object_array_length(v)) > KBS_LIST_MAX)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: policy '%s': \"snp_measurements\" must be a list, refusing.",
                                               name, p->name);
                p->measurements = calloc(n + 1, 48);
                if (!p->measurements)
                        return log_oom();
                for (size_t i = 0; i < n; i++)
                        if (hex_exact(json_object_get_string(json_object_array_get_idx(v, i)), 48, p->measurements[i]) < 0)
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "%s: policy '%s': SNP measurement %zu is not 96 hex digits, refusing.",
                                                       name, p->name, i);
                p->n_measurements = n;
        }

        if (json_object_object_get_ex(o, "trusted_aks", &v)) {
                size_t n;
                if (!json_object_is_type(v, json_type_array) || (n = json_object_array_length(v)) > KBS_LIST_MAX)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: policy '%s': \"trusted_aks\" must be a list, refusing.",
                                               name, p->name);
                p->trusted_aks = calloc(n + 1, sizeof(uint8_t *));
                p->trusted_ak_sizes = calloc(n + 1, sizeof(size_t));
                if (!p->trusted_aks || !p->trusted_ak_sizes)
                        return log_oom();
                for (size_t i = 0; i < n; i++) {
                        const char *s = json_object_get_string(json_object_array_get_idx(v, i));
                        if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string) ||
                            parse_ak(s, &p->trusted_aks[i], &p->trusted_ak_sizes[i]) < 0)
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "%s: policy '%s': trusted AK %zu is not a PEM or base64 DER public key, refusing.",
                                                       name, p->name, i);
                        p->n_trusted_aks++;
                }
        }

        if (json_object_object_get_ex(o, "resources", &v)) {
                r = string_array(v, KBS_LIST_MAX, &p->resources, &p->n_resources);
                if (r < 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: policy '%s': \"resources\" must be a list of strings, refusing.",
                                               name, p->name);
                for (size_t i = 0; i < p->n_resources; i++)
                        if (!resource_pattern_ok(p->resources[i]))
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "%s: policy '%s': resource '%s' is not repo/type/tag, refusing.",
                                                       name, p->name, p->resources[i]);
        }

        if (json_object_object_get_ex(o, "accept_unverified_td_quote", &v)) {
                if (!json_object_is_type(v, json_type_boolean))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "%s: policy '%s': \"accept_unverified_td_quote\" must be true or false, refusing.",
                                               name, p->name);
                p->accept_unverified_td_quote = json_object_get_boolean(v);
        }
        r = kbs_tcb_policy_parse(&p->tcb, o, name, p->name);
        if (r < 0)
                return r;
        r = kbs_tcb_policy_check_tees(&p->tcb, p->tee_mask, name, p->name);
        if (r < 0)
                return r;

        return policy_check_minimums(p, name);
}

int kbs_policy_parse(KbsPolicySet *s, const char *text, size_t size, const char *name) {
        static const char *const keys[] = { "amd_roots", "intel_roots", "policies", NULL };
        _cleanup_json_ json_object *o = NULL;
        const char *unknown = NULL;
        json_object *v;
        int r;

        r = json_parse_strict(text, size, 16, &o);
        if (r < 0 || !json_object_is_type(o, json_type_object))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: not a JSON object, refusing.", name);
        if (json_check_keys(o, keys, &unknown) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: unknown key \"%s\", refusing.", name, unknown);

        if (json_object_object_get_ex(o, "amd_roots", &v)) {
                r = string_array(v, 16, &s->amd_root_files, &s->n_amd_root_files);
                if (r < 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: \"amd_roots\" must be a list of paths, refusing.",
                                               name);
                for (size_t i = 0; i < s->n_amd_root_files; i++)
                        if (!path_is_absolute(s->amd_root_files[i]))
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "%s: AMD root '%s' is not an absolute path, refusing.", name,
                                                       s->amd_root_files[i]);
        }

        if (json_object_object_get_ex(o, "intel_roots", &v)) {
                r = string_array(v, 8, &s->intel_root_files, &s->n_intel_root_files);
                if (r < 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: \"intel_roots\" must be a list of paths, refusing.",
                                               name);
                for (size_t i = 0; i < s->n_intel_root_files; i++)
                        if (!path_is_absolute(s->intel_root_files[i]))
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "%s: Intel root '%s' is not an absolute path, refusing.", name,
                                                       s->intel_root_files[i]);
        }

        if (!json_object_object_get_ex(o, "policies", &v) || !json_object_is_type(v, json_type_array) ||
            json_object_array_length(v) == 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: \"policies\" must be a non-empty list, refusing.", name);
        if (json_object_array_length(v) > KBS_POLICIES_MAX)
                return log_error_errno(SYNTHETIC_ERRNO(E2BIG), "%s: more than %u policies, refusing.", name,
                                       KBS_POLICIES_MAX);
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                json_object *e = json_object_array_get_idx(v, i);

                if (!json_object_is_type(e, json_type_object))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: policy %zu is not an object, refusing.", name, i);
                s->n++;
                r = parse_policy(s->policies + i, e, name);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (streq(s->policies[j].name, s->policies[i].name))
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: duplicate policy name '%s', refusing.",
                                                       name, s->policies[i].name);
        }
        return 0;
}

int kbs_policy_load(KbsPolicySet *s, const char *path) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_full_file_bounded(path, KBS_POLICY_SIZE_MAX, &text, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to read policy '%s': %m", path);
        r = kbs_policy_parse(s, text, size, path);
        if (r < 0)
                return r;

        s->amd_roots = snp_roots_new();
        if (!s->amd_roots)
                return log_oom();
        for (size_t i = 0; i < s->n_amd_root_files; i++) {
                _cleanup_free_ char *pem = NULL;
                size_t n;

                r = read_full_file_bounded(s->amd_root_files[i], 64 * 1024, &pem, &n);
                if (r < 0)
                        return log_error_errno(r, "Failed to read AMD root '%s': %m", s->amd_root_files[i]);
                r = snp_roots_add_pem(s->amd_roots, pem, n);
                if (r < 0)
                        return log_error_errno(r, "Failed to load AMD root '%s' (a self-signed ARK and the ASK it signed): %m",
                                               s->amd_root_files[i]);
        }
        s->intel_roots = tdx_roots_new();
        if (!s->intel_roots)
                return log_oom();
        for (size_t i = 0; i < s->n_intel_root_files; i++) {
                _cleanup_free_ char *pem = NULL;
                size_t n;

                r = read_full_file_bounded(s->intel_root_files[i], 64 * 1024, &pem, &n);
                if (r < 0)
                        return log_error_errno(r, "Failed to read Intel root '%s': %m", s->intel_root_files[i]);
                r = tdx_roots_add_pem(s->intel_roots, pem, n);
                if (r < 0)
                        return log_error_errno(r, "Failed to load Intel root '%s' (self-signed certificates): %m",
                                               s->intel_root_files[i]);
        }
        return 0;
}

static bool policy_holds(const KbsPolicy *p, const KbsClaims *c, const char **reason) {
        if (!(p->tee_mask & (1U << c->tee))) {
                *reason = "no policy accepts this tee";
                return false;
        }
        if (p->pcr_mask) {
                if (!c->have_pcrs) {
                        *reason = "policy requires PCR values the evidence does not carry";
                        return false;
                }
                for (unsigned i = 0; i < TPM_PCRS; i++) {
                        bool ok = false;
                        if (!(p->pcr_mask & (1U << i)))
                                continue;
                        /* Only the PCRs the quote selects are proven; the rest are the client's word. */
                        if (!(c->pcr_mask & (1U << i))) {
                                *reason = "policy requires a PCR the TPM quote does not cover";
                                return false;
                        }
                        for (unsigned j = 0; j < p->n_pcr_values[i]; j++)
                                if (CRYPTO_memcmp(p->pcr_values[i][j], c->pcrs[i], 32) == 0)
                                        ok = true;
                        if (!ok) {
                                _cleanup_free_ char *hex = hexmem(c->pcrs[i], 32);

                                /* the evidence's value, for whoever builds the policy (not a secret) */
                                log_info("PCR %u of the evidence is %s: not among the policy's reference values.", i,
                                         strna(hex));
                                *reason = "PCR values differ from the policy's reference values";
                                return false;
                        }
                }
        }
        if (p->n_measurements > 0) {
                bool ok = false;
                if (!c->have_measurement) {
                        *reason = "policy requires an SNP launch measurement the evidence does not carry";
                        return false;
                }
                for (size_t i = 0; i < p->n_measurements; i++)
                        if (CRYPTO_memcmp(p->measurements[i], c->measurement, 48) == 0)
                                ok = true;
                if (!ok) {
                        *reason = "SNP launch measurement is not in the policy's allowed list";
                        return false;
                }
        }
        if (c->tee == KBS_TEE_TPM) {
                bool ok = false;
                for (size_t i = 0; i < p->n_trusted_aks; i++)
                        if (c->ak_der && p->trusted_ak_sizes[i] == c->ak_der_size &&
                            memcmp(p->trusted_aks[i], c->ak_der, c->ak_der_size) == 0)
                                ok = true;
                if (!ok) {
                        *reason = "AK is not trusted by the policy";
                        return false;
                }
        }
        if (c->td_quote_unverified && !p->accept_unverified_td_quote) {
                *reason = "TD quote signature unverified (no Intel collateral) and the policy does not accept that";
                return false;
        }
        return kbs_tcb_policy_holds(&p->tcb, p->accept_unverified_td_quote, c, reason);
}

int kbs_policy_evaluate(const KbsPolicySet *s, const KbsClaims *c, uint64_t *ret_mask, const char **ret_reason) {
        const char *reason = "no policy accepts this tee", *r;
        uint64_t mask = 0;

        assert_return(s && c && ret_mask, -EINVAL);

        for (size_t i = 0; i < s->n; i++) {
                r = NULL;
                if (policy_holds(s->policies + i, c, &r))
                        mask |= UINT64_C(1) << i;
                else if (s->policies[i].tee_mask & (1U << c->tee))
                        reason = r; /* the reason of a policy for this tee says more */
        }
        *ret_mask = mask;
        if (mask == 0) {
                if (ret_reason)
                        *ret_reason = reason;
                return -EACCES;
        }
        return 0;
}

static bool component_matches(const char *pattern, size_t plen, const char *s) {
        return (plen == 1 && pattern[0] == '*') || (strlen(s) == plen && memcmp(pattern, s, plen) == 0);
}

bool kbs_policy_releases(const KbsPolicySet *s, uint64_t mask, const char *repo, const char *type, const char *tag) {
        for (size_t i = 0; i < s->n; i++) {
                if (!(mask & (UINT64_C(1) << i)))
                        continue;
                for (size_t j = 0; j < s->policies[i].n_resources; j++) {
                        const char *p = s->policies[i].resources[j], *a = strchr(p, '/'), *b = strchr(a + 1, '/');
                        if (component_matches(p, (size_t) (a - p), repo) &&
                            component_matches(a + 1, (size_t) (b - a - 1), type) && component_matches(b + 1, strlen(b + 1), tag))
                                return true;
                }
        }
        return false;
}

uint64_t kbs_policy_mask_from_names(const KbsPolicySet *ps, json_object *names) {
        uint64_t mask = 0;

        for (size_t j = 0; j < json_object_array_length(names); j++) {
                const char *n = json_object_get_string(json_object_array_get_idx(names, j));

                for (size_t i = 0; n && i < ps->n && i < 64; i++)
                        if (streq(ps->policies[i].name, n))
                                mask |= UINT64_C(1) << i;
        }
        return mask;
}
