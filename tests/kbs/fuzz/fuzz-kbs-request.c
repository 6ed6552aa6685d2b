/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The key broker's request side: the input is tried as an auth body, an attest body (and its
 * evidence through every verifier), a resource path, a server configuration and a policy. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kbs-config.h"
#include "json-util.h"
#include "kbs-policy.h"
#include "kbs-protocol.h"
#include "log.h"
#include "rcar.h"
#include "verifier-svsm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char repo[KBS_RESOURCE_COMPONENT_MAX + 1], type[KBS_RESOURCE_COMPONENT_MAX + 1], tag[KBS_RESOURCE_COMPONENT_MAX + 1];
        const char *text = (const char *) data, *detail;
        json_object *extra = NULL, *evidence = NULL;
        KbsAttestRequest a;
        KbsConfig config;
        KbsPolicySet policies = {};
        KbsTee tee;
        char *s;

        log_set_max_level(LOG_CRIT);
        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';

        if (kbs_parse_auth(text, size, &tee, &extra, &detail) == 0 && tee == KBS_TEE_SVSM_VTPM) {
                KbsSvsmChallenge c = {};
                json_object *reply = NULL;
                if (kbs_svsm_challenge_new(extra, &c, &reply, &detail) == 0)
                        json_object_put(reply);
                kbs_svsm_challenge_done(&c);
        }
        json_object_put(extra);

        if (kbs_parse_attest(text, size, &a, &detail) == 0) {
                uint8_t rd[RCAR_REPORT_DATA_SIZE] = {};
                EVP_PKEY *key = NULL;
                JwkAlg alg;
                (void) rcar_report_data(a.nonce, a.tee_pubkey, a.additional_evidence, rd);
                if (jwk_parse_tee_key(a.tee_pubkey, &key, &alg) == 0)
                        EVP_PKEY_free(key);
                evidence = json_object_get(a.evidence);
                kbs_attest_request_done(&a);
        } else if (json_parse_strict(text, size, KBS_JSON_DEPTH, &evidence) < 0)
                evidence = NULL;
        if (evidence) {
                /* the evidence through every verifier: parsing and refusal, never a crash */
                for (KbsTee t = 0; t < _KBS_TEE_SUPPORTED; t++) {
                        KbsClaims claims = {};
                        uint8_t rd[RCAR_REPORT_DATA_SIZE] = {};
                        (void) kbs_verify(&(KbsVerifyContext) {}, t, evidence, rd, sizeof(rd), &claims, &detail);
                        kbs_claims_done(&claims);
                }
                json_object_put(evidence);
        }

        (void) kbs_parse_resource_path(s, repo, type, tag);

        kbs_config_init(&config);
        (void) kbs_config_parse(&config, text, size, "fuzz");
        kbs_config_done(&config);
        (void) kbs_policy_parse(&policies, text, size, "fuzz");
        kbs_policy_set_done(&policies);
        free(s);
        return 0;
}
