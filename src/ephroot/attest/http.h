/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* The only module that talks to libcurl: HTTPS requests with the limits early boot needs. No proxy
 * from the environment, no redirects, http and https only; connect and total timeouts, a response size
 * limit, and bounded retries with back-off for what is safe to retry (the connection failed, or 503).
 * CURLcode values become -errno here and never leave. */

typedef struct HttpOptions {
        const char *ca_file;          /* PEM bundle to verify the server with; NULL: the system's */
        const char *pin;              /* CURLOPT_PINNEDPUBLICKEY ("sha256//<base64>;..."), or NULL */
        unsigned connect_timeout_ms;  /* per attempt */
        unsigned timeout_ms;          /* per attempt, whole transfer */
        uint64_t deadline_usec;       /* CLOCK_MONOTONIC; no attempt or back-off runs past it; 0: none */
        unsigned retries;             /* extra attempts after the first */
        size_t max_response;          /* bytes of body, at most */
        const char *header;           /* one more request header ("Name: value"), or NULL */
} HttpOptions;

typedef struct HttpResponse {
        long status;
        char *body;        /* NUL-terminated, malloc'd; wiped on free */
        size_t size;
        char *set_cookie;  /* the value of the last Set-Cookie header, or NULL */
} HttpResponse;

typedef struct HttpClient HttpClient;

int http_client_new(const HttpOptions *o, HttpClient **ret);
HttpClient *http_client_free(HttpClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpClient *, http_client_free);

/* One request: method "GET" or "POST" (body sent as application/json), cookie sent as the Cookie header
 * (NULL: none). Returns 0 with any HTTP status in ret->status, or -errno when no response came:
 * -ECONNREFUSED, -ETIMEDOUT, -EFBIG (response over the limit), -EPERM (TLS verification or pin
 * failed), -EIO. Logs at debug level only. */
int http_request(HttpClient *c, const char *method, const char *url, const char *body, const char *cookie,
                 HttpResponse *ret);

void http_response_done(HttpResponse *r);

/* libcurl's words for why the last request got no response (static text), or NULL. */
const char *http_client_last_error(const HttpClient *c);

/* The Retry-After (seconds, at most 30) of the last 503 this client got, 0 if it had none. */
unsigned http_client_retry_after(const HttpClient *c);

/* Number of attempts made by this client so far (for tests and the performance figures). */
unsigned http_client_attempts(const HttpClient *c);
