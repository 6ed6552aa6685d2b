/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The Azure instance metadata service (169.254.169.254), over HTTP with libcurl: the only file that
 * includes <curl/curl.h>. Never through a proxy, no redirects, every body bounded
 * (AZURE_IMDS_BODY_MAX), every request under a deadline. Bodies are parsed in azure-evidence.c. */

/* GET base_url + path with "Metadata: true"; with body non-NULL, POST it as application/json. The
 * reply body (NUL-terminated) when the status is 200; -EPROTO for another status, -ETIMEDOUT,
 * -EHOSTUNREACH when the service cannot be reached. Logs at debug level only. */
int azure_imds_request(const char *base_url, const char *path, const char *body, unsigned timeout_ms, char **ret_body,
                       size_t *ret_size);
