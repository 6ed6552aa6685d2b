/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "kbs-session.h"
#include "util.h"

static void session_clear(KbsSessions *s, KbsSession *e) {
        if (e->state == KBS_SESSION_FREE)
                return;
        EVP_PKEY_free(e->tee_key);
        kbs_svsm_challenge_done(&e->svsm);
        OPENSSL_cleanse(e, sizeof(*e));
        e->state = KBS_SESSION_FREE;
        s->used--;
}

int kbs_sessions_init(KbsSessions *s, unsigned max, unsigned timeout_sec) {
        assert_return(s && max > 0, -EINVAL);

        *s = (KbsSessions) { .size = max, .timeout_usec = (uint64_t) timeout_sec * 1000000ULL };
        s->table = calloc(max, sizeof(KbsSession));
        if (!s->table)
                return -ENOMEM;
        if (pthread_mutex_init(&s->lock, NULL) != 0) {
                free(s->table);
                return -ENOMEM;
        }
        return 0;
}

void kbs_sessions_done(KbsSessions *s) {
        if (!s->table)
                return;
        for (unsigned i = 0; i < s->size; i++)
                session_clear(s, s->table + i);
        free(s->table);
        pthread_mutex_destroy(&s->lock);
        *s = (KbsSessions) {};
}

unsigned kbs_sessions_count(KbsSessions *s) {
        unsigned n;

        pthread_mutex_lock(&s->lock);
        n = s->used;
        pthread_mutex_unlock(&s->lock);
        return n;
}

static int parse_id(const char *id, uint8_t out[KBS_SESSION_ID_SIZE]) {
        _cleanup_free_ void *b = NULL;
        size_t n;

        if (!id || strlen(id) != 2 * KBS_SESSION_ID_SIZE || unhexmem(id, &b, &n) < 0 || n != KBS_SESSION_ID_SIZE)
                return -EINVAL;
        memcpy(out, b, KBS_SESSION_ID_SIZE);
        return 0;
}

/* Under the lock: the live session with this id, expired ones being dropped on the way. */
static KbsSession *find(KbsSessions *s, const char *id, KbsSessionError *ret_error) {
        uint8_t raw[KBS_SESSION_ID_SIZE];
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        *ret_error = KBS_SESSION_UNKNOWN;
        if (parse_id(id, raw) < 0)
                return NULL;
        for (unsigned i = 0; i < s->size; i++) {
                KbsSession *e = s->table + i;
                if (e->state == KBS_SESSION_FREE || CRYPTO_memcmp(e->id, raw, sizeof(raw)) != 0)
                        continue;
                if (now >= e->expires_usec) {
                        session_clear(s, e);
                        *ret_error = KBS_SESSION_EXPIRED;
                        return NULL;
                }
                *ret_error = KBS_SESSION_OK;
                return e;
        }
        return NULL;
}

/* Under the lock: a free slot. When the table is full: expired sessions go first, then the least
 * recently used one (made, attested or fetched from longest ago), whatever its state, except one whose
 * attestation is being verified. A client is thus only evicted if the whole table turns over within
 * its own round trip. */
static KbsSession *free_slot(KbsSessions *s) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        KbsSession *victim = NULL;

        if (s->used < s->size)
                for (unsigned i = 0; i < s->size; i++)
                        if (s->table[i].state == KBS_SESSION_FREE)
                                return s->table + i;
        for (unsigned i = 0; i < s->size; i++)
                if (s->table[i].state != KBS_SESSION_FREE && now >= s->table[i].expires_usec)
                        session_clear(s, s->table + i);
        for (unsigned i = 0; i < s->size; i++) {
                KbsSession *e = s->table + i;

                if (e->state == KBS_SESSION_FREE)
                        return e;
                if (e->state != KBS_SESSION_ATTESTING && (!victim || e->used_usec < victim->used_usec))
                        victim = e;
        }
        if (victim)
                session_clear(s, victim);
        return victim;
}

