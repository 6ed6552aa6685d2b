/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <string.h>

#include "json-util.h"
#include "kbs-policy-tcb.h"
#include "log.h"
#include "util.h"

/* SNP guest policy bits a policy may require set or clear (SEV-SNP ABI, "Guest Policy"). DEBUG can
 * only be required clear: the verifiers refuse a debuggable guest whatever the policy says. */
static const struct {
        const char *name;
        unsigned bit;
        const char *reason;
} snp_policy_bits[] = {
        { "smt", 16, "SNP guest policy bit SMT (16) differs from the policy's snp_guest_policy" },
        { "migrate_ma", 18, "SNP guest policy bit MIGRATE_MA (18) differs from the policy's snp_guest_policy" },
        { "debug", 19, "SNP guest policy bit DEBUG (19) differs from the policy's snp_guest_policy" },
        { "single_socket", 20, "SNP guest policy bit SINGLE_SOCKET (20) differs from the policy's snp_guest_policy" },
        { "cxl_allow", 21, "SNP guest policy bit CXL_ALLOW (21) differs from the policy's snp_guest_policy" },
        { "mem_aes_256_xts", 22, "SNP guest policy bit MEM_AES_256_XTS (22) differs from the policy's snp_guest_policy" },
        { "rapl_dis", 23, "SNP guest policy bit RAPL_DIS (23) differs from the policy's snp_guest_policy" },
        { "ciphertext_hiding", 24, "SNP guest policy bit CIPHERTEXT_HIDING (24) differs from the policy's snp_guest_policy" },
        { "page_swap_disable", 25, "SNP guest policy bit PAGE_SWAP_DISABLE (25) differs from the policy's snp_guest_policy" },
};

static int get_bool(json_object *o, const char *key, bool *ret, const char *file, const char *name) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_boolean))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: policy '%s': \"%s\" must be true or false, refusing.",
                                       file, name, key);
        *ret = json_object_get_boolean(v);
        return 1;
}

/* An integer member in 0..max; 1 when present, 0 when absent. */
static int get_uint(json_object *o, const char *key, uint32_t max, uint32_t *ret, const char *file, const char *name) {
        json_object *v;
        int64_t x;

        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        x = json_object_get_int64(v);
        if (!json_object_is_type(v, json_type_int) || x < 0 || x > (int64_t) max)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: policy '%s': \"%s\" must be an integer 0..%u, refusing.",
                                       file, name, key, max);
        *ret = (uint32_t) x;
        return 1;
}

/* "min_snp_tcb": {"Milan": {"bootloader":N,"tee":N,"snp":N,"microcode":N}, "Turin": {... "fmc":N}} */
static int parse_min_snp_tcb(KbsTcbPolicy *t, json_object *v, const char *file, const char *name) {
        static const char *const fields[] = { "fmc", "bootloader", "tee", "snp", "microcode", NULL };

        if (!json_object_is_type(v, json_type_object) || json_object_object_length(v) == 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: policy '%s': \"min_snp_tcb\" must be an object of products (Milan, Genoa, Turin), refusing.",
                                       file, name);
        json_object_object_foreach(v, product, svns) {
                int p = snp_product_from_string(product);
                const char *unknown = NULL;
                uint32_t x[5] = {};

                if (p < 0 || (t->snp_tcb_products & (1U << p)))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "%s: policy '%s': \"min_snp_tcb\" names an unknown or repeated product '%s', refusing.",
                                               file, name, product);
                if (!json_object_is_type(svns, json_type_object) || json_check_keys(svns, fields, &unknown) < 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "%s: policy '%s': \"min_snp_tcb\" of %s must be an object of SVNs (not \"%s\"), refusing.",
                                               file, name, product, unknown ?: "?");
                /* every SVN of the product's layout, and only those: a forgotten one is not a floor of 0 */
                for (size_t i = 0; fields[i]; i++) {
                        bool want = i > 0 || p == SNP_PRODUCT_TURIN;
                        int r = get_uint(svns, fields[i], UINT8_MAX, x + i, file, name);
                        if (r < 0)
                                return r;
                        if ((r > 0) != want)
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "%s: policy '%s': \"min_snp_tcb\" of %s %s \"%s\", refusing.", file,
                                                       name, product, want ? "needs" : "has no", fields[i]);
                }
                t->min_snp_tcb[p] = (SnpTcb) {
                        .fmc = (uint8_t) x[0], .bootloader = (uint8_t) x[1], .tee = (uint8_t) x[2], .snp = (uint8_t) x[3],
                        .microcode = (uint8_t) x[4],
                };
                t->snp_tcb_products |= 1U << p;
        }
        return 0;
}

