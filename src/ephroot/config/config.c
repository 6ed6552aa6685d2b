/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>

#include "attest-proto.h"
#include "config-keys.h"
#include "log.h"
#include "util.h"

#define CMDLINE_PREFIX "ephroot."
#define CONFIG_VALUE_MAX 4096U

typedef struct ConfigParseState {
        Config *config;
        const char *origin;
        bool cmdline;                           /* the kernel command line: lock = yes binds it */
        bool seen[CONFIG_ITEMS_MAX];
        char *seen_secrets[CONFIG_SECRETS_MAX]; /* names given in this source */
} ConfigParseState;

static void config_parse_state_done(ConfigParseState *s) {
        for (size_t i = 0; i < CONFIG_SECRETS_MAX; i++)
                s->seen_secrets[i] = mfree(s->seen_secrets[i]);
}

/* secret.<name> = <repo>/<type>/<tag>: a resource fetched after attestation into
 * /run/ephroot/secrets/<name>. The name keeps its case (it is a file name). */
static int config_set_secret(ConfigParseState *s, const char *name, const char *value) {
        Config *c = s->config;
        size_t i, slot = SIZE_MAX;

        if (!attest_proto_secret_name_valid(name))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: Invalid secret name '%s' (1 to 64 of A-Z a-z 0-9 . _ -, not starting with '.'), refusing.",
                                       s->origin, name);
        if (!value || !attest_proto_resource_path_valid(value))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: 'secret.%s' needs a resource <repo>/<type>/<tag> (A-Z a-z 0-9 . _ -), refusing.",
                                       s->origin, name);
        for (i = 0; i < CONFIG_SECRETS_MAX && s->seen_secrets[i]; i++)
                if (streq(s->seen_secrets[i], name))
                        return log_error_errno(SYNTHETIC_ERRNO(EEXIST),
                                               "%s: Setting 'secret.%s' given more than once, refusing.", s->origin, name);
        for (size_t j = 0; j < c->n_secrets; j++)
                if (streq(c->secrets[j].name, name))
                        slot = j;
        if (s->cmdline && c->lock && (slot == SIZE_MAX || !streq_ptr(c->secrets[slot].resource, value)))
                return log_error_errno(SYNTHETIC_ERRNO(EPERM),
                                       "%s: 'secret.%s' is locked by the configuration file (lock = yes): the command line may not add or change a secret, refusing.",
                                       s->origin, name);
        if (slot == SIZE_MAX) {
                if (c->n_secrets >= CONFIG_SECRETS_MAX || i >= CONFIG_SECRETS_MAX)
                        return log_error_errno(SYNTHETIC_ERRNO(E2BIG), "%s: More than %u secrets, refusing.", s->origin,
                                               CONFIG_SECRETS_MAX);
                slot = c->n_secrets;
                c->secrets[slot].name = strdup(name);
                if (!c->secrets[slot].name)
                        return log_oom();
                c->n_secrets++;
        }
        if (i < CONFIG_SECRETS_MAX && !(s->seen_secrets[i] = strdup(name)))
                return log_oom();
        return free_and_strdup(&c->secrets[slot].resource, value) < 0 ? log_oom() : 0;
}


int config_init(Config *c) {
        *c = (Config) {
                .enabled = false,
                .log_level = LOG_INFO,
                .pcr_kernel = 11,
                .pcr_initrd = 11,
                .pcr_cmdline = 12,
                .mode = ROOT_MODE_COPY,
                .host_mounts = HOST_MOUNTS_REFUSE,
                .verity_hash_offset = CONFIG_VERITY_HASH_OFFSET_AUTO,
                .verity_error = VERITY_ERROR_EIO,
                .failure_action = FAILURE_ACTION_HALT,
                .failure_delay = 10,
                .pcr_leave = 11,
                .pcr_disk = 15,
                .integrity = LUKS_INTEGRITY_NONE,
                .sector_size = 0,
                .discard = true,
                .format_discard = true,
                .no_read_workqueue = true,
                .no_write_workqueue = true,
                .tpm_required = true,
                .azure_report_timeout = 10,
                .attest = ATTEST_OFF,
                .attest_key = ATTEST_KEY_EC,
                .attest_pcrs = CONFIG_ATTEST_PCRS_DEFAULT,
                .attest_timeout = 60,
                .kbs_connect_timeout = 5,
                .kbs_retries = 3,
        };
        c->tcti = strdup(CONFIG_TCTI_DEFAULT);
        c->attest_tee = strdup("tpm");
        c->measure_log = strdup(CONFIG_MEASURE_LOG_DEFAULT);
        c->device = strdup(CONFIG_DEVICE_AUTO);
        c->azure_imds_url = strdup(CONFIG_AZURE_IMDS_URL_DEFAULT);
        if (!c->tcti || !c->measure_log || !c->device || !c->azure_imds_url || !c->attest_tee) {
                config_done(c);
                return -ENOMEM;
        }
        return 0;
}

