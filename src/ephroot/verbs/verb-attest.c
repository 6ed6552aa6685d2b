/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `ephroot attest`: the attestation client alone, as the boot runs it (docs/attestation.md). */

#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "attest.h"
#include "evidence.h"
#include "log.h"
#include "util.h"
#include "verbs.h"

static struct {
        const char *secrets_dir;
        bool print_ak;
} arg;

enum {
        ARG_SECRETS_DIR = 0x100,
        ARG_CMDLINE_FILE,
        ARG_PRINT_AK,
};

static VerbResult parse_option(VerbContext *ctx, int c, const char *value) {
        switch (c) {
        case ARG_SECRETS_DIR:
                if (!path_is_absolute(value))
                        return verb_usage("--secrets-dir needs an absolute path, got '%s'.", value);
                arg.secrets_dir = value;
                return VERB_OK;
        case ARG_CMDLINE_FILE:
                ctx->cmdline_file = value;
                return VERB_OK;
        case ARG_PRINT_AK:
                arg.print_ak = true;
                return VERB_OK;
        default:
                return VERB_USAGE;
        }
}

/* --print-ak needs only the TPM; attesting needs a broker and an evidence provider. */
static int check_config(VerbContext *ctx) {
        return arg.print_ak ? 0 : attest_check_config(&ctx->config);
}

static int run(VerbContext *ctx) {
        const char *dir = arg.secrets_dir ?: ATTEST_SECRETS_DIR;
        const Config *c = &ctx->config;
        AttestResult res = {};
        int r;

        if (arg.print_ak) {
                _cleanup_free_ char *spki = NULL;

                r = evidence_tpm_ak_spki(ctx->tpm, c, &spki);
                if (r < 0)
                        return r;
                printf("%s\n", spki);
                return 0;
        }

        r = attest_run(c, ctx->tpm, dir, &res);
        if (r < 0)
                return r;
        printf("ephroot: attested to %s as %s in %" PRIu64 " ms (evidence %" PRIu64 " ms, %u HTTP requests); %u secret%s in %s\n",
               c->kbs_url, c->attest_tee, res.usec / 1000, res.evidence_usec / 1000, res.http_attempts, res.n_secrets,
               res.n_secrets == 1 ? "" : "s", dir);
        return 0;
}

static const struct option options[] = {
        { "secrets-dir", required_argument, NULL, ARG_SECRETS_DIR },
        { "cmdline-file", required_argument, NULL, ARG_CMDLINE_FILE },
        { "print-ak", no_argument, NULL, ARG_PRINT_AK },
        {},
};

const Verb verb_attest = {
        .name = "attest",
        .synopsis = "[--secrets-dir DIR] [--cmdline-file FILE] [--print-ak]",
        .help = "Attest to the key broker (kbs-url=) with evidence from the TPM and write the\n"
                "configured secret.<name>= resources to DIR (default /run/ephroot/secrets,\n"
                "tmpfs only). --print-ak prints the AK the tpm evidence uses (base64 DER).",
        .options = options,
        .needs = VERB_NEEDS_CONFIG | VERB_NEEDS_TPM,
        .parse_option = parse_option,
        .check_config = check_config,
        .run = run,
};
