/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What several verbs share. */

#include "config-load.h"
#include "log.h"
#include "util.h"
#include "verbs.h"

int verbs_load_config(Config *c, const CommonArgs *common, const char *default_path, const char *cmdline) {
        int r;

        r = config_init(c);
        if (r < 0)
                return log_oom();
        r = config_load(c, common->config_path ?: default_path, /* required= */ !!common->config_path, cmdline);
        if (r < 0)
                return r == -ENOMEM ? r : -(ERRNO_VALUE(r) | USAGE_ERROR_BIT);
        if (common->tcti) {
                r = free_and_strdup(&c->tcti, common->tcti);
                if (r < 0)
                        return log_oom();
        }
        log_set_max_level(common->log_level >= 0 ? common->log_level : c->log_level);
        return 0;
}
