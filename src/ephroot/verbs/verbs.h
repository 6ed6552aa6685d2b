/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The verbs' skeleton: each verb is a table entry saying what it needs and how its arguments are
 * parsed; main() parses them in one option loop (every verb answers --help), loads the configuration
 * and opens the TPM once, then runs the verb, and alone turns results into exit statuses. */

#include <getopt.h>

#include "boot.h"
#include "config.h"
#include "log.h"
#include "tpm2.h"

#define PROC_CMDLINE "/proc/cmdline"

/* Exit statuses, documented in ephroot(8): 0 success, 1 the operation failed, 2 bad usage or
 * configuration. */
#define EXIT_USAGE 2

/* Options every verb understands, parsed by main() before the verb's own. */
typedef struct CommonArgs {
        const char *config_path; /* NULL: the verb's default */
        const char *tcti;        /* NULL: from configuration */
        int log_level;           /* -1: from configuration */
} CommonArgs;

/* What parsing and setting up found, as main() maps it to the exit status. */
typedef enum VerbResult {
        VERB_OK,     /* go on */
        VERB_DONE,   /* nothing more to do: exit 0 (--help printed, nothing to measure) */
        VERB_FAILED, /* logged: exit 1 */
        VERB_USAGE,  /* bad usage or configuration, logged: exit 2 */
} VerbResult;

/* Logs a usage error and returns VERB_USAGE, for the verbs' parsers. */
#define verb_usage(...) (log_error(__VA_ARGS__), VERB_USAGE)

typedef enum VerbNeeds {
        VERB_NEEDS_CONFIG = 1 << 0,     /* the configuration with the kernel command line applied */
        VERB_NEEDS_TPM = 1 << 1,        /* the TPM, when tpm=required */
        VERB_NEEDS_TPM_ALWAYS = 1 << 2, /* the TPM, whatever tpm= says */
        VERB_NO_CONFIG_FILE = 1 << 3,   /* no configuration file unless --config names one */
        VERB_NO_CMDLINE = 1 << 4,       /* no /proc/cmdline unless the verb's options name one */
} VerbNeeds;

typedef struct VerbContext {
        const CommonArgs *common;
        /* Where the configuration comes from: set by main() from the table, changed by the verb's
         * parser (--cmdline-file, probe's root). NULL: none. */
        const char *config_file;  /* read unless --config names another; missing is fine */
        const char *cmdline_file; /* the kernel command line, e.g. /proc/cmdline */
        const char *cmdline_text; /* or the command line itself */
        /* Set up by main() before the verb runs. */
        Config config;            /* VERB_NEEDS_CONFIG */
        char *cmdline;            /* the command line that was applied, or NULL */
        Tpm2Context *tpm;         /* VERB_NEEDS_TPM: NULL with tpm=none */
        BootError error;          /* why the configuration could not be loaded */
} VerbContext;

typedef struct Verb {
        const char *name;
        const char *synopsis;          /* its arguments; a line after the first continues it */
        const char *help;              /* what it does, lines of about 80 columns */
        const struct option *options;  /* its own options; main() adds --help */
        VerbNeeds needs;
        /* Each of its options as getopt_long() returns it. */
        VerbResult (*parse_option)(VerbContext *ctx, int c, const char *arg);
        /* The words after the options and checks across them; NULL: no words allowed. */
        VerbResult (*parse_args)(VerbContext *ctx, int argc, char **argv);
        /* The configuration or the command line could not be loaded, as result says (ctx->error has
         * the sentence, not logged yet). NULL: the sentence is logged and result decides the exit
         * status. Else returns VERB_OK to go on with ctx->config as it is then, or the result to exit
         * with. */
        VerbResult (*config_failed)(VerbContext *ctx, VerbResult result);
        /* The verb's own checks of the configuration, before the TPM is opened: -errno: exit 2. */
        int (*check_config)(VerbContext *ctx);
        /* Returns 0, or -errno after logging (exit 1). */
        int (*run)(VerbContext *ctx);
} Verb;

extern const Verb verb_measure;
extern const Verb verb_predict;
extern const Verb verb_config;
extern const Verb verb_probe;
extern const Verb verb_boot;
extern const Verb verb_boot_failed;
extern const Verb verb_root_hash;
extern const Verb verb_volume;
extern const Verb verb_attest;
extern const Verb verb_reference;
extern const Verb verb_verity_format;

/* The one way a verb's configuration is loaded: defaults, then ctx->config_file (or --config, which
 * must exist), then the kernel command line (ctx->cmdline_text, or ctx->cmdline_file read); --tcti
 * and --log-level override. Logs nothing at error level: a failure's sentence is in ctx->error, and
 * VERB_FAILED (the command line could not be read, out of memory) or VERB_USAGE (the configuration
 * is wrong) says what it was. */
VerbResult verbs_load_config(VerbContext *ctx);

void verb_context_done(VerbContext *ctx);
