/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The Azure instance metadata service (169.254.169.254), over http.c (no proxy, no redirects): every
 * body bounded (AZURE_IMDS_BODY_MAX), every request under a deadline. Bodies are parsed in
 * azure-evidence.c. */

/* GET base_url + path with "Metadata: true"; with body non-NULL, POST it as application/json. The
 * reply body (NUL-terminated) when the status is 200; -EPROTO for another status, or http_request()'s
 * -errno when no reply came (-ECONNREFUSED, -ETIMEDOUT, -EFBIG, -EIO). Logs at debug level only. */
int azure_imds_request(const char *base_url, const char *path, const char *body, unsigned timeout_ms, char **ret_body,
                       size_t *ret_size);
