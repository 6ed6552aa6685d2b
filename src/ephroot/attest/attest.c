/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The KBS client, one step per function: auth (session and nonce), evidence (TEE key, binding,
 * provider), attest (token), fetch (every resource), and only then the secrets to tmpfs. */

#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "attest-key.h"
#include "attest-proto.h"
#include "attest.h"
#include "evidence.h"
#include "http.h"
#include "jwe.h"
#include "log.h"
#include "rcar.h"
#include "secret.h"
#include "test-hooks.h"
#include "util.h"

#define HTTP_ATTEMPT_TIMEOUT_MS 20000U
#define HTTP_ATTEMPT_TIMEOUT_SHARE_MIN_MS 2000U

/* One exchange with the broker, from the HTTP client to the fetched secrets; session_done() frees
 * and wipes all of it. */
typedef struct AttestSession {
        const Config *config;
        const char *url;                 /* the broker of this session (one of kbs-url's) */
        Tpm2Context *tpm;
        const EvidenceProvider *provider;
        void *provider_state;            /* what the provider's auth_extra_params() made */
        HttpClient *http;
        char *cookie;                    /* "kbs-session-id=<id>", from the auth reply */
        AttestChallenge challenge;
        EVP_PKEY *key;                   /* the TEE key; the resources are encrypted to it */
        json_object *jwk;                /* its public half, as runtime-data carries it */
        uint8_t report_data[RCAR_REPORT_DATA_SIZE];
        Secret *secrets[CONFIG_SECRETS_MAX]; /* the resources, in the order of config->secrets */
        uint64_t evidence_usec;
} AttestSession;

int attest_check_config(const Config *c) {
        assert_return(c, -EINVAL);

        if (!c->kbs_url)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "attest=%s needs kbs-url=, refusing.",
                                       attest_mode_to_string(c->attest));
        /* every broker of the list: "http://" at the start or after a comma */
        for (const char *u = c->kbs_url; u; u = strchr(u, ',') ? strchr(u, ',') + 1 : NULL)
                if (startswith(u, "http://") && !c->kbs_insecure)
                        return log_error_errno(SYNTHETIC_ERRNO(EPERM),
                                               "kbs-url=%s is plain HTTP: nothing would authenticate the broker. "
                                               "Use https://, or set kbs-insecure=yes (tests only), refusing.",
                                               c->kbs_url);
        if (!streq(c->attest_tee, EVIDENCE_TEE_AZURE_DETECT) && !evidence_provider_find(c->attest_tee))
                return log_error_errno(SYNTHETIC_ERRNO(EOPNOTSUPP),
                                       "attest-tee=%s: this build of ephroot has no such evidence provider, refusing.",
                                       c->attest_tee);
        if (c->n_secrets == 0)
                log_notice("Attestation is on but no secret.<name>= is configured: only the attestation itself is checked.");
        return 0;
}

static bool endswith_slash(const char *s) {
        size_t l = strlen(s);
        return l > 0 && s[l - 1] == '/';
}

/* One request; a reply other than 200 becomes an error naming the endpoint and the server's reason. */
static int request(AttestSession *s, const char *method, const char *path, const char *body, HttpResponse *ret) {
        _cleanup_free_ char *url = NULL, *reason = NULL;
        HttpResponse resp = {};
        int r;

        if (asprintf(&url, "%s%s%s", s->url, endswith_slash(s->url) ? "" : "/", path) < 0)
                return log_oom();

        r = http_request(s->http, method, url, body, s->cookie, &resp);
        if (r == -EFBIG)
                return log_error_errno(r, "Failed to %s '%s': the response is larger than %u bytes.", method, url,
                                       ATTEST_RESPONSE_MAX);
        if (r == -EPERM)
                return log_error_errno(r, "Failed to %s '%s': the server's certificate did not verify%s.", method, url,
                                       s->config->kbs_pin ? " or does not match kbs-pin=" : "");
        if (r < 0)
                return log_error_errno(r, "Failed to %s '%s': %s (%m)", method, url,
                                       http_client_last_error(s->http) ?: "no response");
        if (resp.status != 200) {
                long status = resp.status;

                reason = attest_proto_error_message(resp.body, resp.size);
                http_response_done(&resp);
                return log_error_errno(SYNTHETIC_ERRNO(status == 401 || status == 403 ? EACCES :
                                                       status >= 500 ? EBUSY : EPROTO),
                                       "Failed to %s '%s': HTTP %ld%s%s", method, url, status, reason ? ", " : "",
                                       strempty(reason));
        }
        *ret = resp;
        return 0;
}

