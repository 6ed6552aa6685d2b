/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure-evidence.h"
#include "azure-imds.h"
#include "log.h"
#include "macro.h"

typedef struct Body {
        char *p;
        size_t n;
        bool too_big;
} Body;

static size_t body_write(char *data, size_t size, size_t nmemb, void *userdata) {
        Body *b = userdata;
        size_t add = size * nmemb;
        char *q;

        if (add > AZURE_IMDS_BODY_MAX - b->n) {
                b->too_big = true;
                return 0; /* aborts the transfer */
        }
        q = realloc(b->p, b->n + add + 1);
        if (!q)
                return 0;
        memcpy(q + b->n, data, add);
        b->p = q;
        b->n += add;
        b->p[b->n] = '\0';
        return add;
}

static void curl_easy_cleanupp(CURL **c) {
        if (*c)
                curl_easy_cleanup(*c);
}

static void curl_slist_free_allp(struct curl_slist **l) {
        curl_slist_free_all(*l);
}

static int curl_code_to_errno(CURLcode cc) {
        switch (cc) {
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
                return -EHOSTUNREACH;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
                return -EINVAL;
        default:
                return -EIO;
        }
}

int azure_imds_request(const char *base_url, const char *path, const char *body, unsigned timeout_ms, char **ret_body,
                       size_t *ret_size) {
        _cleanup_(curl_easy_cleanupp) CURL *c = NULL;
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_free_ char *url = NULL;
        Body b = {};
        long status = 0;
        CURLcode cc;

        assert_return(base_url && path && ret_body && ret_size, -EINVAL);

        static bool initialized = false;
        if (!initialized) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                        return log_debug_errno(SYNTHETIC_ERRNO(EIO), "curl_global_init() failed.");
                initialized = true;
        }
        if (asprintf(&url, "%s%s", base_url, path) < 0)
                return -ENOMEM;
        c = curl_easy_init();
        if (!c)
                return -ENOMEM;
        headers = curl_slist_append(NULL, "Metadata: true");
        if (headers && body)
                headers = curl_slist_append(headers, "Content-Type: application/json");
        if (!headers)
                return -ENOMEM;

        if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_NOPROXY, "*") != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long) timeout_ms) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long) timeout_ms) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEDATA, &b) != CURLE_OK ||
            (body && curl_easy_setopt(c, CURLOPT_POSTFIELDS, body) != CURLE_OK))
                return log_debug_errno(SYNTHETIC_ERRNO(EINVAL), "Failed to set up the request to '%s'.", url);

        cc = curl_easy_perform(c);
        if (cc != CURLE_OK) {
                free(b.p);
                if (b.too_big)
                        return log_debug_errno(SYNTHETIC_ERRNO(EFBIG), "Reply from '%s' is over %u bytes.", url,
                                               AZURE_IMDS_BODY_MAX);
                return log_debug_errno(curl_code_to_errno(cc), "Request to '%s' failed: %s", url, curl_easy_strerror(cc));
        }
        (void) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200) {
                free(b.p);
                return log_debug_errno(SYNTHETIC_ERRNO(EPROTO), "Request to '%s' returned HTTP status %ld.", url, status);
        }
        if (!b.p) {
                b.p = strdup("");
                if (!b.p)
                        return -ENOMEM;
        }
        *ret_body = b.p;
        *ret_size = b.n;
        return 0;
}
