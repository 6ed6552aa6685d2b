/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>

#include "kbs-policy-tcb.h"
#include "log.h"

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

int kbs_tcb_policy_parse(KbsTcbPolicy *t, json_object *o, const char *file, const char *name) {
        uint32_t u = 0;
        int r;

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
        return true;
}

bool kbs_tcb_policy_holds(const KbsTcbPolicy *t, bool accept_unverified_td_quote, const KbsClaims *c,
                          const char **ret_reason) {
        if (c->tee == KBS_TEE_AZ_TDX_VTPM)
                return tdx_holds(t, accept_unverified_td_quote, c, ret_reason);
        return true;
}