/* The plaintext of a resource as jwe_decrypt() returns it, wiped before it is freed. */
typedef struct Plaintext {
        uint8_t *data;
        size_t size;
} Plaintext;

static void plaintext_done(Plaintext *p) {
        if (p->data)
                explicit_bzero(p->data, p->size);
        p->data = mfree(p->data);
}

static int fetch_secret(AttestSession *s, const ConfigSecret *cs, Secret **ret) {
        _cleanup_(http_response_done) HttpResponse resp = {};
        _cleanup_(plaintext_done) Plaintext plain = {};
        _cleanup_(secret_freep) Secret *secret = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        if (asprintf(&path, "kbs/v0/resource/%s", cs->resource) < 0)
                return log_oom();
        r = request(s, "GET", path, NULL, &resp);
        if (r < 0)
                return r;

        r = jwe_decrypt(s->key, resp.body, resp.size, SECRET_SIZE_MAX, &plain.data, &plain.size);
        if (r == -EFBIG || (r >= 0 && (plain.size == 0 || plain.size > SECRET_SIZE_MAX)))
                return log_error_errno(SYNTHETIC_ERRNO(EFBIG),
                                       "Failed to take resource '%s' for secret '%s': it is empty or larger than %u bytes.",
                                       cs->resource, cs->name, SECRET_SIZE_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to decrypt resource '%s' for secret '%s' with the TEE key: %m",
                                       cs->resource, cs->name);
        r = secret_new(plain.size, &secret);
        if (r < 0)
                return log_oom();
        memcpy(secret->data, plain.data, plain.size);
        log_debug("Resource '%s': %zu bytes.", cs->resource, plain.size);
        *ret = TAKE_PTR(secret);
        return 0;
}

/* Secrets go to tmpfs only: never to a disk. */
static int open_secrets_dir(const char *dir, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        struct statfs sfs;
        struct stat st;

        (void) mkdir(dir, 0700); /* the parent exists: /run/ephroot, made by the boot */
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open the secrets directory '%s': %m", dir);
        if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0)
                return log_error_errno(errno, "Failed to stat the secrets directory '%s': %m", dir);
        if (sfs.f_type != TMPFS_MAGIC && sfs.f_type != RAMFS_MAGIC)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM),
                                       "Failed to use the secrets directory '%s': it is not on tmpfs, and secrets never go to a disk.",
                                       dir);
        if (st.st_uid != geteuid() || (st.st_mode & 0077))
                if (fchmod(fd, 0700) < 0 || st.st_uid != geteuid())
                        return log_error_errno(SYNTHETIC_ERRNO(EPERM),
                                               "Failed to use the secrets directory '%s': it is not ours alone (mode %04o, owner %u).",
                                               dir, (unsigned) (st.st_mode & 07777), (unsigned) st.st_uid);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int write_secret(int dir_fd, const char *dir, const char *name, const Secret *secret) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (asprintf(&tmp, ".%s.tmp", name) < 0)
                return log_oom();
        (void) unlinkat(dir_fd, tmp, 0);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
        if (fd < 0)
                return log_error_errno(errno, "Failed to create secret '%s/%s': %m", dir, name);
        if (geteuid() == 0 && fchown(fd, 0, 0) < 0)
                r = -errno;
        else
                r = loop_write(fd, secret->data, secret->size);
        if (r >= 0 && fchmod(fd, 0400) < 0)
                r = -errno;
        if (r >= 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(dir_fd, tmp, 0);
                return log_error_errno(r, "Failed to write secret '%s/%s': %m", dir, name);
        }
        return 0;
}

static int write_secrets(const Config *c, const char *dir, Secret **secrets) {
        _cleanup_close_ int dir_fd = -EBADF;
        int r;

        r = open_secrets_dir(dir, &dir_fd);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->n_secrets; i++) {
                r = write_secret(dir_fd, dir, c->secrets[i].name, secrets[i]);
                if (r < 0) {
                        /* All or nothing. */
                        for (size_t j = 0; j < i; j++)
                                (void) unlinkat(dir_fd, c->secrets[j].name, 0);
                        return r;
                }
        }
        return 0;
}

