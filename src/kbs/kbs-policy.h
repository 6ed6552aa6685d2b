/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kbs-policy-tcb.h"
#include "kbs-verifier.h"
#include "snp-verify.h"

/* The policy file (JSON, docs/kbs.md): trusted AMD roots and a list of named policies. A policy holds
 * when every check it names holds; an attested session may fetch the resources of every policy that
 * held. */

#define KBS_POLICIES_MAX 64
#define KBS_PCR_ALTERNATIVES_MAX 8

typedef struct KbsPolicy {
        char *name;
        uint32_t tee_mask;                 /* bit per KbsTee */
        uint32_t pcr_mask;
        unsigned n_pcr_values[TPM_PCRS];
        uint8_t pcr_values[TPM_PCRS][KBS_PCR_ALTERNATIVES_MAX][32];
        uint8_t (*measurements)[48];
        size_t n_measurements;
        uint8_t **trusted_aks;             /* DER SubjectPublicKeyInfo */
        size_t *trusted_ak_sizes;
        size_t n_trusted_aks;
        char **resources;                  /* "repo/type/tag", a component may be "*" */
        size_t n_resources;
        bool accept_unverified_td_quote;
        KbsTcbPolicy tcb;                  /* TCB floors, kbs-policy-tcb.c */
} KbsPolicy;

typedef struct KbsPolicySet {
        KbsPolicy policies[KBS_POLICIES_MAX];
        size_t n;
        char **amd_root_files;
        size_t n_amd_root_files;
        SnpRoots *amd_roots;
        char **intel_root_files;
        size_t n_intel_root_files;
        TdxRoots *intel_roots;
} KbsPolicySet;

void kbs_policy_set_done(KbsPolicySet *s);

/* Parses the policy text (no I/O: AMD root files are only named). */
int kbs_policy_parse(KbsPolicySet *s, const char *text, size_t size, const char *name);
/* Reads the file and the AMD roots it names. */
int kbs_policy_load(KbsPolicySet *s, const char *path);

/* Evaluates every policy; *ret_mask gets the bit of each that holds. 0 when at least one holds, else
 * -EACCES with *ret_reason from the closest policy for the tee. */
int kbs_policy_evaluate(const KbsPolicySet *s, const KbsClaims *c, uint64_t *ret_mask, const char **ret_reason);

/* Whether a policy in mask releases repo/type/tag. */
bool kbs_policy_releases(const KbsPolicySet *s, uint64_t mask, const char *repo, const char *type, const char *tag);

/* Parses "ephroot predict --json" output ({"pcrs":{"sha256":{"11":"hex",...}}}) or its inner
 * {"sha256":{...}} into the policy's reference values. Other banks are skipped. */
int kbs_policy_parse_pcrs(KbsPolicy *p, json_object *o);

/* The mask of the loaded policies named in a token's "policies" array (names no longer loaded count
 * for nothing). */
uint64_t kbs_policy_mask_from_names(const KbsPolicySet *ps, json_object *names);
