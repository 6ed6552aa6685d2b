/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "jwe.h"
#include "json-util.h"
#include "kbs-protocol.h"
#include "kbs-server.h"
#include "kbs-token.h"
#include "log.h"
#include "rcar.h"
#include "util.h"

#define KBS_TLS_FILE_MAX (64U * 1024U)
#define KBS_CONNECTION_TIMEOUT_SEC 10U
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

typedef struct Request {
        char *body;
        size_t size, allocated;
        size_t charged;         /* bytes of the memory budget this request holds */
        uint64_t start_usec;    /* CLOCK_MONOTONIC, when the handler first saw it */
        bool too_big, over_budget;
} Request;

#define KBS_RETRY_AFTER_SEC "1"

static enum MHD_Result reply_full(KbsServer *s, struct MHD_Connection *c, unsigned status, char *body,
                                  const char *set_cookie, const char *retry_after) {
        struct MHD_Response *resp;
        enum MHD_Result ret;

        if (!body)
                body = strdup("{\"type\":\"https://github.com/confidential-containers/kbs/errors/InternalError\",\"detail\":\"out of memory\"}");
        if (!body)
                return MHD_NO;
        resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(body);
                return MHD_NO;
        }
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        if (set_cookie)
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, set_cookie);
        if (retry_after)
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
        if (status >= 400)
                atomic_fetch_add(&s->errors, 1);
        ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static enum MHD_Result reply(KbsServer *s, struct MHD_Connection *c, unsigned status, char *body,
                             const char *set_cookie) {
        return reply_full(s, c, status, body, set_cookie, NULL);
}

static enum MHD_Result reply_error(KbsServer *s, struct MHD_Connection *c, unsigned status, const char *type,
                                   const char *detail) {
        return reply(s, c, status, kbs_error_body(type, detail), NULL);
}

/* 503 with Retry-After: the client comes back, or (ephroot's) tries another replica first. */
static enum MHD_Result reply_busy(KbsServer *s, struct MHD_Connection *c, const char *detail) {
        atomic_fetch_add(&s->busy, 1);
        return reply_full(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, kbs_error_body("ServiceUnavailable", detail), NULL,
                          KBS_RETRY_AFTER_SEC);
}

/* Takes n more bytes of the request body budget for req; false when the budget is spent. */
static bool budget_charge(KbsServer *s, Request *req, size_t n) {
        size_t cur = atomic_load(&s->body_bytes);

        do {
                if (cur + n > s->config->request_memory_budget)
                        return false;
        } while (!atomic_compare_exchange_weak(&s->body_bytes, &cur, cur + n));
        req->charged += n;
        return true;
}

static void budget_release(KbsServer *s, Request *req) {
        if (req->charged > 0)
                atomic_fetch_sub(&s->body_bytes, req->charged);
        req->charged = 0;
}

static void request_drop_body(KbsServer *s, Request *req) {
        if (req->body)
                OPENSSL_cleanse(req->body, req->allocated);
        req->body = mfree(req->body);
        req->size = req->allocated = 0;
        budget_release(s, req);
}

/* {"token": ...}; NULL when out of memory. */
static char *token_reply(const char *token) {
        _cleanup_json_ json_object *o = json_object_new_object();
        char *body = NULL;

        if (!o || json_add_string(o, "token", token) < 0 || json_to_string(o, JSON_C_TO_STRING_PLAIN, &body) < 0)
                return NULL;
        return body;
}

/* {"nonce": ..., "extra-params": the tee's challenge, or ""}; takes extra; NULL when out of memory. */
static char *auth_reply(const char *nonce, json_object *extra) {
        _cleanup_json_ json_object *o = json_object_new_object(), *e = extra;
        char *body = NULL;

        if (!o || json_add_string(o, "nonce", nonce) < 0 ||
            json_add(o, "extra-params", e ? TAKE_PTR(e) : json_object_new_string("")) < 0 ||
            json_to_string(o, JSON_C_TO_STRING_PLAIN, &body) < 0)
                return NULL;
        return body;
}

