/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The KBS client: auth -> attest -> resources, then the secrets to tmpfs. */

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

typedef struct AttestSession {
        const Config *config;
        HttpClient *http;
        char *cookie;
} AttestSession;

int attest_check_config(const Config *c) {
        assert_return(c, -EINVAL);

        if (!c->kbs_url)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "attest=%s needs kbs-url=, refusing.",
                                       attest_mode_to_string(c->attest));
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

        if (asprintf(&url, "%s%s%s", s->config->kbs_url, endswith_slash(s->config->kbs_url) ? "" : "/", path) < 0)
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
                return log_error_errno(SYNTHETIC_ERRNO(status == 401 || status == 403 ? EACCES : EPROTO),
                                       "Failed to %s '%s': HTTP %ld%s%s", method, url, status, reason ? ", " : "",
                                       strempty(reason));
        }
        *ret = resp;
        return 0;
}


static int fetch_secret(AttestSession *s, EVP_PKEY *key, const ConfigSecret *cs, Secret **ret) {
        _cleanup_(http_response_done) HttpResponse resp = {};
        _cleanup_free_ char *path = NULL;
        _cleanup_(secret_freep) Secret *secret = NULL;
        uint8_t *plain = NULL;
        size_t plain_size = 0;
        int r;

        if (asprintf(&path, "kbs/v0/resource/%s", cs->resource) < 0)
                return log_oom();
        r = request(s, "GET", path, NULL, &resp);
        if (r < 0)
                return r;

        r = jwe_decrypt(key, resp.body, resp.size, SECRET_SIZE_MAX, &plain, &plain_size);
        if (r == -EFBIG || (r >= 0 && (plain_size == 0 || plain_size > SECRET_SIZE_MAX)))
                r = log_error_errno(SYNTHETIC_ERRNO(EFBIG), "Failed to take resource '%s' for secret '%s': it is empty or larger than %u bytes.",
                                    cs->resource, cs->name, SECRET_SIZE_MAX);
        else if (r < 0)
                r = log_error_errno(r, "Failed to decrypt resource '%s' for secret '%s' with the TEE key: %m",
                                    cs->resource, cs->name);
        else {
                r = secret_new(plain_size, &secret);
                if (r < 0)
                        r = log_oom();
                else
                        memcpy(secret->data, plain, plain_size);
        }
        if (plain) {
                explicit_bzero(plain, plain_size);
                free(plain);
        }
        if (r < 0)
                return r;
        log_debug("Resource '%s': %zu bytes.", cs->resource, plain_size);
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
        s->http = http_client_free(s->http);
        s->cookie = mfree(s->cookie);
}

