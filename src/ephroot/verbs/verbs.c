/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What the verbs share: their configuration loader. */

#include "config-load.h"
#include "log.h"
#include "util.h"
#include "verbs.h"

static VerbResult load_config(VerbContext *ctx) {
        const CommonArgs *common = ctx->common;
        int r;

        if (ctx->cmdline_file) {
                r = cmdline_read(ctx->cmdline_file, &ctx->cmdline);
                if (r < 0)
                        return VERB_FAILED;
        } else if (ctx->cmdline_text) {
                ctx->cmdline = strdup(ctx->cmdline_text);
                if (!ctx->cmdline) {
                        (void) log_oom();
                        return VERB_FAILED;
                }
        }

        r = config_init(&ctx->config);
        if (r < 0) {
                (void) log_oom();
                return VERB_FAILED;
        }
        r = config_load(&ctx->config, common->config_path ?: ctx->config_file, /* required= */ !!common->config_path,
                        ctx->cmdline);
        if (r < 0)
                return r == -ENOMEM ? VERB_FAILED : VERB_USAGE;
        if (common->tcti && free_and_strdup(&ctx->config.tcti, common->tcti) < 0) {
                (void) log_oom();
                return VERB_FAILED;
        }
        log_set_max_level(common->log_level >= 0 ? common->log_level : ctx->config.log_level);
        return VERB_OK;
}

VerbResult verbs_load_config(VerbContext *ctx) {
        VerbResult res;

        boot_error_collect(&ctx->error);
        res = load_config(ctx);
        boot_error_collect_end(&ctx->error);
        if (res != VERB_OK && !boot_error_isset(&ctx->error))
                (void) boot_error_set(&ctx->error, SYNTHETIC_ERRNO(EINVAL), "Failed to load the configuration.");
        return res;
}

void verb_context_done(VerbContext *ctx) {
        config_done(&ctx->config);
        ctx->cmdline = mfree(ctx->cmdline);
        ctx->tpm = tpm2_context_free(ctx->tpm);
}
