/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `ephroot boot --rootmnt DIR`, called by the initramfs-tools script once the OS root is mounted
 * read-only at DIR. Disabled (the default): returns at once and changes nothing. Enabled: runs the
 * phases (boot.c); on any failure prints one line, extends the failure event and halts, powers off
 * or reboots; it never returns to let the boot continue on the OS disk's root. */

#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "boot.h"
#include "config-load.h"
#include "log.h"
#include "measure-boot.h"
#include "util.h"
#include "verbs.h"

#define PROC_CMDLINE "/proc/cmdline"
#define BOOT_FAILED_TIMEOUT_SEC 60

enum {
        ARG_ROOTMNT = 0x100,
        ARG_KERNEL,
        ARG_INITRD,
        ARG_CMDLINE_FILE,
        ARG_STATUS,
        ARG_HEADER_DIR,
        ARG_SECRETS_DIR,
        ARG_NO_FAILURE_ACTION,
        ARG_IF_SERVICE_FAILED,
};

typedef struct VerbBootArgs {
        BootArgs boot;
        const char *cmdline_file;
        const char *status;
        bool no_failure_action;
} VerbBootArgs;

static int parse_args(int argc, char **argv, VerbBootArgs *a) {
        static const struct option options[] = {
                { "rootmnt", required_argument, NULL, ARG_ROOTMNT },
                { "kernel", required_argument, NULL, ARG_KERNEL },
                { "initrd", required_argument, NULL, ARG_INITRD },
                { "cmdline-file", required_argument, NULL, ARG_CMDLINE_FILE },
                { "status", required_argument, NULL, ARG_STATUS },
                { "header-dir", required_argument, NULL, ARG_HEADER_DIR },
                { "secrets-dir", required_argument, NULL, ARG_SECRETS_DIR },
                { "no-failure-action", no_argument, NULL, ARG_NO_FAILURE_ACTION },
                {},
        };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_ROOTMNT:
                        a->boot.rootmnt = optarg;
                        break;
                case ARG_KERNEL:
                        a->boot.kernel = optarg;
                        break;
                case ARG_INITRD:
                        a->boot.initrd = optarg;
                        break;
                case ARG_CMDLINE_FILE:
                        a->cmdline_file = optarg;
                        break;
                case ARG_STATUS:
                        a->status = optarg;
                        break;
                case ARG_SECRETS_DIR:
                        a->boot.secrets_dir = optarg;
                        break;
                case ARG_HEADER_DIR:
                        a->boot.header_dir = optarg;
                        break;
                case ARG_NO_FAILURE_ACTION:
                        a->no_failure_action = true;
                        break;
                default:
                        return -(EINVAL | USAGE_ERROR_BIT);
                }
        if (optind < argc)
                return usage_error("Unexpected argument '%s'.", argv[optind]);
        if (!a->boot.rootmnt || !path_is_absolute(a->boot.rootmnt))
                return usage_error("--rootmnt needs the absolute path where the OS root is mounted.");
        return 0;
}

/* Does not return unless reboot() fails (not root, or a test's --no-failure-action). */
static int failure_action(FailureAction action, unsigned delay) {
        static const int cmd[_FAILURE_ACTION_MAX] = {
                [FAILURE_ACTION_HALT] = RB_HALT_SYSTEM,
                [FAILURE_ACTION_POWEROFF] = RB_POWER_OFF,
                [FAILURE_ACTION_REBOOT] = RB_AUTOBOOT,
        };

        sync();
        if (action != FAILURE_ACTION_HALT && delay > 0) {
                fprintf(stderr, "ephroot: %s in %u s.\n", failure_action_to_string(action), delay);
                (void) sleep(delay);
        } else if (action == FAILURE_ACTION_HALT)
                fputs("ephroot: halting.\n", stderr);
        (void) reboot(cmd[action]);
        return -errno;
}

static void fail_line(const char *what) {
        fprintf(stderr, "ephroot: boot failed: %s\n", what);
        fflush(stderr);
}