void config_done(Config *c) {
        if (!c)
                return;
        c->tcti = mfree(c->tcti);
        c->measure_log = mfree(c->measure_log);
        c->device = mfree(c->device);
        c->force_format = mfree(c->force_format);
        c->verity_hash_device = mfree(c->verity_hash_device);
        c->azure_imds_url = mfree(c->azure_imds_url);
        c->kbs_url = mfree(c->kbs_url);
        c->kbs_ca_file = mfree(c->kbs_ca_file);
        c->kbs_pin = mfree(c->kbs_pin);
        c->attest_tee = mfree(c->attest_tee);
        c->attest_vcek_file = mfree(c->attest_vcek_file);
        for (size_t i = 0; i < c->n_secrets; i++) {
                c->secrets[i].name = mfree(c->secrets[i].name);
                c->secrets[i].resource = mfree(c->secrets[i].resource);
        }
        c->n_secrets = 0;
}

/* lock = yes, and the command line names a security-relevant key: the same value is accepted (it
 * changes nothing), another one is refused. The value is parsed as usual (a malformed one is refused
 * as such) and both are compared as `ephroot config` prints them. On refusal the Config holds the new
 * value: the caller treats any failure as fatal. */
static int config_set_locked_item(ConfigParseState *s, const ConfigItem *item, const char *key, const char *value) {
        _cleanup_free_ char *before = NULL, *after = NULL;
        void *field = (uint8_t *) s->config + item->offset;
        int r;

        if (streq(key, "lock"))
                return log_error_errno(SYNTHETIC_ERRNO(EPERM),
                                       "%s: Setting 'lock' belongs to the configuration file alone, refusing.", s->origin);
        r = item->format(field, &before);
        if (r < 0)
                return log_oom();
        r = item->parse(key, value, field, s->origin);
        if (r < 0)
                return r;
        r = item->format(field, &after);
        if (r < 0)
                return log_oom();
        if (!streq_ptr(before, after))
                return log_error_errno(SYNTHETIC_ERRNO(EPERM),
                                       "%s: Setting '%s' is locked by the configuration file (lock = yes): the command line may not change it from '%s' to '%s', refusing.",
                                       s->origin, key, strna(before), strna(after));
        return 0;
}

static int config_set_item(ConfigParseState *s, const char *key, const char *value) {
        for (size_t i = 0; i < config_items_count; i++) {
                const ConfigItem *item = config_items + i;

                if (!streq(key, item->key))
                        continue;

                if (item->security && s->seen[i])
                        return log_error_errno(SYNTHETIC_ERRNO(EEXIST),
                                               "%s: Setting '%s' given more than once, refusing.", s->origin, key);
                s->seen[i] = true;

                if (!value)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: Setting '%s' needs a value, refusing.",
                                               s->origin, key);
                if (isempty(value))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "%s: Setting '%s' has an empty value, refusing.", s->origin, key);
                if (strlen(value) > CONFIG_VALUE_MAX)
                        return log_error_errno(SYNTHETIC_ERRNO(E2BIG), "%s: Value of '%s' is too long, refusing.",
                                               s->origin, key);
                for (const char *p = value; *p; p++)
                        if (iscntrl((unsigned char) *p))
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "%s: Value of '%s' contains a control character, refusing.",
                                                       s->origin, key);

                if (s->cmdline && item->security && (s->config->lock || streq(key, "lock")))
                        return config_set_locked_item(s, item, key, value);
                return item->parse(key, value, (uint8_t *) s->config + item->offset, s->origin);
        }

        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: Unknown setting '%s', refusing.", s->origin, key);
}

static char *trim(char *s) {
        char *e;

        while (*s == ' ' || *s == '\t')
                s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                *--e = '\0';
        return s;
}

