/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "kbs-protocol.h"
#include "kbs-verifier.h"
#include "verifier-svsm.h"

/* Sessions sealed into the cookie: the broker keeps no session table. What a session needs between
 * requests (the tee and nonce of auth, svsm-vtpm's credential secret, after attestation the token)
 * travels in the kbs-session-id cookie, encrypted and authenticated with AES-256-GCM under a key the
 * replicas share (session_key_file), so a flood of auth requests has nothing to evict and any
 * replica can finish any attestation. Rotation: the key file's first line seals and opens, a second
 * line (the previous key) only opens, and only for one session lifetime after the file was loaded. */

#define KBS_SESSION_KEY_SIZE 32
#define KBS_SESSION_COOKIE_MAX 8192 /* base64url characters of a cookie value */

typedef struct KbsSessionKeys {
        uint8_t current[KBS_SESSION_KEY_SIZE];
        uint8_t previous[KBS_SESSION_KEY_SIZE];
        bool have_previous;
        time_t previous_until; /* the previous key opens cookies until then */
} KbsSessionKeys;

/* The key file's text: one or two lines of 64 hex digits (current, then previous). Pure. */
int kbs_session_keys_parse(KbsSessionKeys *k, const char *text, size_t size, unsigned timeout_sec, time_t now);
/* path NULL: a random key (a single broker). Logs its refusals. */
int kbs_session_keys_load(KbsSessionKeys *k, const char *path, unsigned timeout_sec, time_t now);
void kbs_session_keys_done(KbsSessionKeys *k);

typedef enum KbsSessionKind {
        KBS_SESSION_AUTHED = 1,
        KBS_SESSION_ATTESTED = 2,
} KbsSessionKind;

typedef struct KbsSession {
        KbsSessionKind kind;
        KbsTee tee;
        uint64_t expires;     /* CLOCK_REALTIME seconds: replicas share wall time, not a monotonic clock */
        char nonce[64];       /* base64 of KBS_NONCE_SIZE bytes */
        KbsSvsmChallenge svsm; /* authed svsm-vtpm sessions: the credential made at auth */
        char *token;          /* attested: the attestation token (a JWT) */
} KbsSession;

void kbs_session_done(KbsSession *s);

/* A fresh authed session with a random nonce; svsm (may be NULL) moves into it. */
int kbs_session_new(KbsTee tee, KbsSvsmChallenge *svsm, unsigned timeout_sec, time_t now, KbsSession *ret);

/* The cookie value (base64url of IV || ciphertext || tag), malloc'd. */
int kbs_session_seal(const KbsSessionKeys *k, const KbsSession *s, char **ret);

typedef enum KbsSessionError {
        KBS_SESSION_OK,
        KBS_SESSION_UNKNOWN, /* no cookie, or one this broker did not seal (or sealed under a retired key) */
        KBS_SESSION_EXPIRED,
} KbsSessionError;

/* Opens a cookie value: authenticated with the current key (or the previous one while it is
 * accepted), not expired at now. */
KbsSessionError kbs_session_open(const KbsSessionKeys *k, const char *cookie, time_t now, KbsSession *ret);
const char *kbs_session_error_to_string(KbsSessionError e);
