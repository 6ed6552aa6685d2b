/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "jwk.h"
#include "kbs-protocol.h"
#include "kbs-verifier.h"
#include "verifier-svsm.h"

/* The server's sessions: bounded in number, expiring, thread-safe. A session is made by auth, may
 * attempt attestation once, and after a successful attestation holds the TEE key and the policies
 * that held. When the table is full, expired sessions go first, then the oldest session that has not
 * attested, then (only if every slot is attested) the oldest attested one. */

#define KBS_SESSION_ID_SIZE 16
#define KBS_SESSION_ID_STRING (2 * KBS_SESSION_ID_SIZE + 1)

typedef enum KbsSessionState {
        KBS_SESSION_FREE,
        KBS_SESSION_AUTHED,
        KBS_SESSION_ATTESTING,  /* the single attempt is under way */
        KBS_SESSION_FAILED,     /* the single attempt failed */
        KBS_SESSION_ATTESTED,
} KbsSessionState;

typedef struct KbsSession {
        KbsSessionState state;
        uint8_t id[KBS_SESSION_ID_SIZE];
        uint64_t created_usec, expires_usec, used_usec; /* CLOCK_MONOTONIC */
        KbsTee tee;
        char nonce[64]; /* base64 of KBS_NONCE_SIZE bytes */
        EVP_PKEY *tee_key;
        JwkAlg alg;
        uint64_t policy_mask;
        KbsSvsmChallenge svsm; /* svsm-vtpm: the credential made at auth */
} KbsSession;

typedef struct KbsSessions {
        pthread_mutex_t lock;
        KbsSession *table;
        unsigned size, used;
        uint64_t timeout_usec;
} KbsSessions;

int kbs_sessions_init(KbsSessions *s, unsigned max, unsigned timeout_sec);
void kbs_sessions_done(KbsSessions *s);
unsigned kbs_sessions_count(KbsSessions *s);

/* Makes a session with a fresh nonce; returns its id string and nonce. svsm (may be NULL) moves into
 * the session. */
int kbs_session_new(KbsSessions *s, KbsTee tee, KbsSvsmChallenge *svsm, char ret_id[KBS_SESSION_ID_STRING],
                    char ret_nonce[64]);

typedef enum KbsSessionError {
        KBS_SESSION_OK,
        KBS_SESSION_UNKNOWN,   /* no such id (or malformed) */
        KBS_SESSION_EXPIRED,
        KBS_SESSION_USED,      /* attestation already attempted */
        KBS_SESSION_NOT_ATTESTED,
} KbsSessionError;

/* Claims the session's one attestation attempt: copies tee and nonce out, and moves the svsm-vtpm
 * credential (if any) to ret_svsm (may be NULL). */
KbsSessionError kbs_session_begin_attest(KbsSessions *s, const char *id, KbsTee *ret_tee, char ret_nonce[64],
                                         KbsSvsmChallenge *ret_svsm);
/* Records a successful attestation (takes a reference to key). -ENOENT if the session is gone. */
int kbs_session_finish_attest(KbsSessions *s, const char *id, EVP_PKEY *key, JwkAlg alg, uint64_t policy_mask);
/* Records a failed attestation: the session stays used up, and becomes evictable. */
void kbs_session_fail_attest(KbsSessions *s, const char *id);
/* For a resource fetch: a new reference to the TEE key and the policy mask. */
KbsSessionError kbs_session_get_attested(KbsSessions *s, const char *id, EVP_PKEY **ret_key, JwkAlg *ret_alg,
                                         uint64_t *ret_mask);
