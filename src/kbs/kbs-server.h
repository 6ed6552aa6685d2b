/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <openssl/evp.h>
#include <stdatomic.h>

#include "kbs-config.h"
#include "kbs-policy.h"
#include "kbs-session.h"

/* The HTTP(S) front: libmicrohttpd, the three RCAR endpoints. The only file that includes
 * <microhttpd.h>. */

typedef struct KbsServer {
        const KbsConfig *config;
        const KbsPolicySet *policies;
        KbsVerifyContext verify;
        KbsSessionKeys session_keys;
        EVP_PKEY *token_key;
        int resource_dir_fd;
        char *tls_cert, *tls_key; /* PEM, for the daemon's lifetime */
        size_t tls_key_size;
        struct MHD_Daemon *daemon;
        unsigned port;            /* the bound port (config port 0 picks one) */
        atomic_ulong requests, errors, busy; /* busy: answered 503 */
        atomic_size_t body_bytes;            /* request body memory held now (request_memory_budget) */
} KbsServer;

int kbs_server_start(KbsServer *s, const KbsConfig *config, const KbsPolicySet *policies);
void kbs_server_stop(KbsServer *s);
