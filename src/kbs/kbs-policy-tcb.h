/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "kbs-verifier.h"
#include "snp-report.h"

/* A policy's requirements on the platform's trusted computing base, beyond the measurements: SNP TCB
 * floors per product (against reported_tcb and committed_tcb) and guest policy bits; the TDX TEE TCB
 * SVN floor, the quoting enclave's minimum ISVSVN and the explicit opt-in to TD quotes whose TCB
 * status is not evaluated. Parsed from the policy object's members (kbs-policy.c owns the list of
 * keys) and evaluated against the claims. */

typedef struct KbsTcbPolicy {
        uint32_t snp_tcb_products;              /* bit per SnpProduct with a floor in min_snp_tcb */
        SnpTcb min_snp_tcb[_SNP_PRODUCT_MAX];
        uint64_t snp_policy_mask, snp_policy_value; /* guest policy bits that must have these values */
        bool accept_unevaluated_tdx_tcb;
        bool have_min_tdx_qe_isvsvn;
        uint16_t min_tdx_qe_isvsvn;
        bool have_min_tdx_tee_tcb_svn;
        uint8_t min_tdx_tee_tcb_svn[16];
} KbsTcbPolicy;

/* Reads the members it owns from the policy object o; logs and returns -EINVAL on a bad value
 * ("file: policy 'name': ..."). */
int kbs_tcb_policy_parse(KbsTcbPolicy *t, json_object *o, const char *file, const char *name);

/* Refuses requirements no tee of tee_mask can meet or be judged by (an SNP floor in a policy without an
 * SNP tee, a TDX one without az-tdx-vtpm): a floor that never applies is a mistake, not a check. */
int kbs_tcb_policy_check_tees(const KbsTcbPolicy *t, uint32_t tee_mask, const char *file, const char *name);

/* Whether the claims meet the requirements; *ret_reason (static) says which did not. A policy that
 * accepts unverified TD quotes (accept_unverified_td_quote, weaker) accepts unevaluated TCB too. */
bool kbs_tcb_policy_holds(const KbsTcbPolicy *t, bool accept_unverified_td_quote, const KbsClaims *c,
                          const char **ret_reason);
