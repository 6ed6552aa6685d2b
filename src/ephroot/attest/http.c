/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* HTTP(S) through libcurl, bounded in time and size. */

#define _GNU_SOURCE
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http.h"
#include "log.h"
#include "util.h"

#define HTTP_COOKIE_MAX 8192U
#define HTTP_BACKOFF_FIRST_MS 200U
#define HTTP_BACKOFF_MAX_MS 3200U

struct HttpClient {
        HttpOptions opts;
        char *ca_file, *pin, *header;
        CURL *curl;
        unsigned attempts;
        const char *last_error;
};

typedef struct HttpBuffer {
        char *data;
        size_t size, max;
        bool too_big;
        char *set_cookie;
} HttpBuffer;

static int curl_to_errno(CURLcode cc) {
        switch (cc) {
        case CURLE_OK:
                return 0;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_FILESIZE_EXCEEDED:
        case CURLE_WRITE_ERROR:
                return -EFBIG;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CONNECT_ERROR:
                return -EPERM;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_URL_MALFORMAT:
                return -EINVAL;
        case CURLE_GOT_NOTHING:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
                return -ECONNRESET;
        case CURLE_UNSUPPORTED_PROTOCOL: /* also: a reply that is not HTTP (HTTP/0.9 is refused) */
        case CURLE_WEIRD_SERVER_REPLY:
                return -EBADMSG;
        default:
                return -EIO;
        }
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata) {
        HttpBuffer *b = userdata;
        size_t n = size * nmemb;
        char *p;

        if (n > b->max || b->size > b->max - n) {
                b->too_big = true;
                return 0; /* aborts the transfer */
        }
        p = realloc(b->data, b->size + n + 1);
        if (!p)
                return 0;
        b->data = p;
        memcpy(b->data + b->size, ptr, n);
        b->size += n;
        b->data[b->size] = '\0';
        return n;
}

static size_t header_cb(char *ptr, size_t size, size_t nmemb, void *userdata) {
        HttpBuffer *b = userdata;
        size_t n = size * nmemb;
        const size_t prefix = strlen("Set-Cookie:");

        if (n > prefix && n <= prefix + HTTP_COOKIE_MAX && strncasecmp(ptr, "Set-Cookie:", prefix) == 0) {
                const char *v = ptr + prefix;
                size_t l = n - prefix;
                char *copy;

                while (l > 0 && (*v == ' ' || *v == '\t')) {
                        v++;
                        l--;
                }
                copy = strndup(v, l);
                if (!copy)
                        return 0;
                free(b->set_cookie);
                b->set_cookie = strip_trailing_newlines(copy);
        }
        return n;
}

int http_client_new(const HttpOptions *o, HttpClient **ret) {
        _cleanup_(http_client_freep) HttpClient *c = NULL;
        static bool global_done = false;

        assert_return(o && ret, -EINVAL);

        if (!global_done) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                        return log_debug_errno(SYNTHETIC_ERRNO(EIO), "curl_global_init() failed.");
                global_done = true;
        }

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->opts = *o;
        if ((o->ca_file && !(c->ca_file = strdup(o->ca_file))) || (o->pin && !(c->pin = strdup(o->pin))) ||
            (o->header && !(c->header = strdup(o->header))))
                return -ENOMEM;
        c->opts.ca_file = c->ca_file;
        c->opts.pin = c->pin;
        c->opts.header = c->header;
        c->curl = curl_easy_init();
        if (!c->curl)
                return -ENOMEM;

        *ret = TAKE_PTR(c);
        return 0;
}

HttpClient *http_client_free(HttpClient *c) {
        if (!c)
                return NULL;
        if (c->curl)
                curl_easy_cleanup(c->curl);
        free(c->ca_file);
        free(c->pin);
        free(c->header);
        free(c);
        return NULL;
}

const char *http_client_last_error(const HttpClient *c) {
        return c ? c->last_error : NULL;
}

unsigned http_client_attempts(const HttpClient *c) {
        return c ? c->attempts : 0;
}

void http_response_done(HttpResponse *r) {
        if (!r)
                return;
        if (r->body)
                explicit_bzero(r->body, r->size);
        r->body = mfree(r->body);
        r->set_cookie = mfree(r->set_cookie);
        r->size = 0;
        r->status = 0;
}