/* "snp_guest_policy": {"smt": false, "migrate_ma": false, ...}: each named bit must have that value. */
static int parse_snp_guest_policy(KbsTcbPolicy *t, json_object *v, const char *file, const char *name) {
        if (!json_object_is_type(v, json_type_object))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: policy '%s': \"snp_guest_policy\" must be an object, refusing.",
                                       file, name);
        json_object_object_foreach(v, bit, value) {
                size_t i = 0;

                while (i < ELEMENTSOF(snp_policy_bits) && !streq(snp_policy_bits[i].name, bit))
                        i++;
                if (i >= ELEMENTSOF(snp_policy_bits) || !json_object_is_type(value, json_type_boolean))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "%s: policy '%s': \"snp_guest_policy\" member \"%s\" is not a known bit with a "
                                               "true/false value, refusing.", file, name, bit);
                if (snp_policy_bits[i].bit == 19 && json_object_get_boolean(value))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "%s: policy '%s': a debuggable SNP guest is never accepted, refusing.", file, name);
                t->snp_policy_mask |= UINT64_C(1) << snp_policy_bits[i].bit;
                if (json_object_get_boolean(value))
                        t->snp_policy_value |= UINT64_C(1) << snp_policy_bits[i].bit;
        }
        return 0;
}

int kbs_tcb_policy_parse(KbsTcbPolicy *t, json_object *o, const char *file, const char *name) {
        json_object *v;
        uint32_t u = 0;
        int r;

        if (json_object_object_get_ex(o, "min_snp_tcb", &v)) {
                r = parse_min_snp_tcb(t, v, file, name);
                if (r < 0)
                        return r;
        }
        if (json_object_object_get_ex(o, "snp_guest_policy", &v)) {
                r = parse_snp_guest_policy(t, v, file, name);
                if (r < 0)
                        return r;
        }
        if (json_object_object_get_ex(o, "min_tdx_tee_tcb_svn", &v)) {
                _cleanup_free_ void *b = NULL;
                size_t n;

                if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) != 32 ||
                    unhexmem(json_object_get_string(v), &b, &n) < 0 || n != sizeof(t->min_tdx_tee_tcb_svn))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "%s: policy '%s': \"min_tdx_tee_tcb_svn\" must be 32 hex digits (16 SVNs), refusing.",
                                               file, name);
                memcpy(t->min_tdx_tee_tcb_svn, b, n);
                t->have_min_tdx_tee_tcb_svn = true;
        }

        r = get_bool(o, "accept_unevaluated_tdx_tcb", &t->accept_unevaluated_tdx_tcb, file, name);
        if (r < 0)
                return r;
        r = get_uint(o, "min_tdx_qe_isvsvn", UINT16_MAX, &u, file, name);
        if (r < 0)
                return r;
        t->have_min_tdx_qe_isvsvn = r > 0;
        t->min_tdx_qe_isvsvn = (uint16_t) u;
        return 0;
}

int kbs_tcb_policy_check_tees(const KbsTcbPolicy *t, uint32_t tee_mask, const char *file, const char *name) {
        bool snp = tee_mask & ((1U << KBS_TEE_AZ_SNP_VTPM) | (1U << KBS_TEE_SVSM_VTPM)),
             tdx = tee_mask & (1U << KBS_TEE_AZ_TDX_VTPM);

        if ((t->snp_tcb_products || t->snp_policy_mask) && !snp)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: policy '%s' sets \"min_snp_tcb\" or \"snp_guest_policy\" but accepts no SNP tee "
                                       "(az-snp-vtpm, svsm-vtpm), refusing.", file, name);
        if ((t->accept_unevaluated_tdx_tcb || t->have_min_tdx_qe_isvsvn || t->have_min_tdx_tee_tcb_svn) && !tdx)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: policy '%s' sets a TDX requirement but does not accept az-tdx-vtpm, refusing.", file,
                                       name);
        return 0;
}