/* "kbs-session-id=<sealed>; Path=/kbs/v0; HttpOnly; Max-Age=<left>", malloc'd; NULL when out of memory. */
static char *session_cookie(KbsServer *s, const KbsSession *session, time_t now) {
        _cleanup_free_ char *sealed = NULL;
        char *cookie = NULL;

        if (kbs_session_seal(&s->session_keys, session, &sealed) < 0 ||
            asprintf(&cookie, "kbs-session-id=%s; Path=/kbs/v0; HttpOnly; Max-Age=%llu", sealed,
                     (unsigned long long) (session->expires > (uint64_t) now ? session->expires - (uint64_t) now : 0)) < 0)
                return NULL;
        return cookie;
}

static enum MHD_Result handle_auth(KbsServer *s, struct MHD_Connection *c, const Request *req) {
        _cleanup_(kbs_svsm_challenge_done) KbsSvsmChallenge svsm = {};
        _cleanup_(kbs_session_done) KbsSession session = {};
        _cleanup_json_ json_object *extra = NULL, *reply_extra = NULL;
        _cleanup_free_ char *cookie = NULL;
        const char *detail = NULL;
        time_t now = time(NULL);
        char *body;
        KbsTee tee;
        int r;

        r = kbs_parse_auth(req->body, req->size, &tee, &extra, &detail);
        if (r < 0)
                return reply_error(s, c, MHD_HTTP_UNAUTHORIZED, KBS_ERR_ATTESTATION, detail);
        if (tee == KBS_TEE_SVSM_VTPM) {
                r = kbs_svsm_challenge_new(extra, &svsm, &reply_extra, &detail);
                if (r == -ENOMEM || r == -EIO)
                        return reply_error(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "failed to make a credential");
                if (r < 0)
                        return reply_error(s, c, MHD_HTTP_UNAUTHORIZED, KBS_ERR_ATTESTATION, detail);
        }
        r = kbs_session_new(tee, &svsm, s->config->session_timeout, now, &session);
        cookie = r >= 0 ? session_cookie(s, &session, now) : NULL;
        if (!cookie)
                return reply_error(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "failed to make a session");
        body = auth_reply(session.nonce, TAKE_PTR(reply_extra));
        log_debug("auth: new session for tee %s", kbs_tee_to_string(tee));
        return reply(s, c, MHD_HTTP_OK, body, cookie);
}

/* Verifies the evidence of an authed session and issues the token. 0, or the HTTP status with
 * *ret_type and *ret_detail. */
