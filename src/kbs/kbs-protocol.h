/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "hash.h"
#include "jwk.h"
#include "kbs-verifier.h"

/* The RCAR protocol's request bodies, as Trustee's KBS speaks version 0.4.0 (kbs-protocol.md); the
 * binding hash is rcar_report_data() (rcar.h), shared with the client. Parsers take bytes, do no I/O,
 * and say what was wrong in *ret_detail (a static string, safe to send back). */

#define KBS_PROTOCOL_VERSION "0.4.0"

/* Error `type` names and status codes as Trustee's kbs/src/error.rs (78962cd4): every error is 401
 * except InvalidRequestPath and PluginNotFound (404); guest-components re-runs the handshake on 401.
 * The body's type is "https://github.com/confidential-containers/kbs/errors/<name>". */
#define KBS_ERR_ATTESTATION "AttestationError"      /* auth or attest failed (RcarAuthFailed, RcarAttestFailed) */
#define KBS_ERR_POLICY_DENY "PolicyDeny"
#define KBS_ERR_TOKEN_NOT_FOUND "TokenNotFound"     /* a resource request without an attested session */
#define KBS_ERR_PLUGIN "PluginInternalError"        /* the resource plugin failed: no such resource */
#define KBS_ERR_INVALID_PATH "InvalidRequestPath"
#define KBS_NONCE_SIZE 32
#define KBS_JSON_DEPTH 32

/* POST /kbs/v0/auth: {"version":"0.4.0","tee":"...","extra-params":...}. ret_extra (optional) gets a
 * new reference to extra-params, or NULL. */
int kbs_parse_auth(const char *body, size_t size, KbsTee *ret_tee, json_object **ret_extra, const char **ret_detail);

typedef struct KbsAttestRequest {
        json_object *root;           /* owns everything below */
        const char *nonce;           /* runtime-data.nonce */
        json_object *tee_pubkey;     /* runtime-data.tee-pubkey */
        json_object *evidence;       /* tee-evidence.primary_evidence, parsed (owned by root or by evidence_owned) */
        json_object *evidence_owned; /* when primary_evidence came as a JSON string */
        const char *additional_evidence;
        bool have_init_data;         /* init-data given: its digest below */
        Digest init_data_digest;     /* the TOML body hashed with its own `algorithm` */
} KbsAttestRequest;

void kbs_attest_request_done(KbsAttestRequest *r);

/* POST /kbs/v0/attest: {"runtime-data":{"nonce","tee-pubkey"},"tee-evidence":{"primary_evidence",
 * "additional_evidence"},"init-data"?}. additional_evidence must be empty: ephroot-kbs verifies no
 * additional evidence, and refuses it rather than accept it unverified (Trustee verifies it).
 * init-data (null or {"format":"toml","body":...}, as Trustee's kbs/src/attestation/coco/builtin.rs
 * takes it) is hashed as Trustee's attestation-service parse_init_data() does: the whole body with the
 * TOML's top-level `algorithm` (sha256, sha384, sha512). */
int kbs_parse_attest(const char *body, size_t size, KbsAttestRequest *ret, const char **ret_detail);

/* The top-level `algorithm = "sha256"|"sha384"|"sha512"` of an init-data TOML body (before any table),
 * and the body's digest with it. -EBADMSG when there is none or another. Pure. */
int kbs_init_data_digest(const char *toml, size_t size, Digest *ret);

/* "/kbs/v0/resource/<repo>/<type>/<tag>": each component 1..128 of [A-Za-z0-9._-], not "." or "..".
 * The components are copied to the buffers (each KBS_RESOURCE_COMPONENT_MAX + 1). */
#define KBS_RESOURCE_COMPONENT_MAX 128
int kbs_parse_resource_path(const char *url, char *repo, char *type, char *tag);

/* {"type":"https://github.com/confidential-containers/kbs/errors/<type>","detail":"<detail>"} */
char *kbs_error_body(const char *type, const char *detail);
