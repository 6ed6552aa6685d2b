/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The server's configuration file (JSON, docs/kbs.md). Parsed strictly: unknown keys, wrong types and
 * out-of-range values are refused. */
typedef struct KbsConfig {
        char *address;             /* "127.0.0.1", "::", ... */
        unsigned port;
        char *tls_certificate;     /* PEM files; both or none */
        char *tls_private_key;
        bool insecure_http;        /* plain HTTP: only when set, for tests */
        unsigned session_timeout;  /* seconds */
        char *session_key_file;    /* the sealing key(s) replicas share; NULL: a random key */
        char *token_key_file;      /* the token signing key replicas share; NULL: made at start */
        size_t max_request_size;   /* bytes of a request body */
        size_t max_resource_size;  /* bytes of a resource file */
        unsigned threads;
        unsigned connection_limit;
        unsigned per_ip_connection_limit;
        unsigned request_deadline;     /* seconds from a request's first byte handled to its answer */
        size_t request_memory_budget;  /* bytes of request bodies held at once, all connections */
        char *resource_dir;
        char *policy;              /* the policy file */
} KbsConfig;

void kbs_config_init(KbsConfig *c);
void kbs_config_done(KbsConfig *c);

/* Parses the text; name is used in messages. Logs each refusal. */
int kbs_config_parse(KbsConfig *c, const char *text, size_t size, const char *name);
int kbs_config_load(KbsConfig *c, const char *path);
