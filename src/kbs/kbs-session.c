/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "kbs-session.h"
#include "log.h"
#include "util.h"

#define SEAL_VERSION 1
#define IV_SIZE 12
#define TAG_SIZE 16
#define PLAIN_MAX 4096 /* an svsm-vtpm session (two TPM2B_PUBLIC) or a token fits with room */
static const char seal_aad[] = "ephroot-kbs session v1";

int kbs_session_keys_parse(KbsSessionKeys *k, const char *text, size_t size, unsigned timeout_sec, time_t now) {
        uint8_t *keys[2] = { k->current, k->previous };
        const char *p = text, *end = text + size;
        unsigned n = 0;

        assert_return(k && text, -EINVAL);
        *k = (KbsSessionKeys) {};
        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                size_t len = eol ? (size_t) (eol - p) : (size_t) (end - p);
                _cleanup_free_ void *b = NULL;
                char hex[2 * KBS_SESSION_KEY_SIZE + 1];
                size_t bn;

                if (len > 0 && p[len - 1] == '\r')
                        len--;
                if (len > 0) {
                        if (n >= 2 || len != 2 * KBS_SESSION_KEY_SIZE)
                                goto refuse;
                        memcpy(hex, p, len);
                        hex[len] = '\0';
                        if (unhexmem(hex, &b, &bn) < 0 || bn != KBS_SESSION_KEY_SIZE)
                                goto refuse;
                        memcpy(keys[n++], b, KBS_SESSION_KEY_SIZE);
                        OPENSSL_cleanse(b, bn);
                        OPENSSL_cleanse(hex, sizeof(hex));
                }
                p += (eol ? len + 1 + (p[len] == '\r') : len);
                if (!eol)
                        break;
        }
        if (n == 0)
                goto refuse;
        k->have_previous = n == 2;
        k->previous_until = now + (time_t) timeout_sec;
        return 0;
refuse:
        kbs_session_keys_done(k);
        return -EBADMSG;
}

int kbs_session_keys_load(KbsSessionKeys *k, const char *path, unsigned timeout_sec, time_t now) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        if (!path) {
                *k = (KbsSessionKeys) {};
                if (RAND_bytes(k->current, sizeof(k->current)) != 1) {
                        ERR_clear_error();
                        return log_error_errno(SYNTHETIC_ERRNO(EIO), "Failed to make a session key.");
                }
                return 0;
        }
        r = read_full_file_bounded(path, 4096, &text, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to read the session key file '%s': %m", path);
        r = kbs_session_keys_parse(k, text, size, timeout_sec, now);
        OPENSSL_cleanse(text, size);
        if (r < 0)
                return log_error_errno(r, "%s: not one or two lines of 64 hex digits (current key, previous key), refusing.",
                                       path);
        return 0;
}

void kbs_session_keys_done(KbsSessionKeys *k) {
        OPENSSL_cleanse(k, sizeof(*k));
}

void kbs_session_done(KbsSession *s) {
        kbs_svsm_challenge_done(&s->svsm);
        free(s->token);
        OPENSSL_cleanse(s, sizeof(*s));
}

int kbs_session_new(KbsTee tee, KbsSvsmChallenge *svsm, unsigned timeout_sec, time_t now, KbsSession *ret) {
        uint8_t raw[KBS_NONCE_SIZE];
        _cleanup_free_ char *nonce = NULL;

        assert_return(ret, -EINVAL);
        if (RAND_bytes(raw, sizeof(raw)) != 1) {
                ERR_clear_error();
                return -EIO;
        }
        nonce = b64_encode(raw, sizeof(raw), B64_PAD);
        if (!nonce)
                return -ENOMEM;
        *ret = (KbsSession) { .kind = KBS_SESSION_AUTHED, .tee = tee, .expires = (uint64_t) now + timeout_sec };
        if (strlen(nonce) >= sizeof(ret->nonce))
                return -EINVAL;
        strcpy(ret->nonce, nonce);
        if (svsm) {
                ret->svsm = *svsm;
                *svsm = (KbsSvsmChallenge) {};
        }
        return 0;
}

/* The plaintext: version, kind, tee, expires (u64 LE), then for an authed session the nonce (u8 length),
 * an svsm flag and the svsm secret, EK and AK (u16 LE lengths), for an attested one the token (u16 LE). */
static int put(uint8_t *buf, size_t *n, const void *p, size_t size) {
        if (*n + size > PLAIN_MAX)
                return -E2BIG;
        memcpy(buf + *n, p, size);
        *n += size;
        return 0;
}