int attest_run(const Config *c, Tpm2Context *tpm, const char *secrets_dir, AttestResult *ret) {
        _cleanup_(session_done) AttestSession s = { .config = c };
        _cleanup_(attest_challenge_done) AttestChallenge ch = {};
        _cleanup_(http_response_done) HttpResponse auth = {}, att = {};
        _cleanup_free_ char *extra = NULL, *auth_req = NULL, *evidence = NULL, *att_req = NULL, *token = NULL;
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        _cleanup_json_ json_object *jwk = NULL;
        Secret *secrets[CONFIG_SECRETS_MAX] = {};
        const EvidenceProvider *p;
        uint8_t report_data[RCAR_REPORT_DATA_SIZE];
        void *state = NULL;
        const char *reason = NULL;
        uint64_t start = now_usec(CLOCK_MONOTONIC), t;
        AttestResult res = {};
        int r;

        assert_return(c && secrets_dir && ret, -EINVAL);

        r = attest_check_config(c);
        if (r < 0)
                return r;
        r = evidence_provider_resolve(tpm, c->attest_tee, &p);
        if (r < 0)
                return r;

        r = http_client_new(&(HttpOptions) {
                                    .ca_file = c->kbs_ca_file,
                                    .pin = c->kbs_pin,
                                    .connect_timeout_ms = c->kbs_connect_timeout * 1000U,
                                    .timeout_ms = HTTP_ATTEMPT_TIMEOUT_MS,
                                    .deadline_usec = start + (uint64_t) c->attest_timeout * 1000000U,
                                    .retries = c->kbs_retries,
                                    .max_response = ATTEST_RESPONSE_MAX,
                            },
                            &s.http);
        if (r < 0)
                return log_error_errno(r, "Failed to set up HTTP for '%s': %m", c->kbs_url);
        if (startswith(c->kbs_url, "http://"))
                log_warning("kbs-url=%s is plain HTTP: nothing authenticates the broker. Use https:// outside tests.",
                            c->kbs_url);

        /* 1. auth: the provider may add extra-params (svsm-vtpm: the EK and a fresh AK). */
        t = now_usec(CLOCK_MONOTONIC);
        if (p->auth_extra_params) {
                r = p->auth_extra_params(tpm, c, &state, &extra);
                if (r < 0)
                        goto finish;
        }
        res.evidence_usec += now_usec(CLOCK_MONOTONIC) - t;
        r = attest_proto_auth_request(p->tee, extra, &auth_req);
        if (r < 0) {
                r = log_error_errno(r, "Failed to build the auth request for tee '%s': %m", p->tee);
                goto finish;
        }
        r = request(&s, "POST", "kbs/v0/auth", auth_req, &auth);
        if (r < 0)
                goto finish;
        r = attest_proto_parse_set_cookie(auth.set_cookie, &s.cookie);
        if (r < 0) {
                r = log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                    "Failed to start a session with '%s': the auth reply sets no valid kbs-session-id cookie.",
                                    c->kbs_url);
                goto finish;
        }
        r = attest_proto_parse_challenge(auth.body, auth.size, &ch, &reason);
        if (r < 0) {
                r = log_error_errno(r, "Failed to read the auth reply of '%s': %s.", c->kbs_url, reason);
                goto finish;
        }

        /* 2. the TEE key and the binding */
        r = attest_key_new(c->attest_key, &key, &jwk);
        if (r < 0) {
                r = log_error_errno(r, "Failed to make the TEE key: %m");
                goto finish;
        }
        test_hook_attest_nonce(ch.nonce);
        r = rcar_report_data(ch.nonce, jwk, /* additional_evidence= */ "", report_data);
        if (r < 0) {
                r = log_error_errno(r, "Failed to compute the report data: %m");
                goto finish;
        }

        /* 3. evidence, attest */
        t = now_usec(CLOCK_MONOTONIC);
        r = p->collect(&(EvidenceRequest) {
                               .tpm = tpm,
                               .config = c,
                               .report_data = report_data,
                               .nonce = ch.nonce,
                               .extra_params = ch.extra_params,
                               .state = state,
                       },
                       &evidence);
        if (r < 0)
                goto finish;
        res.evidence_usec += now_usec(CLOCK_MONOTONIC) - t;
        test_hook_evidence_out(evidence, report_data, sizeof(report_data));
        test_hook_attest_quote(&evidence);
        test_hook_attest_delay();
        r = attest_proto_attest_request(ch.nonce, jwk, evidence, &att_req);
        if (r < 0) {
                r = log_error_errno(r, "Failed to build the attest request: %m");
                goto finish;
        }
        r = request(&s, "POST", "kbs/v0/attest", att_req, &att);
        if (r >= 0 && test_hook_attest_replay()) {
                http_response_done(&att);
                r = request(&s, "POST", "kbs/v0/attest", att_req, &att);
        }
        if (r < 0)
                goto finish;
        /* The token is the broker's (EAR JWT): the client cannot verify it and does not need to; its shape
         * is checked so that a confused server is noticed. Resources are fetched with the cookie. */
        r = attest_proto_parse_token(att.body, att.size, &token, &reason);
        if (r < 0) {
                r = log_error_errno(r, "Failed to read the attest reply of '%s': %s.", c->kbs_url, reason);
                goto finish;
        }

        /* 4. resources, all of them before anything is written */
        for (size_t i = 0; i < c->n_secrets; i++) {
                r = fetch_secret(&s, key, &c->secrets[i], &secrets[i]);
                if (r < 0)
                        goto finish;
        }
        r = write_secrets(c, secrets_dir, secrets);
        if (r < 0)
                goto finish;
        res.n_secrets = (unsigned) c->n_secrets;

finish:
        if (p && p->state_free && state)
                p->state_free(tpm, state);
        for (size_t i = 0; i < CONFIG_SECRETS_MAX; i++)
                secret_free(secrets[i]);
        explicit_bzero(report_data, sizeof(report_data));
        res.usec = now_usec(CLOCK_MONOTONIC) - start;
        res.http_attempts = http_client_attempts(s.http);
        *ret = res;
        return r;
}
