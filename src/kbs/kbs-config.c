/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "kbs-config.h"
#include "json-util.h"
#include "log.h"
#include "util.h"

#define KBS_CONFIG_SIZE_MAX (64U * 1024U)

void kbs_config_init(KbsConfig *c) {
        *c = (KbsConfig) {
                .port = 8080,
                .session_timeout = 300,
                .max_request_size = 1024 * 1024,
                .max_resource_size = 1024 * 1024,
                .threads = 2,
                .connection_limit = 256,
                .per_ip_connection_limit = 16,
                .request_deadline = 30,
                .request_memory_budget = 64U << 20,
        };
}

void kbs_config_done(KbsConfig *c) {
        free(c->address);
        free(c->tls_certificate);
        free(c->tls_private_key);
        free(c->resource_dir);
        free(c->policy);
        free(c->session_key_file);
        free(c->token_key_file);
        *c = (KbsConfig) {};
}

static int get_uint(json_object *v, const char *key, const char *name, unsigned long min, unsigned long max,
                    unsigned long *ret) {
        int64_t i;

        if (!json_object_is_type(v, json_type_int))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: \"%s\" must be an integer, refusing.", name, key);
        i = json_object_get_int64(v);
        if (i < (int64_t) min || (uint64_t) i > max)
                return log_error_errno(SYNTHETIC_ERRNO(ERANGE), "%s: \"%s\" must be between %lu and %lu, refusing.",
                                       name, key, min, max);
        *ret = (unsigned long) i;
        return 0;
}

static int get_path(json_object *v, const char *key, const char *name, char **ret) {
        if (!json_object_is_type(v, json_type_string) || !path_is_absolute(json_object_get_string(v)))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: \"%s\" must be an absolute path, refusing.", name,
                                       key);
        return free_and_strdup(ret, json_object_get_string(v));
}

int kbs_config_parse(KbsConfig *c, const char *text, size_t size, const char *name) {
        static const char *const keys[] = { "address", "port", "tls_certificate", "tls_private_key", "insecure_http",
                                            "session_timeout", "session_key_file", "token_key_file", "max_request_size",
                                            "max_resource_size", "threads", "connection_limit", "per_ip_connection_limit",
                                            "request_deadline", "request_memory_budget", "resource_dir",
                                            "policy", NULL };
        _cleanup_json_ json_object *o = NULL;
        const char *unknown = NULL;
        unsigned long u;
        int r;

        r = json_parse_strict(text, size, 8, &o);
        if (r < 0 || !json_object_is_type(o, json_type_object))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: not a JSON object, refusing.", name);
        if (json_check_keys(o, keys, &unknown) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: unknown setting \"%s\", refusing.", name, unknown);

        json_object_object_foreach(o, k, v) {
                if (streq(k, "address")) {
                        if (!json_object_is_type(v, json_type_string) || isempty(json_object_get_string(v)))
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "%s: \"address\" must be an IP address, refusing.", name);
                        r = free_and_strdup(&c->address, json_object_get_string(v));
                } else if (streq(k, "port")) {
                        r = get_uint(v, k, name, 0, 65535, &u); /* 0: any free port */
                        c->port = (unsigned) u;
                } else if (streq(k, "tls_certificate"))
                        r = get_path(v, k, name, &c->tls_certificate);
                else if (streq(k, "tls_private_key"))
                        r = get_path(v, k, name, &c->tls_private_key);
                else if (streq(k, "insecure_http")) {
                        if (!json_object_is_type(v, json_type_boolean))
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "%s: \"insecure_http\" must be true or false, refusing.", name);
                        c->insecure_http = json_object_get_boolean(v);
                        r = 0;
                } else if (streq(k, "session_timeout")) {
                        r = get_uint(v, k, name, 1, 24 * 3600, &u);
                        c->session_timeout = (unsigned) u;
                } else if (streq(k, "session_key_file"))
                        r = get_path(v, k, name, &c->session_key_file);
                else if (streq(k, "token_key_file"))
                        r = get_path(v, k, name, &c->token_key_file);
                else if (streq(k, "max_request_size")) {
                        r = get_uint(v, k, name, 1024, 64U << 20, &u);
                        c->max_request_size = u;
                } else if (streq(k, "max_resource_size")) {
                        r = get_uint(v, k, name, 1, 64U << 20, &u);
                        c->max_resource_size = u;
                } else if (streq(k, "threads")) {
                        r = get_uint(v, k, name, 1, 256, &u);
                        c->threads = (unsigned) u;
                } else if (streq(k, "connection_limit")) {
                        r = get_uint(v, k, name, 1, 65536, &u);
                        c->connection_limit = (unsigned) u;
                } else if (streq(k, "per_ip_connection_limit")) {
                        r = get_uint(v, k, name, 1, 65536, &u);
                        c->per_ip_connection_limit = (unsigned) u;
                } else if (streq(k, "request_deadline")) {
                        r = get_uint(v, k, name, 1, 600, &u);
                        c->request_deadline = (unsigned) u;
                } else if (streq(k, "request_memory_budget")) {
                        r = get_uint(v, k, name, 1U << 20, 4096UL << 20, &u);
                        c->request_memory_budget = u;
                } else if (streq(k, "resource_dir"))
                        r = get_path(v, k, name, &c->resource_dir);
                else if (streq(k, "policy"))
                        r = get_path(v, k, name, &c->policy);
                else
                        r = -EINVAL; /* not reached: checked above */
                if (r < 0)
                        return r == -ENOMEM ? log_oom() : r;
        }

        if (!c->address && free_and_strdup(&c->address, "127.0.0.1") < 0)
                return log_oom();
        if (!!c->tls_certificate != !!c->tls_private_key)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: \"tls_certificate\" and \"tls_private_key\" go together, refusing.", name);
        if (!c->tls_certificate && !c->insecure_http)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: no TLS certificate and \"insecure_http\" not set, refusing to serve plain HTTP.",
                                       name);
        if (c->tls_certificate && c->insecure_http)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: \"insecure_http\" with a TLS certificate is contradictory, refusing.", name);
        if (c->request_memory_budget < c->max_request_size)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: \"request_memory_budget\" is below \"max_request_size\": no request could be read, refusing.",
                                       name);
        if (!c->resource_dir)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: \"resource_dir\" is required, refusing.", name);
        if (!c->policy)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: \"policy\" is required, refusing.", name);
        return 0;
}

int kbs_config_load(KbsConfig *c, const char *path) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_full_file_bounded(path, KBS_CONFIG_SIZE_MAX, &text, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to read configuration '%s': %m", path);
        return kbs_config_parse(c, text, size, path);
}