static int setup(HttpClient *c, const char *method, const char *url, const char *body, const char *cookie,
                 struct curl_slist *headers, HttpBuffer *b, unsigned timeout_ms) {
        CURL *h = c->curl;
        CURLcode cc = CURLE_OK;

        curl_easy_reset(h);
#define SET(opt, val) \
        if (cc == CURLE_OK) \
                cc = curl_easy_setopt(h, opt, val)
        SET(CURLOPT_URL, url);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_PROXY, "");           /* no proxy, whatever the environment says */
        SET(CURLOPT_NOPROXY, "*");
        SET(CURLOPT_FOLLOWLOCATION, 0L);
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_SSL_VERIFYPEER, 1L);
        SET(CURLOPT_SSL_VERIFYHOST, 2L);
        if (c->opts.ca_file)
                SET(CURLOPT_CAINFO, c->opts.ca_file);
        if (c->opts.pin)
                SET(CURLOPT_PINNEDPUBLICKEY, c->opts.pin);
        SET(CURLOPT_CONNECTTIMEOUT_MS, (long) c->opts.connect_timeout_ms);
        SET(CURLOPT_TIMEOUT_MS, (long) timeout_ms);
        SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) c->opts.max_response);
        SET(CURLOPT_WRITEFUNCTION, write_cb);
        SET(CURLOPT_WRITEDATA, b);
        SET(CURLOPT_HEADERFUNCTION, header_cb);
        SET(CURLOPT_HEADERDATA, b);
        SET(CURLOPT_USERAGENT, "ephroot/" PROJECT_VERSION);
        SET(CURLOPT_HTTPHEADER, headers);
        if (cookie)
                SET(CURLOPT_COOKIE, cookie);
        if (streq(method, "POST")) {
                SET(CURLOPT_POST, 1L);
                SET(CURLOPT_POSTFIELDS, body ?: "");
                SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(body ?: ""));
        } else if (!streq(method, "GET"))
                return -EINVAL;
#undef SET
        if (cc != CURLE_OK)
                return log_debug_errno(curl_to_errno(cc), "curl_easy_setopt() failed: %s", curl_easy_strerror(cc));
        return 0;
}

int http_request(HttpClient *c, const char *method, const char *url, const char *body, const char *cookie,
                 HttpResponse *ret) {
        struct curl_slist *headers = NULL;
        unsigned backoff_ms = HTTP_BACKOFF_FIRST_MS;
        int r = -EIO;

        assert_return(c && method && url && ret, -EINVAL);

        c->last_error = NULL;
        headers = curl_slist_append(headers, "Content-Type: application/json");
        if (headers)
                headers = curl_slist_append(headers, "Accept: application/json");
        if (headers && c->opts.header)
                headers = curl_slist_append(headers, c->opts.header);
        if (!headers)
                return -ENOMEM;

        for (unsigned attempt = 0; attempt <= c->opts.retries; attempt++) {
                HttpBuffer b = { .max = c->opts.max_response };
                unsigned timeout_ms = c->opts.timeout_ms;
                CURLcode cc;
                long status = 0;

                if (c->opts.deadline_usec > 0) {
                        uint64_t now = now_usec(CLOCK_MONOTONIC);
                        if (now >= c->opts.deadline_usec) {
                                c->last_error = "the deadline (attest-timeout) passed";
                                r = -ETIMEDOUT;
                                break;
                        }
                        timeout_ms = (unsigned) MIN((uint64_t) timeout_ms, (c->opts.deadline_usec - now) / 1000 + 1);
                }

                r = setup(c, method, url, body, cookie, headers, &b, timeout_ms);
                if (r < 0)
                        break;
                c->attempts++;
                cc = curl_easy_perform(c->curl);
                if (cc == CURLE_OK)
                        (void) curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);

                if (cc == CURLE_OK && status != 503) {
                        *ret = (HttpResponse) { .status = status, .body = b.data, .size = b.size,
                                                .set_cookie = b.set_cookie };
                        if (!ret->body) {
                                ret->body = strdup("");
                                if (!ret->body) {
                                        free(b.set_cookie);
                                        r = -ENOMEM;
                                        break;
                                }
                        }
                        curl_slist_free_all(headers);
                        return 0;
                }

                if (b.data)
                        explicit_bzero(b.data, b.size);
                free(b.data);
                free(b.set_cookie);

                if (cc == CURLE_OK)
                        r = -EBUSY; /* 503 */
                else if (b.too_big)
                        r = -EFBIG;
                else
                        r = curl_to_errno(cc);
                c->last_error = cc == CURLE_OK ? "HTTP 503 Service Unavailable" :
                                b.too_big ? "response too large" : curl_easy_strerror(cc);
                log_debug("%s %s: attempt %u failed: %s", method, url, attempt + 1, c->last_error);

                /* Only what cannot have reached the server's logic is retried: no connection, or 503. */
                if (!IN_SET(r, -ECONNREFUSED, -EBUSY) || attempt == c->opts.retries)
                        break;
                if (c->opts.deadline_usec > 0 &&
                    now_usec(CLOCK_MONOTONIC) + (uint64_t) backoff_ms * 1000 >= c->opts.deadline_usec)
                        break;
                (void) nanosleep(&(struct timespec) { .tv_sec = backoff_ms / 1000,
                                                      .tv_nsec = (long) (backoff_ms % 1000) * 1000000L },
                                 NULL);
                backoff_ms = MIN(backoff_ms * 2, HTTP_BACKOFF_MAX_MS);
        }

        curl_slist_free_all(headers);
        return r;
}
