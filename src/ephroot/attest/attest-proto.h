/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* The client side of Trustee's KBS protocol (RCAR 0.4.0, kbs-protocol.md): request builders and
 * strict, bounded response parsers. No I/O: the parsers take the bytes that came and are fuzzed
 * directly (tests/fuzz/fuzz-attest-proto.c). */

#define ATTEST_PROTOCOL_VERSION "0.4.0"
#define ATTEST_NONCE_MAX 1024U          /* base64 text of the server's nonce */
#define ATTEST_SESSION_ID_MAX 4096U /* ephroot-kbs seals the session into it: ~1 KiB after attestation */
#define ATTEST_TOKEN_MAX (64U * 1024U)
#define ATTEST_EXTRA_PARAMS_MAX (64U * 1024U)
#define ATTEST_RESPONSE_MAX (1024U * 1024U) /* any response body */
#define ATTEST_JSON_DEPTH 16

typedef struct AttestChallenge {
        char *nonce;        /* as it came: base64 text */
        char *extra_params; /* the "extra-params" member as compact JSON text ("" when an empty string) */
} AttestChallenge;

void attest_challenge_done(AttestChallenge *c);

/* {"version":"0.4.0","tee":<tee>,"extra-params":<extra_params_json or {}>} */
int attest_proto_auth_request(const char *tee, const char *extra_params_json, char **ret);

/* The auth reply {"nonce":"…","extra-params":…}: an object, nonce a non-empty base64 string of at
 * most ATTEST_NONCE_MAX characters, extra-params a string or an object. Unknown members are
 * ignored (Trustee may add some). -EBADMSG with *ret_reason set when it does not hold. */
int attest_proto_parse_challenge(const char *body, size_t size, AttestChallenge *ret, const char **ret_reason);

/* The session id out of a Set-Cookie value ("kbs-session-id=<id>; Path=…"): the id must be 1 to
 * ATTEST_SESSION_ID_MAX characters of [A-Za-z0-9._-]. *ret is "kbs-session-id=<id>", ready for Cookie. */
int attest_proto_parse_set_cookie(const char *set_cookie, char **ret);

/* {"runtime-data":{"nonce","tee-pubkey"},"tee-evidence":{"primary_evidence":<evidence>,
 * "additional_evidence":""}}; evidence_json is the provider's compact JSON text. The evidence is bound
 * to nonce and tee_pubkey by rcar_report_data() (rcar.h). */
int attest_proto_attest_request(const char *nonce, json_object *tee_pubkey, const char *evidence_json, char **ret);

/* The attest reply {"token":"<JWT>"}: a string of three base64url parts, at most ATTEST_TOKEN_MAX. */
int attest_proto_parse_token(const char *body, size_t size, char **ret, const char **ret_reason);

/* An error body {"type":"…/<Type>","detail":"…"}: a printable, bounded "<Type>: <detail>" for the log,
 * or NULL when the body is not one. */
char *attest_proto_error_message(const char *body, size_t size);

/* A resource path <repo>/<type>/<tag>: three components of [A-Za-z0-9._-], none "." or "..", 1 to 128
 * characters each (what ephroot-kbs and Trustee accept). */
bool attest_proto_resource_path_valid(const char *path);

/* A secret's file name: 1 to 64 characters of [A-Za-z0-9._-], not starting with '.'. */
bool attest_proto_secret_name_valid(const char *name);

/* Parses JSON text strictly: the whole text is one value, depth at most ATTEST_JSON_DEPTH. */
int attest_proto_parse_json(const char *body, size_t size, json_object **ret);
