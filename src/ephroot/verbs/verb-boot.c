/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `ephroot boot` and `ephroot boot-failed`: the boot in the initramfs, and its guard. */

#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "boot.h"
#include "log.h"
#include "measure-boot.h"
#include "util.h"
#include "verbs.h"

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

static struct {
        BootArgs boot;
        const char *status;
        bool no_failure_action;
        bool if_service_failed;
} arg;

static VerbResult parse_option(VerbContext *ctx, int c, const char *value) {
        switch (c) {
        case ARG_ROOTMNT:
                arg.boot.rootmnt = value;
                return VERB_OK;
        case ARG_KERNEL:
                arg.boot.kernel = value;
                return VERB_OK;
        case ARG_INITRD:
                arg.boot.initrd = value;
                return VERB_OK;
        case ARG_CMDLINE_FILE:
                ctx->cmdline_file = value;
                return VERB_OK;
        case ARG_STATUS:
                arg.status = value;
                return VERB_OK;
        case ARG_SECRETS_DIR:
                arg.boot.secrets_dir = value;
                return VERB_OK;
        case ARG_HEADER_DIR:
                arg.boot.header_dir = value;
                return VERB_OK;
        case ARG_NO_FAILURE_ACTION:
                arg.no_failure_action = true;
                return VERB_OK;
        case ARG_IF_SERVICE_FAILED:
                arg.if_service_failed = true;
                return VERB_OK;
        default:
                return VERB_USAGE;
        }
}

