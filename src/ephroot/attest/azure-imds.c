/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "azure-evidence.h"
#include "azure-imds.h"
#include "http.h"
#include "log.h"
#include "macro.h"
#include "util.h"

int azure_imds_request(const char *base_url, const char *path, const char *body, unsigned timeout_ms, char **ret_body,
                       size_t *ret_size) {
        _cleanup_(http_client_freep) HttpClient *c = NULL;
        _cleanup_(http_response_done) HttpResponse resp = {};
        _cleanup_free_ char *url = NULL;
        int r;

        assert_return(base_url && path && ret_body && ret_size, -EINVAL);

        if (asprintf(&url, "%s%s", base_url, path) < 0)
                return -ENOMEM;
        /* IMDS is link-local plain HTTP: no CA, no retries (the caller's flow has its own deadline). */
        r = http_client_new(&(HttpOptions) {
                                    .connect_timeout_ms = timeout_ms,
                                    .timeout_ms = timeout_ms,
                                    .deadline_usec = now_usec(CLOCK_MONOTONIC) + (uint64_t) timeout_ms * 1000U,
                                    .max_response = AZURE_IMDS_BODY_MAX,
                                    .header = "Metadata: true",
                            },
                            &c);
        if (r < 0)
                return r;
        r = http_request(c, body ? "POST" : "GET", url, body, /* cookie= */ NULL, &resp);
        if (r == -EFBIG)
                return log_debug_errno(r, "Reply from '%s' is over %u bytes.", url, AZURE_IMDS_BODY_MAX);
        if (r < 0)
                return log_debug_errno(r, "Request to '%s' failed: %s", url, strna(http_client_last_error(c)));
        if (resp.status != 200)
                return log_debug_errno(SYNTHETIC_ERRNO(EPROTO), "Request to '%s' returned HTTP status %ld.", url,
                                       resp.status);
        *ret_body = TAKE_PTR(resp.body);
        *ret_size = resp.size;
        return 0;
}