static unsigned attest_session(KbsServer *s, KbsSession *session, const Request *req, char **ret_token,
                               const char **ret_type, const char **ret_detail) {
        _cleanup_(kbs_attest_request_done) KbsAttestRequest a = {};
        _cleanup_(kbs_claims_done) KbsClaims claims = {};
        _cleanup_pkey_ EVP_PKEY *tee_key = NULL;
        uint8_t report_data[RCAR_REPORT_DATA_SIZE];
        KbsVerifyContext ctx = s->verify;
        uint64_t mask = 0;
        JwkAlg alg;
        int r;

        *ret_type = KBS_ERR_ATTESTATION;
        r = kbs_parse_attest(req->body, req->size, &a, ret_detail);
        if (r < 0)
                return MHD_HTTP_UNAUTHORIZED;
        if (!streq(a.nonce, session->nonce)) {
                *ret_detail = "runtime-data nonce is not this session's nonce";
                return MHD_HTTP_UNAUTHORIZED;
        }
        if (jwk_parse_tee_key(a.tee_pubkey, &tee_key, &alg) < 0) {
                *ret_detail = "tee-pubkey is not a valid EC P-256/P-521 (ECDH-ES+A256KW) or RSA (RSA-OAEP-256) JWK";
                return MHD_HTTP_UNAUTHORIZED;
        }
        if (rcar_report_data(a.nonce, a.tee_pubkey, a.additional_evidence, report_data) < 0) {
                *ret_detail = "runtime data cannot be canonicalised (RFC 8785)";
                return MHD_HTTP_UNAUTHORIZED;
        }

        ctx.svsm = &session->svsm;
        r = kbs_verify(&ctx, session->tee, a.evidence, report_data, sizeof(report_data), &claims, ret_detail);
        if (r < 0) {
                log_info("attest: %s evidence refused: %s", kbs_tee_to_string(session->tee), *ret_detail);
                return MHD_HTTP_UNAUTHORIZED;
        }
        if (a.have_init_data &&
            kbs_check_init_data(&claims, a.init_data_digest.bytes, a.init_data_digest.size, ret_detail) < 0)
                return MHD_HTTP_UNAUTHORIZED;
        r = kbs_policy_evaluate(s->policies, &claims, &mask, ret_detail);
        if (r < 0) {
                log_info("attest: %s evidence verified, policy refused: %s", kbs_tee_to_string(session->tee), *ret_detail);
                *ret_type = KBS_ERR_POLICY_DENY;
                return MHD_HTTP_UNAUTHORIZED;
        }
        r = kbs_token_issue(s->token_key, &claims, s->policies, mask, a.tee_pubkey, s->config->session_timeout, ret_token);
        if (r < 0) {
                *ret_type = "InternalError";
                *ret_detail = "failed to issue a token";
                return MHD_HTTP_INTERNAL_SERVER_ERROR;
        }
        log_info("attest: %s evidence verified, policy mask 0x%llx%s", kbs_tee_to_string(session->tee),
                 (unsigned long long) mask, claims.td_quote_unverified ? " (TD quote signature unverified)" : "");
        return 0;
}

/* Trustee's semantics (kbs/src/attestation/backend.rs at 78962cd4): an attested session attesting again
 * gets its token back; a failed attempt leaves the session as it was, usable until it expires. The
 * session comes back in a new cookie carrying the token. */
static enum MHD_Result handle_attest(KbsServer *s, struct MHD_Connection *c, const Request *req) {
        _cleanup_(kbs_session_done) KbsSession session = {};
        _cleanup_free_ char *token = NULL, *cookie = NULL;
        const char *type = NULL, *detail = NULL;
        time_t now = time(NULL);
        KbsSessionError se;
        unsigned status;

        se = kbs_session_open(&s->session_keys, MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "kbs-session-id"), now,
                              &session);
        if (se != KBS_SESSION_OK)
                return reply_error(s, c, MHD_HTTP_UNAUTHORIZED, KBS_ERR_ATTESTATION, kbs_session_error_to_string(se));
        if (session.kind == KBS_SESSION_ATTESTED) {
                log_debug("attest: session already attested, returning its token");
                return reply(s, c, MHD_HTTP_OK, token_reply(session.token), NULL);
        }
        status = attest_session(s, &session, req, &token, &type, &detail);
        if (status != 0)
                return reply_error(s, c, status, type, detail);

        /* the attested session: the token, until the authed session would have expired */
        kbs_svsm_challenge_done(&session.svsm);
        session.kind = KBS_SESSION_ATTESTED;
        session.token = TAKE_PTR(token);
        cookie = session_cookie(s, &session, now);
        if (!cookie)
                return reply_error(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "failed to seal the session");
        return reply(s, c, MHD_HTTP_OK, token_reply(session.token), cookie);
}