static VerbResult parse_boot_args(VerbContext *ctx, int argc, char **argv) {
        if (argc > 0)
                return verb_usage("Unexpected argument '%s'.", argv[0]);
        if (!arg.boot.rootmnt || !path_is_absolute(arg.boot.rootmnt))
                return verb_usage("--rootmnt needs the absolute path where the OS root is mounted.");
        if (!arg.boot.kernel != !arg.boot.initrd)
                return verb_usage("--kernel and --initrd go together: give both, or neither (the OS root's files).");
        return VERB_OK;
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

/* Whether ephroot was meant to run is unknown: never guess, never continue. */
static VerbResult boot_config_failed(VerbContext *ctx, VerbResult result) {
        fail_line(boot_error_isset(&ctx->error) ? ctx->error.message : "cannot read the configuration");
        if (!arg.no_failure_action)
                (void) failure_action(FAILURE_ACTION_HALT, 0);
        return VERB_FAILED;
}

static int run_boot(VerbContext *ctx) {
        _cleanup_(boot_status_done) BootStatus st = {};
        const Config *c = &ctx->config;
        const char *status = arg.status ?: BOOT_STATUS_PATH;
        int r, k;

        if (!c->enabled) {
                log_debug("ephroot is not enabled, leaving the boot alone.");
                return 0;
        }

        arg.boot.cmdline = ctx->cmdline;
        r = boot_run(c, &arg.boot, &st);

        k = boot_status_write(c, &st, status);
        if (k < 0)
                log_warning_errno(k, "Failed to write '%s', ignoring: %m", status);

        if (r < 0) {
                fail_line(st.error ?: "unknown error");
                if (!arg.no_failure_action) {
                        k = failure_action(c->failure_action, c->failure_delay);
                        fprintf(stderr, "ephroot: the failure action failed (%s); the boot script must halt.\n",
                                strerror(-k));
                }
                return r;
        }

        printf("ephroot: root ready on %s (%s mode) in %" PRIu64 " ms\n", st.dm_node, root_mode_to_string(c->mode),
               st.total_usec / 1000);
        return 0;
}

static const struct option boot_options[] = {
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

/* `ephroot boot --rootmnt DIR`, called by the initramfs-tools script once the OS root is mounted
 * read-only at DIR. Disabled (the default): returns at once and changes nothing. Enabled: runs the
 * phases (boot.c); on any failure prints one line, extends the failure event and halts, powers off
 * or reboots; it never returns to let the boot continue on the OS disk's root. The TPM is opened by
 * the measure phase. */
const Verb verb_boot = {
        .name = "boot",
        .synopsis = "--rootmnt DIR [--kernel FILE] [--initrd FILE] [--cmdline-file FILE]\n"
                    "[--status FILE] [--no-failure-action]",
        .help = "In the initramfs, when enabled: measure, key, format the disk, lay the OS\n"
                "root (mounted at DIR) on the encrypted volume. On failure: halt (see\n"
                "failure-action=). Does nothing when ephroot is not enabled.",
        .options = boot_options,
        .needs = VERB_NEEDS_CONFIG,
        .parse_option = parse_option,
        .parse_args = parse_boot_args,
        .config_failed = boot_config_failed,
        .run = run_boot,
};

/* A deadline of its own: the boot script stops the machine after this returns, and a TPM that never
 * answers must not keep it from doing so (SIGALRM ends the process). */
static VerbResult parse_boot_failed_args(VerbContext *ctx, int argc, char **argv) {
        const char *result = getenv("SERVICE_RESULT");

        if (argc > 0)
                return verb_usage("Unexpected argument '%s'.", argv[0]);
        (void) alarm(BOOT_FAILED_TIMEOUT_SEC);
        if (arg.if_service_failed && result && streq(result, "success")) {
                log_debug("SERVICE_RESULT=success: the boot finished, nothing to measure.");
                return VERB_DONE;
        }
        return VERB_OK;
}

/* Half-loaded values must not be used: back to the built-in defaults (and --tcti). */
static VerbResult boot_failed_config_failed(VerbContext *ctx, VerbResult result) {
        log_error("%s", ctx->error.message);
        config_done(&ctx->config);
        ctx->config = (Config) {};
        if (config_init(&ctx->config) < 0 ||
            (ctx->common->tcti && free_and_strdup(&ctx->config.tcti, ctx->common->tcti) < 0)) {
                (void) log_oom();
                return VERB_FAILED;
        }
        log_warning("The configuration cannot be read: using the built-in PCRs and TCTI.");
        return VERB_OK;
}

static int run_boot_failed(VerbContext *ctx) {
        _cleanup_(tpm2_context_freep) Tpm2Context *tpm = NULL;
        const char *result = getenv("SERVICE_RESULT");
        const Config *c = &ctx->config;
        unsigned banks = 0;
        int r;

        if (!c->tpm_required) {
                fputs("ephroot: tpm=none: no failure event can be measured.\n", stderr);
                return 0;
        }

        r = boot_open_tpm(c, &tpm, /* e= */ NULL);
        if (r < 0)
                return r;
        r = measure_get_banks(tpm, c->tcti, &banks);
        if (r < 0)
                return r;
        r = boot_measure_failure(tpm, c, BOOT_PHASE_UNFINISHED);
        if (r < 0)
                return log_error_errno(r, "Failed to measure the failure event into every PCR: %m");
        fprintf(stderr, "ephroot: the boot did not finish%s%s%s: failure event measured into %d PCR%s (%u bank%s).\n",
                result ? " (" : "", strempty(result), result ? ")" : "", r, r == 1 ? "" : "s",
                (unsigned) __builtin_popcount(banks), __builtin_popcount(banks) == 1 ? "" : "s");
        return 0;
}

static const struct option boot_failed_options[] = {
        { "if-service-failed", no_argument, NULL, ARG_IF_SERVICE_FAILED },
        { "cmdline-file", required_argument, NULL, ARG_CMDLINE_FILE },
        {},
};

/* `ephroot boot-failed [--if-service-failed]`: the guard's half of failing closed. The boot script
 * (initramfs-tools) and ephroot.service's ExecStopPost= (systemd-based initrds) run it when
 * `ephroot boot` did not finish: killed, crashed, or its failure action did not stop the machine.
 * It extends "ephroot-failure:v1 phase=unfinished" into every PCR ephroot uses, so attestation cannot
 * succeed after a boot that ephroot did not complete, even though ephroot itself could not say so.
 * The configuration is read as at boot; if it cannot be (which may be why the boot failed), the
 * built-in PCRs and TCTI are used. It extends whether or not ephroot is enabled: the boot is
 * stopping anyway. --if-service-failed: nothing when systemd's $SERVICE_RESULT is "success" (the
 * unit, carried into the real system, is stopped at shutdown). The TPM is opened after the deadline
 * is set, and only with tpm=required. */
const Verb verb_boot_failed = {
        .name = "boot-failed",
        .synopsis = "[--if-service-failed] [--cmdline-file FILE]",
        .help = "The boot's guard: when `boot` did not finish (killed, crashed), extend the\n"
                "failure event into every PCR ephroot uses. --if-service-failed: nothing when\n"
                "systemd's $SERVICE_RESULT is success (ExecStopPost= of ephroot.service).",
        .options = boot_failed_options,
        .needs = VERB_NEEDS_CONFIG,
        .parse_option = parse_option,
        .parse_args = parse_boot_failed_args,
        .config_failed = boot_failed_config_failed,
        .run = run_boot_failed,
};
