/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `ephroot attest`: the attestation client alone, as the boot runs it (docs/attestation.md). */

#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "attest.h"
#include "config-load.h"
#include "evidence.h"
#include "log.h"
#include "util.h"
#include "verbs.h"

#define PROC_CMDLINE "/proc/cmdline"

typedef struct AttestArgs {
        const char *secrets_dir;
        const char *cmdline_file;
        bool print_ak;
} AttestArgs;

enum {
        ARG_SECRETS_DIR = 0x100,
        ARG_CMDLINE_FILE,
        ARG_PRINT_AK,
};

static int parse_args(int argc, char **argv, AttestArgs *a) {
        static const struct option options[] = {
                { "secrets-dir", required_argument, NULL, ARG_SECRETS_DIR },
                { "cmdline-file", required_argument, NULL, ARG_CMDLINE_FILE },
                { "print-ak", no_argument, NULL, ARG_PRINT_AK },
                {},
        };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_SECRETS_DIR:
                        if (!path_is_absolute(optarg))
                                return usage_error("--secrets-dir needs an absolute path, got '%s'.", optarg);
                        a->secrets_dir = optarg;
                        break;
                case ARG_CMDLINE_FILE:
                        a->cmdline_file = optarg;
                        break;
                case ARG_PRINT_AK:
                        a->print_ak = true;
                        break;
                default:
                        return -(EINVAL | USAGE_ERROR_BIT);
                }
        if (optind < argc)
                return usage_error("Unexpected argument '%s'.", argv[optind]);
        return 0;
}

int verb_attest(int argc, char **argv, const CommonArgs *common) {
        _cleanup_(config_done) Config config = {};
        _cleanup_(tpm2_context_freep) Tpm2Context *tpm = NULL;
        _cleanup_free_ char *cmdline = NULL;
        AttestArgs a = {};
        AttestResult res = {};
        int r;

        r = parse_args(argc, argv, &a);
        if (r < 0)
                return r;
        r = cmdline_read(a.cmdline_file ?: PROC_CMDLINE, &cmdline);
        if (r < 0)
                return r;
        r = verbs_load_config(&config, common, CONFIG_FILE_DEFAULT, cmdline);
        if (r < 0)
                return r;

        if (config.tpm_required) {
                r = tpm2_context_new(config.tcti, &tpm);
                if (r < 0)
                        return log_error_errno(r, "Failed to open the TPM through TCTI '%s': %m", config.tcti);
        }

        if (a.print_ak) {
                _cleanup_free_ char *spki = NULL;
                r = evidence_tpm_ak_spki(tpm, &config, &spki);
                if (r < 0)
                        return r;
                printf("%s\n", spki);
                return 0;
        }

        r = attest_check_config(&config);
        if (r < 0)
                return -(ERRNO_VALUE(r) | USAGE_ERROR_BIT);
        r = attest_run(&config, tpm, a.secrets_dir ?: ATTEST_SECRETS_DIR, &res);
        if (r < 0)
                return r;
        printf("ephroot: attested to %s as %s in %" PRIu64 " ms (evidence %" PRIu64 " ms, %u HTTP requests); %u secret%s in %s\n",
               config.kbs_url, config.attest_tee, res.usec / 1000, res.evidence_usec / 1000, res.http_attempts,
               res.n_secrets, res.n_secrets == 1 ? "" : "s", a.secrets_dir ?: ATTEST_SECRETS_DIR);
        return 0;
}