static void session_done(AttestSession *s) {
        if (s->provider && s->provider->state_free && s->provider_state)
                s->provider->state_free(s->tpm, s->provider_state);
        s->provider_state = NULL;
        for (size_t i = 0; i < ELEMENTSOF(s->secrets); i++)
                s->secrets[i] = secret_free(s->secrets[i]);
        explicit_bzero(s->report_data, sizeof(s->report_data));
        json_object_put(s->jwk);
        s->jwk = NULL;
        EVP_PKEY_free(s->key);
        s->key = NULL;
        attest_challenge_done(&s->challenge);
        s->http = http_client_free(s->http);
        s->cookie = mfree(s->cookie);
}

/* The HTTP client for the whole exchange: every request's retries share one deadline, attest-timeout
 * from the start. One broker: its client retries (kbs-retries) and a request may take 20 s. Several:
 * each request is tried once and may take its broker's share of attest-timeout (at least 2 s, at
 * most 20 s), so a broker that accepts connections but never answers leaves time for the next. */
static int session_connect(AttestSession *s, uint64_t start, unsigned n_brokers) {
        const Config *c = s->config;
        unsigned retries = n_brokers > 1 ? 0 : c->kbs_retries, timeout_ms = HTTP_ATTEMPT_TIMEOUT_MS;
        int r;

        if (n_brokers > 1)
                timeout_ms = MIN(MAX(c->attest_timeout * 1000U / n_brokers, HTTP_ATTEMPT_TIMEOUT_SHARE_MIN_MS),
                                 HTTP_ATTEMPT_TIMEOUT_MS);

        r = http_client_new(&(HttpOptions) {
                                    .ca_file = c->kbs_ca_file,
                                    .pin = c->kbs_pin,
                                    .connect_timeout_ms = c->kbs_connect_timeout * 1000U,
                                    .timeout_ms = timeout_ms,
                                    .deadline_usec = start + (uint64_t) c->attest_timeout * 1000000U,
                                    .retries = retries,
                                    .max_response = ATTEST_RESPONSE_MAX,
                            },
                            &s->http);
        if (r < 0)
                return log_error_errno(r, "Failed to set up HTTP for '%s': %m", s->url);
        if (startswith(s->url, "http://"))
                log_warning("kbs-url=%s is plain HTTP (kbs-insecure=yes): nothing authenticates the broker.",
                            s->url);
        return 0;
}

/* 1. auth: the provider may add extra-params (svsm-vtpm: the EK and a fresh AK); the reply sets the
 * session cookie and carries the nonce. */
static int step_auth(AttestSession *s) {
        _cleanup_(http_response_done) HttpResponse resp = {};
        _cleanup_free_ char *extra = NULL, *body = NULL;
        const char *tee = s->provider->tee, *reason = NULL;
        uint64_t t = now_usec(CLOCK_MONOTONIC);
        int r;

        if (s->provider->auth_extra_params) {
                r = s->provider->auth_extra_params(s->tpm, s->config, &s->provider_state, &extra);
                if (r < 0)
                        return r;
        }
        s->evidence_usec += now_usec(CLOCK_MONOTONIC) - t;

        r = attest_proto_auth_request(tee, extra, &body);
        if (r < 0)
                return log_error_errno(r, "Failed to build the auth request for tee '%s': %m", tee);
        r = request(s, "POST", "kbs/v0/auth", body, &resp);
        if (r < 0)
                return r;
        r = attest_proto_parse_set_cookie(resp.set_cookie, &s->cookie);
        if (r < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                       "Failed to start a session with '%s': the auth reply sets no valid kbs-session-id cookie.",
                                       s->url);
        r = attest_proto_parse_challenge(resp.body, resp.size, &s->challenge, &reason);
        if (r < 0)
                return log_error_errno(r, "Failed to read the auth reply of '%s': %s.", s->url, reason);
        return 0;
}

/* 2. evidence: a fresh TEE key, the binding of the nonce and the key (rcar.h), and the provider's
 * evidence over that report data, as JSON text. */
