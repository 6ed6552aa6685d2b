/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ephroot's main(): the common options, then the verb: its options in one loop (every verb answers
 * --help), what its table entry says it needs (configuration, TPM) set up once, the verb run, and the
 * result turned into the exit status. */

#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "log.h"
#include "util.h"
#include "verbs.h"

/* In the order --help lists them. */
static const Verb *const verbs[] = {
        &verb_measure, &verb_predict,     &verb_config, &verb_probe,  &verb_boot,
        &verb_boot_failed, &verb_root_hash, &verb_volume, &verb_attest, &verb_reference,
        &verb_verity_format,
};

#define VERB_OPTIONS_MAX 16

/* Prints text line by line, the first line after lead, the others indented as far. */
static void print_lines(const char *lead, const char *text) {
        int indent = (int) strlen(lead);

        for (bool first = true;; first = false) {
                size_t n = strcspn(text, "\n");

                printf("%*s%.*s\n", first ? 0 : indent, first ? lead : "", (int) n, text);
                text += n;
                if (text[0] == '\0' || text[1] == '\0')
                        return;
                text++;
        }
}

/* "  NAME SYNOPSIS" with the synopsis's continuation lines aligned under it, then the help. */
static void print_verb(const Verb *v, const char *prefix, const char *help_indent) {
        char lead[64];

        (void) snprintf(lead, sizeof(lead), "%s%s ", prefix, v->name);
        print_lines(lead, v->synopsis);
        print_lines(help_indent, v->help);
}

static void help(void) {
        printf("ephroot %s: an encrypted, ephemeral root for confidential VMs.\n"
               "\n"
               "Usage: ephroot [OPTIONS] VERB [VERB OPTIONS]\n"
               "\n"
               "Verbs:\n",
               PROJECT_VERSION);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                print_verb(verbs[i], "  ", "        ");
        printf("\n"
               "Options:\n"
               "  --config FILE      Configuration file (default %s; predict: none unless given)\n"
               "  --tcti STRING      TPM access, e.g. device:/dev/tpmrm0 or swtpm:host=127.0.0.1,port=2321\n"
               "  --log-level LEVEL  emerg..debug (default: from configuration, else info)\n"
               "  --log-target T     auto, journal, kmsg or stderr (default auto)\n"
               "  -h --help          Show this help (after a verb: the verb's)\n"
               "  --version          Show the version\n"
               "\n"
               "Exit status: 0 success, 1 the operation failed, 2 bad usage or configuration.\n",
               CONFIG_FILE_DEFAULT);
}

static void verb_help(const Verb *v) {
        char lead[64];

        (void) snprintf(lead, sizeof(lead), "Usage: ephroot [OPTIONS] %s ", v->name);
        print_lines(lead, v->synopsis);
        putchar('\n');
        print_lines("", v->help);
        printf("\nThe OPTIONS every verb takes are listed by 'ephroot --help'; ephroot(8) has the details.\n");
}

static VerbResult parse_verb_args(const Verb *v, int argc, char **argv, VerbContext *ctx) {
        struct option options[VERB_OPTIONS_MAX + 2] = {};
        size_t n = 0;
        int c;

        for (const struct option *o = v->options; o && o->name; o++) {
                assert_return(n < VERB_OPTIONS_MAX, VERB_FAILED);
                options[n++] = *o;
        }
        options[n] = (struct option) { "help", no_argument, NULL, 'h' };

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                VerbResult res;

                if (c == 'h') {
                        verb_help(v);
                        return VERB_DONE;
                }
                if (c == '?' || c == ':' || !v->parse_option)
                        return VERB_USAGE; /* getopt_long() said why */
                res = v->parse_option(ctx, c, optarg);
                if (res != VERB_OK)
                        return res;
        }
        if (v->parse_args)
                return v->parse_args(ctx, argc - optind, argv + optind);
        if (optind < argc)
                return verb_usage("Unexpected argument '%s'.", argv[optind]);
        return VERB_OK;
}