static int put_blob16(uint8_t *buf, size_t *n, const void *p, size_t size) {
        uint8_t le[2] = { size & 0xff, size >> 8 };
        int r;

        if (size > 0xffff)
                return -E2BIG;
        r = put(buf, n, le, 2);
        return r < 0 ? r : put(buf, n, p, size);
}

static int serialize(const KbsSession *s, uint8_t *buf, size_t *ret_size) {
        uint8_t head[11] = { SEAL_VERSION, (uint8_t) s->kind, (uint8_t) s->tee };
        size_t n = 0;
        int r;

        for (unsigned i = 0; i < 8; i++)
                head[3 + i] = (uint8_t) (s->expires >> (8 * i));
        r = put(buf, &n, head, sizeof(head));
        if (r >= 0 && s->kind == KBS_SESSION_AUTHED) {
                uint8_t len = (uint8_t) strlen(s->nonce), has_svsm = s->svsm.ek != NULL;

                r = put(buf, &n, &len, 1);
                if (r >= 0)
                        r = put(buf, &n, s->nonce, len);
                if (r >= 0)
                        r = put(buf, &n, &has_svsm, 1);
                if (r >= 0 && has_svsm) {
                        r = put(buf, &n, s->svsm.secret, sizeof(s->svsm.secret));
                        if (r >= 0)
                                r = put_blob16(buf, &n, s->svsm.ek, s->svsm.ek_size);
                        if (r >= 0)
                                r = put_blob16(buf, &n, s->svsm.ak, s->svsm.ak_size);
                }
        } else if (r >= 0 && s->kind == KBS_SESSION_ATTESTED)
                r = s->token ? put_blob16(buf, &n, s->token, strlen(s->token)) : -EINVAL;
        else if (r >= 0)
                r = -EINVAL;
        *ret_size = n;
        return r;
}

typedef struct Reader {
        const uint8_t *p;
        size_t left;
} Reader;

static const uint8_t *take(Reader *rd, size_t size) {
        const uint8_t *p = rd->p;

        if (size > rd->left)
                return NULL;
        rd->p += size;
        rd->left -= size;
        return p;
}

static int take_blob16(Reader *rd, size_t max, const uint8_t **ret, size_t *ret_size) {
        const uint8_t *le = take(rd, 2);
        size_t size;

        if (!le)
                return -EBADMSG;
        size = (size_t) le[0] | (size_t) le[1] << 8;
        if (size > max || !(*ret = take(rd, size)))
                return -EBADMSG;
        *ret_size = size;
        return 0;
}

static int deserialize(const uint8_t *buf, size_t size, KbsSession *ret) {
        Reader rd = { buf, size };
        const uint8_t *head = take(&rd, 11), *p;
        KbsSession s = {};
        size_t n;

        if (!head || head[0] != SEAL_VERSION || head[2] >= _KBS_TEE_SUPPORTED)
                return -EBADMSG;
        s.kind = head[1];
        s.tee = head[2];
        for (unsigned i = 0; i < 8; i++)
                s.expires |= (uint64_t) head[3 + i] << (8 * i);
        if (s.kind == KBS_SESSION_AUTHED) {
                const uint8_t *len = take(&rd, 1), *has_svsm;

                if (!len || *len >= sizeof(s.nonce) || !(p = take(&rd, *len)) || !(has_svsm = take(&rd, 1)))
                        return -EBADMSG;
                memcpy(s.nonce, p, *len);
                if (*has_svsm) {
                        const uint8_t *secret = take(&rd, KBS_SVSM_SECRET_SIZE), *ek, *ak;
                        size_t ek_size, ak_size;

                        if (!secret || take_blob16(&rd, KBS_SVSM_TPM2B_MAX, &ek, &ek_size) < 0 ||
                            take_blob16(&rd, KBS_SVSM_TPM2B_MAX, &ak, &ak_size) < 0)
                                return -EBADMSG;
                        memcpy(s.svsm.secret, secret, KBS_SVSM_SECRET_SIZE);
                        s.svsm.ek = malloc(ek_size > 0 ? ek_size : 1);
                        s.svsm.ak = malloc(ak_size > 0 ? ak_size : 1);
                        if (s.svsm.ek)
                                memcpy(s.svsm.ek, ek, ek_size);
                        if (s.svsm.ak)
                                memcpy(s.svsm.ak, ak, ak_size);
                        s.svsm.ek_size = ek_size;
                        s.svsm.ak_size = ak_size;
                        if (!s.svsm.ek || !s.svsm.ak) {
                                kbs_session_done(&s);
                                return -ENOMEM;
                        }
                }
        } else if (s.kind == KBS_SESSION_ATTESTED) {
                if (take_blob16(&rd, PLAIN_MAX, &p, &n) < 0 || memchr(p, '\0', n))
                        return -EBADMSG;
                s.token = strndup((const char *) p, n);
                if (!s.token)
                        return -ENOMEM;
        } else
                return -EBADMSG;
        if (rd.left != 0) {
                kbs_session_done(&s);
                return -EBADMSG;
        }
        *ret = s;
        return 0;
}

