/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ephroot-kbs --config FILE: a reference key broker speaking Trustee's KBS protocol (docs/kbs.md). */

#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include "kbs-config.h"
#include "kbs-policy.h"
#include "kbs-server.h"
#include "log.h"
#include "util.h"

#define KBS_MEMLOCK_MIN (256U << 20)

static void help(void) {
        printf("Usage: ephroot-kbs --config FILE [--check] [--log-level LEVEL]\n"
               "A key broker that speaks Trustee's KBS protocol (RCAR, version 0.4.0).\n\n"
               "  -c --config FILE     the server configuration (JSON, see docs/kbs.md)\n"
               "     --check          load configuration, policy and AMD roots, then exit\n"
               "     --log-level LEVEL  emerg..debug (default info)\n"
               "  -h --help            this text\n");
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "check", no_argument, NULL, 'C' },
                { "log-level", required_argument, NULL, 'l' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        KbsConfig config;
        KbsPolicySet policies = {};
        KbsServer server;
        const char *config_path = NULL, *e;
        bool check = false;
        sigset_t mask;
        int c, r, sig = 0;

        e = secure_getenv("EPHROOT_LOG_TARGET");
        log_set_target(e && log_target_from_string(e) >= 0 ? (LogTarget) log_target_from_string(e) : LOG_TARGET_STDERR);

        while ((c = getopt_long(argc, argv, "c:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        config_path = optarg;
                        break;
                case 'C':
                        check = true;
                        break;
                case 'l':
                        r = log_level_from_string(optarg);
                        if (r < 0) {
                                log_error("Unknown log level '%s', refusing.", optarg);
                                return 2;
                        }
                        log_set_max_level(r);
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return 2;
                }
        if (!config_path || optind < argc) {
                log_error("Usage: ephroot-kbs --config FILE (see --help).");
                return 2;
        }

        /* Keys and secrets pass through this process: keep them out of swap and core dumps. Locking
         * future mappings with a small RLIMIT_MEMLOCK would make later allocations (thread stacks)
         * fail, so lock only when the limit allows it (root, or the unit's LimitMEMLOCK). */
        (void) prctl(PR_SET_DUMPABLE, 0);
        {
                struct rlimit rl;
                if (geteuid() == 0 ||
                    (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= KBS_MEMLOCK_MIN))) {
                        if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
                                log_warning_errno(errno, "Failed to lock memory, secrets may reach swap: %m");
                } else
                        log_notice("RLIMIT_MEMLOCK below %u MiB: memory not locked, secrets may reach swap.",
                                   KBS_MEMLOCK_MIN >> 20);
        }

        kbs_config_init(&config);
        r = kbs_config_load(&config, config_path);
        if (r < 0)
                goto finish;
        r = kbs_policy_load(&policies, config.policy);
        if (r < 0)
                goto finish;
        if (check) {
                printf("configuration OK: %zu policies, %zu AMD roots\n", policies.n, snp_roots_count(policies.amd_roots));
                goto finish;
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        (void) pthread_sigmask(SIG_BLOCK, &mask, NULL); /* before the server's threads start */
        (void) signal(SIGPIPE, SIG_IGN);

        r = kbs_server_start(&server, &config, &policies);
        if (r < 0) {
                kbs_server_stop(&server);
                goto finish;
        }
        log_info("Listening on %s://%s:%u (%zu policies, %zu AMD roots, sessions sealed for %u s, %s session key, %s token key)",
                 config.tls_certificate ? "https" : "http", config.address, server.port, policies.n,
                 snp_roots_count(policies.amd_roots), config.session_timeout,
                 config.session_key_file ? "shared" : "own", config.token_key_file ? "shared" : "own");
        (void) sd_notify(0, "READY=1");

        for (;;) {
                if (sigwait(&mask, &sig) != 0 || sig != SIGHUP)
                        break;
                log_info("SIGHUP: resources are read per request, nothing to reload.");
        }
        (void) sd_notify(0, "STOPPING=1");
        log_info("Stopping on signal %d after %lu requests (%lu answered with an error).", sig,
                 (unsigned long) server.requests, (unsigned long) server.errors);
        kbs_server_stop(&server);
        r = 0;

finish:
        kbs_policy_set_done(&policies);
        kbs_config_done(&config);
        return r < 0 ? 1 : 0;
}