int kbs_session_new(KbsSessions *s, KbsTee tee, KbsSvsmChallenge *svsm, char ret_id[KBS_SESSION_ID_STRING],
                    char ret_nonce[64]) {
        uint8_t id[KBS_SESSION_ID_SIZE], nonce[KBS_NONCE_SIZE];
        _cleanup_free_ char *nonce_b64 = NULL, *id_hex = NULL;
        KbsSession *e;

        if (RAND_bytes(id, sizeof(id)) != 1 || RAND_bytes(nonce, sizeof(nonce)) != 1)
                return -EIO;
        nonce_b64 = b64_encode(nonce, sizeof(nonce), B64_PAD);
        id_hex = hexmem(id, sizeof(id));
        if (!nonce_b64 || !id_hex || strlen(nonce_b64) >= 64)
                return -ENOMEM;

        pthread_mutex_lock(&s->lock);
        e = free_slot(s);
        if (!e) {
                pthread_mutex_unlock(&s->lock);
                return -EBUSY;
        }
        *e = (KbsSession) {
                .state = KBS_SESSION_AUTHED,
                .created_usec = now_usec(CLOCK_MONOTONIC),
                .tee = tee,
        };
        e->used_usec = e->created_usec;
        e->expires_usec = e->created_usec + s->timeout_usec;
        if (svsm) {
                e->svsm = *svsm;
                *svsm = (KbsSvsmChallenge) {};
        }
        memcpy(e->id, id, sizeof(id));
        strcpy(e->nonce, nonce_b64);
        s->used++;
        pthread_mutex_unlock(&s->lock);

        strcpy(ret_id, id_hex);
        strcpy(ret_nonce, nonce_b64);
        return 0;
}

KbsSessionError kbs_session_begin_attest(KbsSessions *s, const char *id, KbsTee *ret_tee, char ret_nonce[64],
                                         KbsSvsmChallenge *ret_svsm) {
        KbsSessionError err;
        KbsSession *e;

        pthread_mutex_lock(&s->lock);
        e = find(s, id, &err);
        if (e && e->state != KBS_SESSION_AUTHED)
                err = KBS_SESSION_USED;
        if (err == KBS_SESSION_OK) {
                e->state = KBS_SESSION_ATTESTING;
                e->used_usec = now_usec(CLOCK_MONOTONIC);
                *ret_tee = e->tee;
                strcpy(ret_nonce, e->nonce);
                if (ret_svsm) {
                        *ret_svsm = e->svsm;
                        e->svsm = (KbsSvsmChallenge) {};
                }
        }
        pthread_mutex_unlock(&s->lock);
        return err;
}

int kbs_session_finish_attest(KbsSessions *s, const char *id, EVP_PKEY *key, JwkAlg alg, uint64_t policy_mask) {
        KbsSessionError err;
        KbsSession *e;
        int r = -ENOENT;

        pthread_mutex_lock(&s->lock);
        e = find(s, id, &err);
        if (e && e->state == KBS_SESSION_ATTESTING && EVP_PKEY_up_ref(key) == 1) {
                e->tee_key = key;
                e->alg = alg;
                e->policy_mask = policy_mask;
                e->state = KBS_SESSION_ATTESTED;
                e->used_usec = now_usec(CLOCK_MONOTONIC);
                r = 0;
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}

void kbs_session_fail_attest(KbsSessions *s, const char *id) {
        KbsSessionError err;
        KbsSession *e;

        pthread_mutex_lock(&s->lock);
        e = find(s, id, &err);
        if (e && e->state == KBS_SESSION_ATTESTING)
                e->state = KBS_SESSION_FAILED;
        pthread_mutex_unlock(&s->lock);
}

KbsSessionError kbs_session_get_attested(KbsSessions *s, const char *id, EVP_PKEY **ret_key, JwkAlg *ret_alg,
                                         uint64_t *ret_mask) {
        KbsSessionError err;
        KbsSession *e;

        pthread_mutex_lock(&s->lock);
        e = find(s, id, &err);
        if (e && e->state != KBS_SESSION_ATTESTED)
                err = KBS_SESSION_NOT_ATTESTED;
        if (err == KBS_SESSION_OK) {
                if (EVP_PKEY_up_ref(e->tee_key) != 1)
                        err = KBS_SESSION_UNKNOWN;
                else {
                        *ret_key = e->tee_key;
                        *ret_alg = e->alg;
                        *ret_mask = e->policy_mask;
                        e->used_usec = now_usec(CLOCK_MONOTONIC);
                }
        }
        pthread_mutex_unlock(&s->lock);
        return err;
}