static int step_evidence(AttestSession *s, char **ret_evidence) {
        _cleanup_free_ char *evidence = NULL;
        uint64_t t;
        int r;

        r = attest_key_new(s->config->attest_key, &s->key, &s->jwk);
        if (r < 0)
                return log_error_errno(r, "Failed to make the TEE key: %m");
        test_hook_attest_nonce(s->challenge.nonce);
        r = rcar_report_data(s->challenge.nonce, s->jwk, /* additional_evidence= */ "", s->report_data);
        if (r < 0)
                return log_error_errno(r, "Failed to compute the report data: %m");

        t = now_usec(CLOCK_MONOTONIC);
        r = s->provider->collect(&(EvidenceRequest) {
                                         .tpm = s->tpm,
                                         .config = s->config,
                                         .report_data = s->report_data,
                                         .nonce = s->challenge.nonce,
                                         .extra_params = s->challenge.extra_params,
                                         .state = s->provider_state,
                                 },
                                 &evidence);
        if (r < 0)
                return r;
        s->evidence_usec += now_usec(CLOCK_MONOTONIC) - t;

        test_hook_evidence_out(evidence, s->report_data, sizeof(s->report_data));
        test_hook_attest_quote(&evidence);
        test_hook_attest_delay();
        *ret_evidence = TAKE_PTR(evidence);
        return 0;
}

/* 3. attest: the evidence and the TEE key to the broker. The token is the broker's (EAR JWT): the
 * client cannot verify it and does not need to; its shape is checked so that a confused server is
 * noticed. The resources are fetched with the cookie. */
static int step_attest(AttestSession *s, const char *evidence) {
        _cleanup_(http_response_done) HttpResponse resp = {};
        _cleanup_free_ char *body = NULL, *token = NULL;
        const char *reason = NULL;
        int r;

        r = attest_proto_attest_request(s->challenge.nonce, s->jwk, evidence, &body);
        if (r < 0)
                return log_error_errno(r, "Failed to build the attest request: %m");
        r = request(s, "POST", "kbs/v0/attest", body, &resp);
        if (r >= 0 && test_hook_attest_replay()) {
                http_response_done(&resp);
                r = request(s, "POST", "kbs/v0/attest", body, &resp);
        }
        if (r < 0)
                return r;
        r = attest_proto_parse_token(resp.body, resp.size, &token, &reason);
        if (r < 0)
                return log_error_errno(r, "Failed to read the attest reply of '%s': %s.", s->url, reason);
        /* A broker may re-issue the session cookie with the attestation (ephroot-kbs seals the attested
         * session into it; Trustee sets the same id again): the resources are fetched with the new one. */
        if (resp.set_cookie) {
                _cleanup_free_ char *cookie = NULL;

                r = attest_proto_parse_set_cookie(resp.set_cookie, &cookie);
                if (r == -EBADMSG)
                        return log_error_errno(r, "Failed to read the attest reply of '%s': its kbs-session-id cookie is malformed.",
                                               s->url);
                if (r >= 0) {
                        free(s->cookie);
                        s->cookie = TAKE_PTR(cookie);
                }
        }
        return 0;
}