/* Opens resource_dir/repo/type/tag without following symlinks. */
static int open_resource(int dir_fd, const char *repo, const char *type, const char *tag) {
        _cleanup_close_ int a = -EBADF, b = -EBADF;
        int fd;

        a = openat(dir_fd, repo, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (a < 0)
                return -errno;
        b = openat(a, type, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (b < 0)
                return -errno;
        fd = openat(b, tag, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        return fd;
}

/* The token of a resource request, as Trustee takes it (kbs/src/api_server.rs get_attestation_token at
 * 78962cd4): the attested session's, else "Authorization: Bearer <token>". The token must be this
 * broker's, unexpired; its tee-pubkey encrypts the resource and its policies decide the release. */
static int resource_grant(KbsServer *s, struct MHD_Connection *c, EVP_PKEY **ret_key, JwkAlg *ret_alg, uint64_t *ret_mask,
                          const char **ret_detail) {
        _cleanup_(kbs_session_done) KbsSession session = {};
        _cleanup_json_ json_object *claims = NULL;
        const char *token = NULL, *auth;
        time_t now = time(NULL);
        json_object *pk, *names;

        if (kbs_session_open(&s->session_keys, MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "kbs-session-id"), now,
                             &session) == KBS_SESSION_OK && session.kind == KBS_SESSION_ATTESTED)
                token = session.token;
        auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!token && auth && strncasecmp(auth, "Bearer ", 7) == 0)
                token = auth + 7 + strspn(auth + 7, " ");
        if (!token) {
                *ret_detail = "no attested session and no Bearer token";
                return -EACCES;
        }
        if (kbs_token_verify(s->token_key, token, now, &claims, ret_detail) < 0)
                return -EACCES;
        if (!json_object_object_get_ex(claims, "tee-pubkey", &pk) || jwk_parse_tee_key(pk, ret_key, ret_alg) < 0) {
                *ret_detail = "attestation token has no valid tee-pubkey";
                return -EACCES;
        }
        if (!json_object_object_get_ex(claims, "policies", &names) || !json_object_is_type(names, json_type_array)) {
                EVP_PKEY_free(TAKE_PTR(*ret_key));
                *ret_detail = "attestation token has no policies";
                return -EACCES;
        }
        *ret_mask = kbs_policy_mask_from_names(s->policies, names);
        return 0;
}

static enum MHD_Result handle_resource(KbsServer *s, struct MHD_Connection *c, const char *url) {
        char repo[KBS_RESOURCE_COMPONENT_MAX + 1], type[KBS_RESOURCE_COMPONENT_MAX + 1], tag[KBS_RESOURCE_COMPONENT_MAX + 1];
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        _cleanup_close_ int fd = -EBADF;
        char *data = NULL, *jwe = NULL;
        const char *detail = NULL;
        struct stat st;
        uint64_t mask;
        JwkAlg alg;
        size_t size;
        int r;

        if (kbs_parse_resource_path(url, repo, type, tag) < 0)
                return reply_error(s, c, MHD_HTTP_NOT_FOUND, KBS_ERR_INVALID_PATH,
                                   "resource path must be /kbs/v0/resource/<repo>/<type>/<tag> of [A-Za-z0-9._-]");
        r = resource_grant(s, c, &key, &alg, &mask, &detail);
        if (r < 0)
                return reply_error(s, c, MHD_HTTP_UNAUTHORIZED, KBS_ERR_TOKEN_NOT_FOUND, detail);
        if (!kbs_policy_releases(s->policies, mask, repo, type, tag)) {
                log_info("resource: %s/%s/%s refused by policy", repo, type, tag);
                return reply_error(s, c, MHD_HTTP_UNAUTHORIZED, KBS_ERR_POLICY_DENY, "no policy that held releases this resource");
        }

        fd = open_resource(s->resource_dir_fd, repo, type, tag);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return reply_error(s, c, MHD_HTTP_UNAUTHORIZED, KBS_ERR_PLUGIN, "resource not found");
        r = read_full_fd_bounded(fd, s->config->max_resource_size, &data, &size);
        if (r < 0) {
                log_error_errno(r, "Failed to read resource '%s/%s/%s': %m", repo, type, tag);
                return reply_error(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "resource cannot be read");
        }
        r = jwe_encrypt(key, alg, data, size, &jwe);
        OPENSSL_cleanse(data, size);
        free(data);
        if (r < 0)
                return reply_error(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "failed to encrypt the resource");
        log_info("resource: %s/%s/%s released (%zu bytes)", repo, type, tag, size);
        return reply(s, c, MHD_HTTP_OK, jwe, NULL);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls) {
        KbsServer *s = cls;
        Request *req = *con_cls;
        bool post = streq(method, MHD_HTTP_METHOD_POST);

        if (!req) {
                const char *cl;
                req = calloc(1, sizeof(Request));
                if (!req)
                        return MHD_NO;
                *con_cls = req;
                req->start_usec = now_usec(CLOCK_MONOTONIC);
                atomic_fetch_add(&s->requests, 1);
                cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
                if (cl && strtoull(cl, NULL, 10) > s->config->max_request_size)
                        req->too_big = true;
                /* a declared body is charged to the budget in full before any of it is read */
                else if (cl && post && !budget_charge(s, req, (size_t) strtoull(cl, NULL, 10) + 1))
                        req->over_budget = true;
                if (req->over_budget) /* answered at once: the body is not read */
                        return reply_busy(s, c, "request bodies in flight are at request_memory_budget");
                if (!req->too_big)
                        return MHD_YES;
        }

        /* the total deadline: a body trickled byte by byte does not hold its slot past it */
        if (now_usec(CLOCK_MONOTONIC) - req->start_usec > (uint64_t) s->config->request_deadline * 1000000U) {
                request_drop_body(s, req);
                if (*upload_data_size > 0) {
                        log_debug("request: over request_deadline while uploading, closing the connection");
                        return MHD_NO;
                }
                return reply_busy(s, c, "request took longer than request_deadline");
        }

        if (*upload_data_size > 0) {
                size_t n = *upload_data_size;
                *upload_data_size = 0;
                if (req->too_big || req->over_budget || !post)
                        return MHD_YES; /* discard; answered once the upload is over */
                if (req->size + n > s->config->max_request_size) {
                        req->too_big = true;
                        request_drop_body(s, req);
                        return MHD_YES;
                }
                if (req->size + n + 1 > req->allocated) {
                        size_t want = MIN(MAX(req->allocated * 2, req->size + n + 1), s->config->max_request_size + 1);
                        char *p;

                        if (want > req->charged && !budget_charge(s, req, want - req->charged)) {
                                req->over_budget = true;
                                request_drop_body(s, req);
                                return MHD_YES;
                        }
                        p = realloc(req->body, want);
                        if (!p)
                                return MHD_NO;
                        req->body = p;
                        req->allocated = want;
                }
                memcpy(req->body + req->size, upload_data, n);
                req->size += n;
                req->body[req->size] = '\0';
                return MHD_YES;
        }

        if (req->too_big)
                return reply_error(s, c, 413, "RequestTooLarge", "request body is too large");
        if (req->over_budget)
                return reply_busy(s, c, "request bodies in flight are at request_memory_budget");

        if (streq(url, "/kbs/v0/auth") || streq(url, "/kbs/v0/attest")) {
                if (!post)
                        return reply_error(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "InvalidRequest", "method not allowed");
                if (req->size == 0)
                        return reply_error(s, c, MHD_HTTP_UNAUTHORIZED, KBS_ERR_ATTESTATION, "request body is empty");
                return streq(url, "/kbs/v0/auth") ? handle_auth(s, c, req) : handle_attest(s, c, req);
        }
        if (startswith(url, "/kbs/v0/resource/")) {
                if (!streq(method, MHD_HTTP_METHOD_GET))
                        return reply_error(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "InvalidRequest", "method not allowed");
                return handle_resource(s, c, url);
        }
        return reply_error(s, c, MHD_HTTP_NOT_FOUND, KBS_ERR_INVALID_PATH, "no such endpoint");
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
        Request *req = *con_cls;

        if (!req)
                return;
        request_drop_body(cls, req);
        free(req);
        *con_cls = NULL;
}

_printf_(2, 0) static void mhd_log(void *cls, const char *fmt, va_list ap) {
        char buf[512];

        (void) vsnprintf(buf, sizeof(buf), fmt, ap);
        log_debug("libmicrohttpd: %s", strip_trailing_newlines(buf));
}

int kbs_server_start(KbsServer *s, const KbsConfig *config, const KbsPolicySet *policies) {
        struct sockaddr_storage sa = {};
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
        const union MHD_DaemonInfo *info;
        int r;

        *s = (KbsServer) { .config = config, .policies = policies, .resource_dir_fd = -EBADF };
        s->verify.amd_roots = policies->amd_roots;
        s->verify.intel_roots = policies->intel_roots;

        if (inet_pton(AF_INET, config->address, &((struct sockaddr_in *) &sa)->sin_addr) == 1) {
                ((struct sockaddr_in *) &sa)->sin_family = AF_INET;
                ((struct sockaddr_in *) &sa)->sin_port = htons((uint16_t) config->port);
        } else if (inet_pton(AF_INET6, config->address, &((struct sockaddr_in6 *) &sa)->sin6_addr) == 1) {
                ((struct sockaddr_in6 *) &sa)->sin6_family = AF_INET6;
                ((struct sockaddr_in6 *) &sa)->sin6_port = htons((uint16_t) config->port);
                flags |= MHD_USE_IPv6;
        } else
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Failed to parse listen address '%s': not an IP address.",
                                       config->address);

        s->resource_dir_fd = open(config->resource_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->resource_dir_fd < 0)
                return log_error_errno(errno, "Failed to open resource directory '%s': %m", config->resource_dir);

        r = kbs_session_keys_load(&s->session_keys, config->session_key_file, config->session_timeout, time(NULL));
        if (r < 0)
                return r;
        if (config->token_key_file) {
                r = kbs_token_key_load(config->token_key_file, &s->token_key);
                if (r < 0)
                        return log_error_errno(r, "Failed to load the token key '%s' (a PEM EC P-256 private key): %m",
                                               config->token_key_file);
        } else {
                r = kbs_token_key_new(&s->token_key);
                if (r < 0)
                        return log_error_errno(r, "Failed to make the token signing key: %m");
        }

        if (config->tls_certificate) {
                r = read_full_file_bounded(config->tls_certificate, KBS_TLS_FILE_MAX, &s->tls_cert, NULL);
                if (r < 0)
                        return log_error_errno(r, "Failed to read TLS certificate '%s': %m", config->tls_certificate);
                r = read_full_file_bounded(config->tls_private_key, KBS_TLS_FILE_MAX, &s->tls_key, &s->tls_key_size);
                if (r < 0)
                        return log_error_errno(r, "Failed to read TLS private key '%s': %m", config->tls_private_key);
                flags |= MHD_USE_TLS;
        }

        s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, s,
                                     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                                     MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &sa,
                                     MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                                     MHD_OPTION_THREAD_POOL_SIZE, (unsigned) config->threads,
                                     MHD_OPTION_CONNECTION_LIMIT, (unsigned) config->connection_limit,
                                     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned) config->per_ip_connection_limit,
                                     MHD_OPTION_CONNECTION_TIMEOUT, KBS_CONNECTION_TIMEOUT_SEC,
                                     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 64 * 1024,
                                     config->tls_certificate ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, s->tls_cert,
                                     MHD_OPTION_HTTPS_MEM_KEY, s->tls_key,
                                     MHD_OPTION_END);
        if (!s->daemon)
                return log_error_errno(SYNTHETIC_ERRNO(EADDRNOTAVAIL), "Failed to listen on %s port %u%s.",
                                       config->address, config->port,
                                       config->tls_certificate ? " with TLS (certificate or key unusable?)" : "");
        info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
        s->port = info ? info->port : config->port;
        return 0;
}

void kbs_server_stop(KbsServer *s) {
        if (s->daemon)
                MHD_stop_daemon(s->daemon);
        s->daemon = NULL;
        kbs_session_keys_done(&s->session_keys);
        EVP_PKEY_free(s->token_key);
        s->token_key = NULL;
        if (s->tls_key)
                OPENSSL_cleanse(s->tls_key, s->tls_key_size);
        free(s->tls_key);
        free(s->tls_cert);
        s->tls_key = s->tls_cert = NULL;
        if (s->resource_dir_fd >= 0)
                (void) close(s->resource_dir_fd);
        s->resource_dir_fd = -EBADF;
}