int config_parse_text(Config *c, const char *text, const char *origin) {
        _cleanup_(config_parse_state_done) ConfigParseState s = { .config = c, .origin = origin };
        _cleanup_free_ char *copy = NULL;
        unsigned lineno = 0;
        char *p, *line;

        assert_return(c, -EINVAL);
        assert_return(text, -EINVAL);

        if (strlen(text) > CONFIG_FILE_SIZE_MAX)
                return log_error_errno(SYNTHETIC_ERRNO(EFBIG), "%s: Configuration is larger than %u bytes, refusing.",
                                       origin, CONFIG_FILE_SIZE_MAX);

        copy = strdup(text);
        if (!copy)
                return log_oom();

        for (p = copy; (line = strsep(&p, "\n"));) {
                char where[256], key[CONFIG_KEY_MAX], *eq, *k, *v;
                size_t vl;
                int r;

                lineno++;
                (void) snprintf(where, sizeof(where), "%s:%u", origin, lineno);
                s.origin = where;

                line = trim(line);
                if (line[0] == '\0' || line[0] == '#')
                        continue;

                eq = strchr(line, '=');
                if (!eq)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "%s: Line is not of the form 'key = value', refusing.", where);
                *eq = '\0';
                k = trim(line);
                v = trim(eq + 1);

                /* Allow the value to be wrapped in double quotes, as in systemd's env files. */
                vl = strlen(v);
                if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
                        v[vl - 1] = '\0';
                        v++;
                } else if (strchr(v, '"'))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: Unbalanced quote in value of '%s', refusing.",
                                               where, k);

                if (startswith(k, CMDLINE_PREFIX))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "%s: Setting '%s' carries the command line prefix; write it without '" CMDLINE_PREFIX "', refusing.",
                                               where, k);
                if (startswith(k, "secret.")) {
                        r = config_set_secret(&s, k + strlen("secret."), v);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (config_key_normalize(k, strlen(k), key, sizeof(key)) < 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: Invalid setting name '%s', refusing.",
                                               where, k);

                r = config_set_item(&s, key, v);
                if (r < 0)
                        return r;
        }

        /* Locked off would make the command line unable to turn ephroot on, silently. */
        if (c->lock && !c->enabled)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: 'lock = yes' needs 'enabled = yes', refusing.",
                                       origin);
        return 0;
}

int cmdline_foreach_word(const char *cmdline, int (*cb)(const char *word, void *userdata), void *userdata) {
        _cleanup_free_ char *word = NULL;
        const char *p = cmdline;

        assert_return(cmdline, -EINVAL);
        assert_return(cb, -EINVAL);

        if (strlen(cmdline) > CMDLINE_SIZE_MAX)
                return -E2BIG;

        word = malloc(strlen(cmdline) + 1);
        if (!word)
                return -ENOMEM;

        for (;;) {
                bool quoted = false;
                size_t n = 0;
                int r;

                while (*p && isspace((unsigned char) *p))
                        p++;
                if (!*p)
                        return 0;

                for (; *p && (quoted || !isspace((unsigned char) *p)); p++) {
                        if (*p == '"') {
                                quoted = !quoted;
                                continue;
                        }
                        word[n++] = *p;
                }
                word[n] = '\0';

                /* Like the kernel: everything after "--" is for init, not for us. */
                if (streq(word, "--"))
                        return 0;

                r = cb(word, userdata);
                if (r < 0)
                        return r;
        }
}

static int cmdline_word(const char *word, void *userdata) {
        ConfigParseState *s = userdata;
        char key[CONFIG_KEY_MAX];
        const char *eq, *k;

        if (streq(word, "ephroot"))
                return config_set_item(s, "enabled", "on");
        if (startswith(word, "ephroot="))
                return config_set_item(s, "enabled", word + strlen("ephroot="));

        k = startswith(word, CMDLINE_PREFIX);
        if (!k)
                return 0; /* not ours */

        eq = strchr(k, '=');
        if (startswith(k, "secret.")) {
                _cleanup_free_ char *name = strndup(k + strlen("secret."),
                                                    eq ? (size_t) (eq - k) - strlen("secret.") : strlen(k));
                if (!name)
                        return log_oom();
                return config_set_secret(s, name, eq ? eq + 1 : NULL);
        }
        if (config_key_normalize(k, eq ? (size_t) (eq - k) : strlen(k), key, sizeof(key)) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: Invalid setting name '%s', refusing.", s->origin,
                                       word);
        return config_set_item(s, key, eq ? eq + 1 : NULL);
}

int config_parse_cmdline(Config *c, const char *cmdline) {
        _cleanup_(config_parse_state_done) ConfigParseState s = { .config = c, .origin = "kernel command line",
                                                                  .cmdline = true };
        int r;

        assert_return(c, -EINVAL);
        assert_return(cmdline, -EINVAL);

        r = cmdline_foreach_word(cmdline, cmdline_word, &s);
        if (r == -E2BIG)
                return log_error_errno(SYNTHETIC_ERRNO(E2BIG), "Kernel command line is longer than %u bytes, refusing.",
                                       CMDLINE_SIZE_MAX);
        if (r == -ENOMEM)
                return log_oom();
        return r;
}

void config_luks_params(const Config *c, LuksParams *ret) {
        luks_params_init(ret);
        ret->integrity = c->integrity;
        ret->sector_size = c->sector_size;
        ret->allow_discards = c->discard;
        ret->format_discard = c->format_discard;
        ret->no_read_workqueue = c->no_read_workqueue;
        ret->no_write_workqueue = c->no_write_workqueue;
}