int verb_boot(int argc, char **argv, const CommonArgs *common) {
        _cleanup_(config_done) Config config = {};
        _cleanup_(boot_status_done) BootStatus st = {};
        _cleanup_free_ char *cmdline = NULL;
        VerbBootArgs a = {};
        int r, k;

        r = parse_args(argc, argv, &a);
        if (r < 0)
                return r;

        /* From here on, errors are collected and the boot prints the first as its one failure line. */
        log_set_defer_errors(true);

        r = cmdline_read(a.cmdline_file ?: PROC_CMDLINE, &cmdline);
        if (r >= 0)
                r = config_init(&config) < 0 ? log_oom() : 0;
        if (r >= 0)
                r = config_load(&config, common->config_path ?: CONFIG_FILE_DEFAULT, !!common->config_path, cmdline);
        if (r < 0) {
                /* Whether ephroot was meant to run is unknown: never guess, never continue. */
                fail_line(log_first_error() ?: "cannot read the configuration");
                if (!a.no_failure_action)
                        (void) failure_action(FAILURE_ACTION_HALT, 0);
                return r;
        }
        if (!config.enabled) {
                log_debug("ephroot is not enabled, leaving the boot alone.");
                return 0;
        }
        if (common->tcti && free_and_strdup(&config.tcti, common->tcti) < 0)
                return log_oom();
        log_set_max_level(common->log_level >= 0 ? common->log_level : config.log_level);

        a.boot.cmdline = cmdline;
        r = boot_run(&config, &a.boot, &st);

        k = boot_status_write(&config, &st, a.status ?: BOOT_STATUS_PATH);
        if (k < 0)
                log_warning_errno(k, "Failed to write '%s', ignoring: %m", a.status ?: BOOT_STATUS_PATH);

        if (r < 0) {
                fail_line(st.error ?: "unknown error");
                if (!a.no_failure_action) {
                        k = failure_action(config.failure_action, config.failure_delay);
                        fprintf(stderr, "ephroot: the failure action failed (%s); the boot script must halt.\n",
                                strerror(-k));
                }
                return r;
        }

        printf("ephroot: root ready on %s (%s mode) in %" PRIu64 " ms\n", st.dm_node, root_mode_to_string(config.mode),
               st.total_usec / 1000);
        return 0;
}

/* `ephroot boot-failed [--if-service-failed]`: the guard's half of failing closed. The boot script
 * (initramfs-tools) and ephroot.service's ExecStopPost= (systemd-based initrds) run it when
 * `ephroot boot` did not finish: killed, crashed, or its failure action did not stop the machine.
 * It extends "ephroot-failure:v1 phase=unfinished" into every PCR ephroot uses, so attestation cannot
 * succeed after a boot that ephroot did not complete, even though ephroot itself could not say so.
 * The configuration is read as at boot; if it cannot be (which may be why the boot failed), the
 * built-in PCRs and TCTI are used. It extends whether or not ephroot is enabled: the boot is
 * stopping anyway. --if-service-failed: nothing when systemd's $SERVICE_RESULT is "success" (the
 * unit, carried into the real system, is stopped at shutdown). */
int verb_boot_failed(int argc, char **argv, const CommonArgs *common) {
        static const struct option options[] = {
                { "if-service-failed", no_argument, NULL, ARG_IF_SERVICE_FAILED },
                { "cmdline-file", required_argument, NULL, ARG_CMDLINE_FILE },
                {},
        };
        _cleanup_(config_done) Config config = {};
        _cleanup_(tpm2_context_freep) Tpm2Context *tpm = NULL;
        _cleanup_free_ char *cmdline = NULL;
        const char *cmdline_file = PROC_CMDLINE, *result;
        bool if_failed = false;
        unsigned banks = 0;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_IF_SERVICE_FAILED:
                        if_failed = true;
                        break;
                case ARG_CMDLINE_FILE:
                        cmdline_file = optarg;
                        break;
                default:
                        return -(EINVAL | USAGE_ERROR_BIT);
                }
        if (optind < argc)
                return usage_error("Unexpected argument '%s'.", argv[optind]);

        /* A deadline of its own: the boot script stops the machine after this returns, and a TPM that
         * never answers must not keep it from doing so (SIGALRM ends the process). */
        (void) alarm(BOOT_FAILED_TIMEOUT_SEC);

        result = getenv("SERVICE_RESULT");
        if (if_failed && result && streq(result, "success")) {
                log_debug("SERVICE_RESULT=success: the boot finished, nothing to measure.");
                return 0;
        }

        if (cmdline_read(cmdline_file, &cmdline) < 0 ||
            verbs_load_config(&config, common, CONFIG_FILE_DEFAULT, cmdline) < 0) {
                /* Half-loaded values must not be used: back to the built-in defaults (and --tcti). */
                config_done(&config);
                config = (Config) {};
                if (config_init(&config) < 0 || (common->tcti && free_and_strdup(&config.tcti, common->tcti) < 0))
                        return log_oom();
                log_warning("The configuration cannot be read: using the built-in PCRs and TCTI.");
        }
        if (!config.tpm_required) {
                fputs("ephroot: tpm=none: no failure event can be measured.\n", stderr);
                return 0;
        }

        r = tpm2_context_new(config.tcti, &tpm);
        if (r < 0)
                return log_error_errno(r, "Failed to open the TPM through TCTI '%s' for the failure event: %m", config.tcti);
        r = measure_get_banks(tpm, config.tcti, &banks);
        if (r < 0)
                return r;
        r = boot_measure_failure(tpm, &config, BOOT_PHASE_UNFINISHED);
        if (r < 0)
                return log_error_errno(r, "Failed to measure the failure event into every PCR: %m");
        fprintf(stderr, "ephroot: the boot did not finish%s%s%s: failure event measured into %d PCR%s (%u bank%s).\n",
                result ? " (" : "", strempty(result), result ? ")" : "", r, r == 1 ? "" : "s",
                (unsigned) __builtin_popcount(banks), __builtin_popcount(banks) == 1 ? "" : "s");
        return 0;
}