static bool tdx_holds(const KbsTcbPolicy *t, bool accept_unverified_td_quote, const KbsClaims *c, const char **reason) {
        if (c->td_tcb_unevaluated && !t->accept_unevaluated_tdx_tcb && !accept_unverified_td_quote) {
                *reason = "TD quote TCB status is unevaluated (no Intel TCB info or CRLs) and the policy does not set "
                          "accept_unevaluated_tdx_tcb";
                return false;
        }
        if (t->have_min_tdx_qe_isvsvn) {
                if (!c->have_td_qe) {
                        *reason = "policy requires a minimum TD quote QE ISVSVN the evidence does not prove";
                        return false;
                }
                if (c->td_qe_isvsvn < t->min_tdx_qe_isvsvn) {
                        *reason = "TD quote QE report ISVSVN is below the policy's min_tdx_qe_isvsvn";
                        return false;
                }
        }
        if (t->have_min_tdx_tee_tcb_svn) {
                if (!c->have_td_qe) {
                        *reason = "policy requires a minimum TDX TEE TCB SVN the evidence does not prove";
                        return false;
                }
                /* component by component, as Intel's TCB levels compare them */
                for (size_t i = 0; i < sizeof(t->min_tdx_tee_tcb_svn); i++)
                        if (c->td_tee_tcb_svn[i] < t->min_tdx_tee_tcb_svn[i]) {
                                *reason = "TD quote TEE TCB SVN is below the policy's min_tdx_tee_tcb_svn";
                                return false;
                        }
        }
        return true;
}

static bool snp_tcb_meets(SnpTcb have, SnpTcb min) {
        return have.fmc >= min.fmc && have.bootloader >= min.bootloader && have.tee >= min.tee && have.snp >= min.snp &&
               have.microcode >= min.microcode;
}

static bool snp_holds(const KbsTcbPolicy *t, const KbsClaims *c, const char **reason) {
        if (!t->snp_tcb_products && !t->snp_policy_mask)
                return true;
        if (!c->have_snp) {
                *reason = "policy requires SNP TCB or guest policy values the evidence does not carry";
                return false;
        }
        if (t->snp_tcb_products) {
                if (c->product >= _SNP_PRODUCT_MAX || !(t->snp_tcb_products & (1U << c->product))) {
                        *reason = "policy's min_snp_tcb has no floor for the SNP report's product";
                        return false;
                }
                const SnpTcb min = t->min_snp_tcb[c->product];

                /* reported_tcb is what the host chose to report (it can lower it below what is
                 * installed); committed_tcb is what the firmware will not roll back below. Both. */
                if (!snp_tcb_meets(snp_tcb_decode(c->snp_reported_tcb, c->product), min)) {
                        *reason = "SNP reported_tcb is below the policy's min_snp_tcb";
                        return false;
                }
                if (!snp_tcb_meets(snp_tcb_decode(c->snp_committed_tcb, c->product), min)) {
                        *reason = "SNP committed_tcb is below the policy's min_snp_tcb";
                        return false;
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(snp_policy_bits); i++) {
                uint64_t b = UINT64_C(1) << snp_policy_bits[i].bit;
                if ((t->snp_policy_mask & b) && (c->snp_guest_policy & b) != (t->snp_policy_value & b)) {
                        *reason = snp_policy_bits[i].reason;
                        return false;
                }
        }
        return true;
}

bool kbs_tcb_policy_holds(const KbsTcbPolicy *t, bool accept_unverified_td_quote, const KbsClaims *c,
                          const char **ret_reason) {
        if (c->tee == KBS_TEE_AZ_TDX_VTPM)
                return tdx_holds(t, accept_unverified_td_quote, c, ret_reason);
        if (c->tee == KBS_TEE_AZ_SNP_VTPM || c->tee == KBS_TEE_SVSM_VTPM)
                return snp_holds(t, c, ret_reason);
        return true;
}