static int gcm(bool enc, const uint8_t key[KBS_SESSION_KEY_SIZE], const uint8_t iv[IV_SIZE], const uint8_t *in,
               size_t size, uint8_t *out, uint8_t tag[TAG_SIZE]) {
        EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        int len = 0, fin = 0;
        bool ok;

        if (!ctx)
                return -ENOMEM;
        ok = (enc ? EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv)
                  : EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv)) == 1 &&
             (enc ? EVP_EncryptUpdate(ctx, NULL, &len, (const uint8_t *) seal_aad, sizeof(seal_aad) - 1)
                  : EVP_DecryptUpdate(ctx, NULL, &len, (const uint8_t *) seal_aad, sizeof(seal_aad) - 1)) == 1 &&
             (enc ? EVP_EncryptUpdate(ctx, out, &len, in, (int) size) : EVP_DecryptUpdate(ctx, out, &len, in, (int) size)) == 1;
        if (ok && !enc)
                ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_SIZE, tag) == 1;
        ok = ok && (enc ? EVP_EncryptFinal_ex(ctx, out + len, &fin) : EVP_DecryptFinal_ex(ctx, out + len, &fin)) == 1;
        if (ok && enc)
                ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_SIZE, tag) == 1;
        EVP_CIPHER_CTX_free(ctx);
        ERR_clear_error();
        return ok ? 0 : (enc ? -EIO : -EBADMSG);
}

int kbs_session_seal(const KbsSessionKeys *k, const KbsSession *s, char **ret) {
        uint8_t plain[PLAIN_MAX], sealed[IV_SIZE + PLAIN_MAX + TAG_SIZE];
        size_t n;
        char *out;
        int r;

        assert_return(k && s && ret, -EINVAL);
        r = serialize(s, plain, &n);
        if (r >= 0 && RAND_bytes(sealed, IV_SIZE) != 1)
                r = -EIO;
        if (r >= 0)
                r = gcm(true, k->current, sealed, plain, n, sealed + IV_SIZE, sealed + IV_SIZE + n);
        OPENSSL_cleanse(plain, sizeof(plain));
        ERR_clear_error();
        if (r < 0)
                return r;
        out = b64url_encode(sealed, IV_SIZE + n + TAG_SIZE);
        if (!out)
                return -ENOMEM;
        *ret = out;
        return 0;
}

KbsSessionError kbs_session_open(const KbsSessionKeys *k, const char *cookie, time_t now, KbsSession *ret) {
        _cleanup_free_ uint8_t *raw = NULL;
        uint8_t plain[PLAIN_MAX];
        size_t n, len;
        int r = -EBADMSG;

        assert_return(k && ret, KBS_SESSION_UNKNOWN);
        if (!cookie || (len = strlen(cookie)) > KBS_SESSION_COOKIE_MAX ||
            b64_decode(cookie, len, B64_URL, &raw, &n) < 0 || n < IV_SIZE + TAG_SIZE + 11 ||
            n - IV_SIZE - TAG_SIZE > PLAIN_MAX)
                return KBS_SESSION_UNKNOWN;
        n -= IV_SIZE + TAG_SIZE;
        if (gcm(false, k->current, raw, raw + IV_SIZE, n, plain, raw + IV_SIZE + n) == 0 ||
            (k->have_previous && now < k->previous_until &&
             gcm(false, k->previous, raw, raw + IV_SIZE, n, plain, raw + IV_SIZE + n) == 0))
                r = deserialize(plain, n, ret);
        OPENSSL_cleanse(plain, sizeof(plain));
        if (r < 0)
                return KBS_SESSION_UNKNOWN;
        if ((uint64_t) now >= ret->expires) {
                kbs_session_done(ret);
                return KBS_SESSION_EXPIRED;
        }
        return KBS_SESSION_OK;
}

const char *kbs_session_error_to_string(KbsSessionError e) {
        switch (e) {
        case KBS_SESSION_EXPIRED:
                return "session expired";
        case KBS_SESSION_OK:
                return "session valid";
        default:
                return "no valid session (missing, or a kbs-session-id cookie this broker did not seal)";
        }
}