/* 4. fetch: every resource, decrypted, before anything is written. */
static int step_fetch(AttestSession *s) {
        int r;

        for (size_t i = 0; i < s->config->n_secrets; i++) {
                r = fetch_secret(s, &s->config->secrets[i], &s->secrets[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

#define ATTEST_FAILOVER_BACKOFF_FIRST_MS 200U
#define ATTEST_FAILOVER_BACKOFF_MAX_MS 3200U

/* One whole exchange with one broker: auth, evidence, attest, every resource. */
static int attest_exchange(AttestSession *s, uint64_t start, unsigned n_brokers) {
        _cleanup_free_ char *evidence = NULL;
        int r;

        r = session_connect(s, start, n_brokers);
        if (r < 0)
                return r;
        r = step_auth(s);
        if (r < 0)
                return r;
        r = step_evidence(s, &evidence);
        if (r < 0)
                return r;
        r = step_attest(s, evidence);
        if (r < 0)
                return r;
        return step_fetch(s);
}

/* Worth another broker: it could not be reached, timed out, or was busy or broken (5xx after its
 * retries). A refusal (401/403), a protocol error or a TLS failure is final: fail closed. */
static bool failover_reason(int r) {
        return IN_SET(r, -ECONNREFUSED, -ETIMEDOUT, -EBUSY, -EIO, -EHOSTUNREACH, -ENETUNREACH, -ECONNRESET);
}

static const char *failover_reason_string(int r) {
        switch (r) {
        case -EBUSY:
                return "busy or failing";
        case -ETIMEDOUT:
                return "timed out";
        case -ECONNRESET:
                return "connection reset";
        case -ECONNREFUSED:
        case -EHOSTUNREACH:
        case -ENETUNREACH:
                return "unreachable";
        default:
                return "I/O error";
        }
}

/* Before a broker is asked again: its 503's Retry-After, and at least the back-off the single-broker
 * HTTP client waits (200 ms doubling to 3.2 s), so a list of brokers all unreachable for a moment (the
 * network still coming up) is not given up on in a few milliseconds. */
static uint64_t failover_wait_usec(unsigned tries, unsigned retry_after_sec) {
        uint64_t backoff_ms = MIN((uint64_t) ATTEST_FAILOVER_BACKOFF_FIRST_MS << MIN(tries - 1, 8U),
                                  (uint64_t) ATTEST_FAILOVER_BACKOFF_MAX_MS);

        return MAX(backoff_ms * 1000U, (uint64_t) retry_after_sec * 1000000U);
}

int attest_run(const Config *c, Tpm2Context *tpm, const char *secrets_dir, AttestResult *ret) {
        uint64_t start = now_usec(CLOCK_MONOTONIC), deadline, next_ok[CONFIG_KBS_URLS_MAX] = {};
        _cleanup_free_ char *list = NULL;
        char *urls[CONFIG_KBS_URLS_MAX];
        unsigned tries[CONFIG_KBS_URLS_MAX] = {}, n = 0;
        const EvidenceProvider *provider = NULL;
        AttestResult res = {};
        int r;

        assert_return(c && secrets_dir && ret, -EINVAL);
        *ret = (AttestResult) {};

        r = attest_check_config(c);
        if (r < 0)
                return r;
        r = evidence_provider_resolve(tpm, c->attest_tee, &provider);
        if (r < 0)
                return r;
        list = strdup(c->kbs_url);
        if (!list)
                return log_oom();
        for (char *p = list, *w; n < CONFIG_KBS_URLS_MAX && (w = strsep(&p, ","));)
                urls[n++] = w;
        deadline = start + (uint64_t) c->attest_timeout * 1000000U;

        /* One broker: its HTTP client retries (kbs-retries, back-off, Retry-After). Several: each
         * request is tried once, and a broker that failed for a reason worth it gives way to the next,
         * in order, each at most kbs-retries + 1 times, one after a 503's Retry-After. */
        for (;;) {
                _cleanup_(session_done) AttestSession s = { .config = c, .tpm = tpm, .provider = provider };
                uint64_t now = now_usec(CLOCK_MONOTONIC), wake = UINT64_MAX;
                unsigned i, pick = n;

                for (i = 0; i < n; i++)
                        if (tries[i] <= c->kbs_retries) {
                                if (next_ok[i] <= now && (pick == n || tries[i] < tries[pick]))
                                        pick = i;
                                wake = MIN(wake, next_ok[i]);
                        }
                if (pick == n && wake != UINT64_MAX && wake < deadline) {
                        uint64_t d = MIN(wake - now, (uint64_t) 30000000U);

                        (void) nanosleep(&(struct timespec) { .tv_sec = (time_t) (d / 1000000U),
                                                              .tv_nsec = (long) (d % 1000000U) * 1000L },
                                         NULL);
                        continue;
                }
                if (pick == n)
                        break; /* every broker tried as often as allowed, or the deadline */
                tries[pick]++;
                s.url = urls[pick];
                r = attest_exchange(&s, start, n);
                res.evidence_usec += s.evidence_usec;
                res.http_attempts += http_client_attempts(s.http);
                if (r >= 0) {
                        r = write_secrets(c, secrets_dir, s.secrets);
                        if (r >= 0)
                                res.n_secrets = (unsigned) c->n_secrets;
                        break;
                }
                if (n == 1 || !failover_reason(r) || now_usec(CLOCK_MONOTONIC) >= deadline)
                        break;
                next_ok[pick] = now_usec(CLOCK_MONOTONIC) +
                                failover_wait_usec(tries[pick], http_client_retry_after(s.http));
                log_warning("Broker '%s' failed (%s); trying the next of kbs-url within attest-timeout.", urls[pick],
                            failover_reason_string(r));
        }
        if (r < 0 && n > 1 && failover_reason(r))
                log_error("Failed to attest: none of the %u brokers of kbs-url answered within attest-timeout (%u s).", n,
                          c->attest_timeout);
        res.usec = now_usec(CLOCK_MONOTONIC) - start;
        *ret = res;
        return r;
}
