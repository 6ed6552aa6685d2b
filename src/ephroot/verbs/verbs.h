/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "config.h"

/* Exit codes, documented in ephroot(8) and docs/: only main() turns results into these. */
#define EXIT_USAGE 2

/* Options every verb understands, parsed by main() before the verb's own. */
typedef struct CommonArgs {
        const char *config_path; /* NULL: the verb's default */
        const char *tcti;        /* NULL: from configuration */
        int log_level;           /* -1: from configuration */
} CommonArgs;

/* Each verb returns 0, or -errno after logging; -EINVAL/-EEXIST from argument or configuration
 * parsing map to EXIT_USAGE through verb_exit_code(). */
int verb_measure(int argc, char **argv, const CommonArgs *common);
int verb_predict(int argc, char **argv, const CommonArgs *common);
int verb_config(int argc, char **argv, const CommonArgs *common);
int verb_probe(int argc, char **argv, const CommonArgs *common);
int verb_boot(int argc, char **argv, const CommonArgs *common);
int verb_boot_failed(int argc, char **argv, const CommonArgs *common);
int verb_root_hash(int argc, char **argv, const CommonArgs *common);
int verb_volume(int argc, char **argv, const CommonArgs *common);
int verb_attest(int argc, char **argv, const CommonArgs *common);

/* The configuration a verb runs with: defaults, then default_path (or --config, then required), then
 * the command line text; --tcti and --log-level override. A configuration error comes back marked
 * as a usage error (EXIT_USAGE). */
int verbs_load_config(Config *c, const CommonArgs *common, const char *default_path, const char *cmdline);

/* Marks an error as a usage/configuration error so main() exits with EXIT_USAGE. */
#define USAGE_ERROR_BIT (1 << 29)

/* Logs a usage error and returns it marked, for verbs' argument parsing. Needs log.h. */
#define usage_error(...) (log_error(__VA_ARGS__), -(EINVAL | USAGE_ERROR_BIT))