static int exit_status(VerbResult res) {
        switch (res) {
        case VERB_OK:
        case VERB_DONE:
                return EXIT_SUCCESS;
        case VERB_USAGE:
                return EXIT_USAGE;
        default:
                return EXIT_FAILURE;
        }
}

static VerbResult setup(const Verb *v, VerbContext *ctx) {
        VerbResult res;
        int r;

        if (v->needs & VERB_NEEDS_CONFIG) {
                res = verbs_load_config(ctx);
                if (res != VERB_OK && v->config_failed)
                        res = v->config_failed(ctx, res);
                else if (res != VERB_OK)
                        log_error("%s", ctx->error.message);
                if (res != VERB_OK)
                        return res;
        }
        if (v->check_config && v->check_config(ctx) < 0)
                return VERB_USAGE;
        if ((v->needs & VERB_NEEDS_TPM_ALWAYS) || ((v->needs & VERB_NEEDS_TPM) && ctx->config.tpm_required)) {
                r = boot_open_tpm(&ctx->config, &ctx->tpm, /* e= */ NULL);
                if (r < 0)
                        return VERB_FAILED;
        }
        return VERB_OK;
}

static int run_verb(const Verb *v, int argc, char **argv, const CommonArgs *common) {
        _cleanup_(verb_context_done) VerbContext ctx = {
                .common = common,
                .config_file = v->needs & VERB_NO_CONFIG_FILE ? NULL : CONFIG_FILE_DEFAULT,
                .cmdline_file = v->needs & VERB_NO_CMDLINE ? NULL : PROC_CMDLINE,
        };
        VerbResult res;

        res = parse_verb_args(v, argc, argv, &ctx);
        if (res == VERB_OK)
                res = setup(v, &ctx);
        if (res == VERB_OK)
                res = v->run(&ctx) < 0 ? VERB_FAILED : VERB_OK;
        return exit_status(res);
}

enum {
        ARG_VERSION = 0x100,
        ARG_CONFIG,
        ARG_TCTI,
        ARG_LOG_LEVEL,
        ARG_LOG_TARGET,
};

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "tcti", required_argument, NULL, ARG_TCTI },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "log-target", required_argument, NULL, ARG_LOG_TARGET },
                {},
        };
        CommonArgs common = { .log_level = -1 };
        const char *env;
        int c, r;

        /* Keys will live in this process: keep its memory out of swap and core dumps. Best effort. */
        (void) prctl(PR_SET_DUMPABLE, 0);
        if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
                log_debug_errno(errno, "Failed to lock memory, continuing: %m");

        env = secure_getenv("EPHROOT_LOG_TARGET");
        if (env) {
                r = log_target_from_string(env);
                if (r >= 0)
                        log_set_target(r);
        }

        /* "+" stops at the verb: what follows belongs to it. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        printf("ephroot %s\n", PROJECT_VERSION);
                        return EXIT_SUCCESS;
                case ARG_CONFIG:
                        common.config_path = optarg;
                        break;
                case ARG_TCTI:
                        common.tcti = optarg;
                        break;
                case ARG_LOG_LEVEL:
                        common.log_level = log_level_from_string(optarg);
                        if (common.log_level < 0) {
                                log_error("Invalid --log-level '%s'.", optarg);
                                return EXIT_USAGE;
                        }
                        log_set_max_level(common.log_level);
                        break;
                case ARG_LOG_TARGET:
                        r = log_target_from_string(optarg);
                        if (r < 0) {
                                log_error("Invalid --log-target '%s'.", optarg);
                                return EXIT_USAGE;
                        }
                        log_set_target(r);
                        break;
                default:
                        return EXIT_USAGE;
                }

        if (optind >= argc) {
                log_error("No verb given; see 'ephroot --help'.");
                return EXIT_USAGE;
        }

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[optind], verbs[i]->name)) {
                        r = run_verb(verbs[i], argc - optind, argv + optind, &common);
                        log_close();
                        return r;
                }

        log_error("Unknown verb '%s'; see 'ephroot --help'.", argv[optind]);
        return EXIT_USAGE;
}
