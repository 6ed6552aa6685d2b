/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "kbs-verifier.h"

/* A policy's requirements on the platform's trusted computing base, beyond the measurements: the
 * TDX quoting enclave's minimum ISVSVN and the explicit opt-in to TD quotes whose TCB status is not
 * evaluated. Parsed from the policy object's members (kbs-policy.c owns the list of keys) and
 * evaluated against the claims. */

typedef struct KbsTcbPolicy {
        bool accept_unevaluated_tdx_tcb;
        bool have_min_tdx_qe_isvsvn;
        uint16_t min_tdx_qe_isvsvn;
} KbsTcbPolicy;

/* Reads the members it owns from the policy object o; logs and returns -EINVAL on a bad value
 * ("file: policy 'name': ..."). */
int kbs_tcb_policy_parse(KbsTcbPolicy *t, json_object *o, const char *file, const char *name);

/* Whether the claims meet the requirements; *ret_reason (static) says which did not. A policy that
 * accepts unverified TD quotes (accept_unverified_td_quote, weaker) accepts unevaluated TCB too. */
bool kbs_tcb_policy_holds(const KbsTcbPolicy *t, bool accept_unverified_td_quote, const KbsClaims *c,
                          const char **ret_reason);
