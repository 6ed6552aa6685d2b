/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>

#include "attest-proto.h"
#include "config.h"
#include "log.h"
#include "util.h"

#define CMDLINE_PREFIX "ephroot."
#define CONFIG_KEY_MAX 64U
#define CONFIG_VALUE_MAX 4096U

typedef int (*ConfigParser)(const char *key, const char *value, void *field, const char *origin);

typedef struct ConfigItem {
        const char *key;
        ConfigParser parse;
        size_t offset;
        bool security; /* given twice in one source: refused */
} ConfigItem;

typedef struct ConfigParseState {
        Config *config;
        const char *origin;
        bool seen[64];
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

static int parse_bool_item(const char *key, const char *value, void *field, const char *origin) {
        int r = parse_boolean(value);
        if (r < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: Invalid boolean '%s' for '%s', refusing.", origin, value, key);
        *(bool *) field = r;
        return 0;
}

static int parse_log_level_item(const char *key, const char *value, void *field, const char *origin) {
        int r = log_level_from_string(value);
        if (r < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: Invalid log level '%s' for '%s' (expected emerg..debug or 0..7), refusing.",
                                       origin, value, key);
        *(int *) field = r;
        return 0;
}

static int parse_pcr_item(const char *key, const char *value, void *field, const char *origin) {
        unsigned u;

        if (safe_atou(value, &u) < 0 || u < CONFIG_PCR_MIN || u > CONFIG_PCR_MAX)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: Invalid PCR '%s' for '%s' (expected %u..%u), refusing.", origin,
                                       value, key, CONFIG_PCR_MIN, CONFIG_PCR_MAX);
        *(unsigned *) field = u;
        return 0;
}

static int parse_tcti_item(const char *key, const char *value, void *field, const char *origin) {
        /* "<module>" or "<module>:<conf>"; the module name is looked up by the TSS loader, so keep it to
         * characters a library name may have. */
        size_t n = strcspn(value, ":");

        if (n == 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: Invalid TCTI '%s' for '%s', refusing.",
                                       origin, value, key);
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) value[i]) && !strchr("-_.", value[i]))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "%s: Invalid TCTI module name in '%s' for '%s', refusing.", origin,
                                               value, key);
        return free_and_strdup(field, value) < 0 ? log_oom() : 0;
}

static int parse_path_item(const char *key, const char *value, void *field, const char *origin) {
        if (!path_is_absolute(value))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: '%s' needs an absolute path, got '%s', refusing.", origin, key, value);
        return free_and_strdup(field, value) < 0 ? log_oom() : 0;
}

static int parse_device_item(const char *key, const char *value, void *field, const char *origin) {
        if (!streq(value, CONFIG_DEVICE_AUTO) && (!path_is_absolute(value) || strstr(value, "/../") ||
                                                   (strlen(value) >= 3 && streq(value + strlen(value) - 3, "/..")) ||
                                                   strpbrk(value, " \t")))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: '%s' needs 'auto' or an absolute device path, got '%s', refusing.", origin,
                                       key, value);
        return free_and_strdup(field, value) < 0 ? log_oom() : 0;
}

static int parse_identity_item(const char *key, const char *value, void *field, const char *origin) {
        /* A disk identity as `ephroot probe` prints it: vmbus:<device id>:lun<N>:size=<bytes> or
         * nvme:<serial>:ns<N>:size=<bytes>. Never a /dev/sdX name: those move between boots. */
        if ((!startswith(value, "vmbus:") && !startswith(value, "nvme:")) || strlen(value) > CONFIG_IDENTITY_MAX ||
            !strstr(value, ":size="))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: '%s' needs a disk identity as printed by 'ephroot probe' (vmbus:... or nvme:...), got '%s', refusing.",
                                       origin, key, value);
        for (const char *p = value; *p; p++)
                if (!isgraph((unsigned char) *p))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "%s: '%s' contains a blank or non-ASCII character, refusing.", origin, key);
        return free_and_strdup(field, value) < 0 ? log_oom() : 0;
}

static const char *const root_mode_names[_ROOT_MODE_MAX] = {
        [ROOT_MODE_COPY] = "copy",
        [ROOT_MODE_OVERLAY] = "overlay",
};

static const char *const failure_action_names[_FAILURE_ACTION_MAX] = {
        [FAILURE_ACTION_HALT] = "halt",
        [FAILURE_ACTION_POWEROFF] = "poweroff",
        [FAILURE_ACTION_REBOOT] = "reboot",
};

const char *root_mode_to_string(RootMode m) {
        return m >= 0 && m < _ROOT_MODE_MAX ? root_mode_names[m] : NULL;
}

const char *failure_action_to_string(FailureAction a) {
        return a >= 0 && a < _FAILURE_ACTION_MAX ? failure_action_names[a] : NULL;
}

static int parse_mode_item(const char *key, const char *value, void *field, const char *origin) {
        for (RootMode m = 0; m < _ROOT_MODE_MAX; m++)
                if (streq(value, root_mode_names[m])) {
                        *(RootMode *) field = m;
                        return 0;
                }
        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: Invalid '%s' value '%s' (expected copy or overlay), refusing.",
                               origin, key, value);
}

static int parse_failure_action_item(const char *key, const char *value, void *field, const char *origin) {
        for (FailureAction a = 0; a < _FAILURE_ACTION_MAX; a++)
                if (streq(value, failure_action_names[a])) {
                        *(FailureAction *) field = a;
                        return 0;
                }
        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                               "%s: Invalid '%s' value '%s' (expected halt, poweroff or reboot), refusing.", origin, key,
                               value);
}

static int parse_delay_item(const char *key, const char *value, void *field, const char *origin) {
        unsigned u;

        if (safe_atou(value, &u) < 0 || u > CONFIG_FAILURE_DELAY_MAX)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: Invalid '%s' value '%s' (expected seconds, 0..%u), refusing.", origin, key,
                                       value, CONFIG_FAILURE_DELAY_MAX);
        *(unsigned *) field = u;
        return 0;
}

static int parse_integrity_item(const char *key, const char *value, void *field, const char *origin) {
        int r = luks_integrity_from_string(value);
        if (r < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: Invalid value '%s' for '%s' (expected none or hmac-sha256), refusing.", origin,
                                       value, key);
        *(LuksIntegrity *) field = r;
        return 0;
}

static int parse_sector_size_item(const char *key, const char *value, void *field, const char *origin) {
        unsigned u;

        if (safe_atou(value, &u) < 0 || (u != 0 && u != 512 && u != 4096))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: Invalid value '%s' for '%s' (expected 0 for auto, 512 or 4096), refusing.",
                                       origin, value, key);
        *(unsigned *) field = u;
        return 0;
}

static int parse_root_hash_item(const char *key, const char *value, void *field, const char *origin) {
        _cleanup_free_ void *bytes = NULL;
        RootHash *h = field;
        const char *hex = startswith(value, "sha256:");
        size_t n;

        if (!hex || unhexmem(hex, &bytes, &n) < 0 || n != CONFIG_ROOT_HASH_SIZE)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: Invalid '%s' value (expected sha256:<64 hex digits> as printed by 'ephroot root-hash'), refusing.",
                                       origin, key);
        memcpy(h->bytes, bytes, n);
        h->set = true;
        return 0;
}

static int parse_tpm_item(const char *key, const char *value, void *field, const char *origin) {
        if (streq(value, "required"))
                *(bool *) field = true;
        else if (streq(value, "none"))
                *(bool *) field = false;
        else
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: Invalid value '%s' for '%s' (expected required or none), refusing.", origin,
                                       value, key);
        return 0;
}

static int parse_http_url_item(const char *key, const char *value, void *field, const char *origin) {
        const char *rest = startswith(value, "http://");

        if (!rest)
                rest = startswith(value, "https://");
        if (!rest || isempty(rest) || strpbrk(value, " \t\"\\<>"))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: '%s' needs an http:// or https:// URL, got '%s', refusing.", origin, key, value);
        return free_and_strdup(field, value) < 0 ? log_oom() : 0;
}

static int parse_report_timeout_item(const char *key, const char *value, void *field, const char *origin) {
        unsigned u;

        if (safe_atou(value, &u) < 0 || u < 1 || u > CONFIG_AZURE_REPORT_TIMEOUT_MAX)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: Invalid '%s' value '%s' (expected seconds, 1..%u), refusing.", origin, key,
                                       value, CONFIG_AZURE_REPORT_TIMEOUT_MAX);
        *(unsigned *) field = u;
        return 0;
}

static const char *const attest_mode_names[_ATTEST_MODE_MAX] = {
        [ATTEST_OFF] = "off",
        [ATTEST_OPTIONAL] = "optional",
        [ATTEST_REQUIRED] = "required",
};

const char *attest_mode_to_string(AttestMode m) {
        return m >= 0 && m < _ATTEST_MODE_MAX ? attest_mode_names[m] : NULL;
}

static int parse_attest_item(const char *key, const char *value, void *field, const char *origin) {
        for (AttestMode m = 0; m < _ATTEST_MODE_MAX; m++)
                if (streq(value, attest_mode_names[m])) {
                        *(AttestMode *) field = m;
                        return 0;
                }
        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                               "%s: Invalid '%s' value '%s' (expected required, optional or off), refusing.", origin,
                               key, value);
}

static int parse_url_item(const char *key, const char *value, void *field, const char *origin) {
        /* The broker's base URL; the protocol's paths (/kbs/v0/...) are appended. */
        if ((!startswith(value, "https://") && !startswith(value, "http://")) || strlen(value) > 1024 ||
            strpbrk(value, " \t?#"))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: '%s' needs an http:// or https:// URL without query, got '%s', refusing.",
                                       origin, key, value);
        return free_and_strdup(field, value) < 0 ? log_oom() : 0;
}

static int parse_pin_item(const char *key, const char *value, void *field, const char *origin) {
        /* libcurl's form: sha256//<base64 of the SPKI's SHA-256>, several joined with ';'. */
        for (const char *p = value; *p;) {
                size_t l;
                const char *b = startswith(p, "sha256//");
                if (!b)
                        goto bad;
                l = strcspn(b, ";");
                if (l != 44)
                        goto bad;
                for (size_t i = 0; i < l; i++)
                        if (!isalnum((unsigned char) b[i]) && !strchr("+/=", b[i]))
                                goto bad;
                p = b + l;
                if (*p == ';')
                        p++;
        }
        return free_and_strdup(field, value) < 0 ? log_oom() : 0;
bad:
        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                               "%s: '%s' needs sha256//<base64 of the public key's SHA-256>[;...], refusing.", origin, key);
}

static int parse_tee_item(const char *key, const char *value, void *field, const char *origin) {
        if (!STR_IN_SET(value, "tpm", "svsm-vtpm", "az-snp-vtpm", "az-tdx-vtpm", "azure"))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: Invalid '%s' value '%s' (expected tpm, svsm-vtpm, az-snp-vtpm, az-tdx-vtpm or azure), refusing.",
                                       origin, key, value);
        return free_and_strdup(field, value) < 0 ? log_oom() : 0;
}

static int parse_attest_key_item(const char *key, const char *value, void *field, const char *origin) {
        if (streq(value, "ec"))
                *(AttestKeyType *) field = ATTEST_KEY_EC;
        else if (streq(value, "rsa"))
                *(AttestKeyType *) field = ATTEST_KEY_RSA;
        else
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: Invalid '%s' value '%s' (expected ec or rsa), refusing.",
                                       origin, key, value);
        return 0;
}

static int parse_ak_type_item(const char *key, const char *value, void *field, const char *origin) {
        if (streq(value, "rsa"))
                *(bool *) field = false;
        else if (streq(value, "ecc"))
                *(bool *) field = true;
        else
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: Invalid '%s' value '%s' (expected rsa or ecc), refusing.",
                                       origin, key, value);
        return 0;
}

static int parse_hierarchy_item(const char *key, const char *value, void *field, const char *origin) {
        if (streq(value, "owner"))
                *(bool *) field = false;
        else if (streq(value, "endorsement"))
                *(bool *) field = true;
        else
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: Invalid '%s' value '%s' (expected owner or endorsement), refusing.", origin,
                                       key, value);
        return 0;
}

/* "0-15", "0,2,4-7": PCRs 0..23. */
static int parse_pcr_list_item(const char *key, const char *value, void *field, const char *origin) {
        _cleanup_free_ char *copy = strdup(value);
        uint32_t mask = 0;
        char *p, *w;

        if (!copy)
                return log_oom();
        for (p = copy; (w = strsep(&p, ","));) {
                char *dash = strchr(w, '-');
                unsigned a, b;

                if (dash)
                        *dash = '\0';
                if (safe_atou(w, &a) < 0 || (dash ? safe_atou(dash + 1, &b) : (b = a, 0)) < 0 || a > b || b > 23)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "%s: Invalid '%s' value '%s' (expected PCRs 0..23 as a list of N or N-M), refusing.",
                                               origin, key, value);
                for (unsigned i = a; i <= b; i++)
                        mask |= 1U << i;
        }
        *(uint32_t *) field = mask;
        return 0;
}

static int parse_seconds_item(const char *key, const char *value, void *field, const char *origin) {
        unsigned u;

        if (safe_atou(value, &u) < 0 || u < 1 || u > CONFIG_ATTEST_TIMEOUT_MAX)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: Invalid '%s' value '%s' (expected seconds, 1..%u), refusing.", origin, key,
                                       value, CONFIG_ATTEST_TIMEOUT_MAX);
        *(unsigned *) field = u;
        return 0;
}

static int parse_retries_item(const char *key, const char *value, void *field, const char *origin) {
        unsigned u;

        if (safe_atou(value, &u) < 0 || u > 10)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: Invalid '%s' value '%s' (expected 0..10), refusing.",
                                       origin, key, value);
        *(unsigned *) field = u;
        return 0;
}

static const ConfigItem config_items[] = {
        { "enabled", parse_bool_item, offsetof(Config, enabled), true },
        { "log-level", parse_log_level_item, offsetof(Config, log_level), false },
        { "tcti", parse_tcti_item, offsetof(Config, tcti), true },
        { "pcr-kernel", parse_pcr_item, offsetof(Config, pcr_kernel), true },
        { "pcr-initrd", parse_pcr_item, offsetof(Config, pcr_initrd), true },
        { "pcr-cmdline", parse_pcr_item, offsetof(Config, pcr_cmdline), true },
        { "measure-log", parse_path_item, offsetof(Config, measure_log), true },
        { "device", parse_device_item, offsetof(Config, device), true },
        { "force-format", parse_identity_item, offsetof(Config, force_format), true },
        { "mode", parse_mode_item, offsetof(Config, mode), true },
        { "root-hash", parse_root_hash_item, offsetof(Config, root_hash), true },
        { "failure-action", parse_failure_action_item, offsetof(Config, failure_action), true },
        { "failure-delay", parse_delay_item, offsetof(Config, failure_delay), false },
        { "pcr-leave", parse_pcr_item, offsetof(Config, pcr_leave), true },
        { "pcr-disk", parse_pcr_item, offsetof(Config, pcr_disk), true },
        { "integrity", parse_integrity_item, offsetof(Config, integrity), true },
        { "sector-size", parse_sector_size_item, offsetof(Config, sector_size), false },
        { "discard", parse_bool_item, offsetof(Config, discard), false },
        { "format-discard", parse_bool_item, offsetof(Config, format_discard), false },
        { "no-read-workqueue", parse_bool_item, offsetof(Config, no_read_workqueue), false },
        { "no-write-workqueue", parse_bool_item, offsetof(Config, no_write_workqueue), false },
        { "tpm", parse_tpm_item, offsetof(Config, tpm_required), true },
        { "azure-imds-url", parse_http_url_item, offsetof(Config, azure_imds_url), false },
        { "azure-report-timeout", parse_report_timeout_item, offsetof(Config, azure_report_timeout), false },
        { "attest", parse_attest_item, offsetof(Config, attest), true },
        { "kbs-url", parse_url_item, offsetof(Config, kbs_url), true },
        { "kbs-ca-file", parse_path_item, offsetof(Config, kbs_ca_file), true },
        { "kbs-pin", parse_pin_item, offsetof(Config, kbs_pin), true },
        { "attest-tee", parse_tee_item, offsetof(Config, attest_tee), true },
        { "attest-key", parse_attest_key_item, offsetof(Config, attest_key), true },
        { "attest-ak-hierarchy", parse_hierarchy_item, offsetof(Config, attest_ak_endorsement), true },
        { "attest-ak-type", parse_ak_type_item, offsetof(Config, attest_ak_ecc), true },
        { "attest-pcrs", parse_pcr_list_item, offsetof(Config, attest_pcrs), true },
        { "attest-timeout", parse_seconds_item, offsetof(Config, attest_timeout), false },
        { "kbs-connect-timeout", parse_seconds_item, offsetof(Config, kbs_connect_timeout), false },
        { "kbs-retries", parse_retries_item, offsetof(Config, kbs_retries), false },
        { "attest-vcek-file", parse_path_item, offsetof(Config, attest_vcek_file), true },
};

int config_init(Config *c) {
        *c = (Config) {
                .enabled = false,
                .log_level = LOG_INFO,
                .pcr_kernel = 11,
                .pcr_initrd = 11,
                .pcr_cmdline = 12,
                .mode = ROOT_MODE_COPY,
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

static int config_set_item(ConfigParseState *s, const char *key, const char *value) {
        for (size_t i = 0; i < ELEMENTSOF(config_items); i++) {
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

                return item->parse(key, value, (uint8_t *) s->config + item->offset, s->origin);
        }

        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: Unknown setting '%s', refusing.", s->origin, key);
}

/* Copies a key into buf, normalising '_' to '-' (the kernel treats them alike in parameter names). */
static int normalize_key(const char *key, size_t len, char *buf, size_t bufsize) {
        if (len == 0 || len >= bufsize)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                char ch = key[i] == '_' ? '-' : key[i];
                if (!isalnum((unsigned char) ch) && ch != '-')
                        return -EINVAL;
                buf[i] = (char) tolower((unsigned char) ch);
        }
        buf[len] = '\0';
        return 0;
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
        _Static_assert(ELEMENTSOF(config_items) <= ELEMENTSOF(s.seen), "seen[] too small");

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
                if (normalize_key(k, strlen(k), key, sizeof(key)) < 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: Invalid setting name '%s', refusing.",
                                               where, k);

                r = config_set_item(&s, key, v);
                if (r < 0)
                        return r;
        }

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
        if (normalize_key(k, eq ? (size_t) (eq - k) : strlen(k), key, sizeof(key)) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: Invalid setting name '%s', refusing.", s->origin,
                                       word);
        return config_set_item(s, key, eq ? eq + 1 : NULL);
}

int config_parse_cmdline(Config *c, const char *cmdline) {
        _cleanup_(config_parse_state_done) ConfigParseState s = { .config = c, .origin = "kernel command line" };
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

int config_dump(const Config *c, FILE *f) {
        fprintf(f,
                "enabled = %s\n"
                "log-level = %s\n"
                "tcti = %s\n"
                "pcr-kernel = %u\n"
                "pcr-initrd = %u\n"
                "pcr-cmdline = %u\n"
                "measure-log = %s\n"
                "device = %s\n",
                c->enabled ? "yes" : "no", log_level_to_string(c->log_level), c->tcti, c->pcr_kernel, c->pcr_initrd,
                c->pcr_cmdline, c->measure_log, c->device);
        if (c->force_format)
                fprintf(f, "force-format = %s\n", c->force_format);
        else
                fputs("#force-format = (unset)\n", f);
        fprintf(f, "mode = %s\n", root_mode_to_string(c->mode));
        if (c->root_hash.set) {
                _cleanup_free_ char *hex = hexmem(c->root_hash.bytes, sizeof(c->root_hash.bytes));
                if (!hex)
                        return -ENOMEM;
                fprintf(f, "root-hash = sha256:%s\n", hex);
        } else
                fputs("#root-hash = (unset)\n", f);
        fprintf(f,
                "failure-action = %s\n"
                "failure-delay = %u\n"
                "pcr-leave = %u\n",
                failure_action_to_string(c->failure_action), c->failure_delay, c->pcr_leave);
        fprintf(f,
                "pcr-disk = %u\n"
                "integrity = %s\n"
                "sector-size = %u\n"
                "discard = %s\n"
                "format-discard = %s\n"
                "no-read-workqueue = %s\n"
                "no-write-workqueue = %s\n"
                "tpm = %s\n",
                c->pcr_disk, luks_integrity_to_string(c->integrity), c->sector_size, c->discard ? "yes" : "no",
                c->format_discard ? "yes" : "no", c->no_read_workqueue ? "yes" : "no",
                c->no_write_workqueue ? "yes" : "no", c->tpm_required ? "required" : "none");
        fprintf(f,
                "azure-imds-url = %s\n"
                "azure-report-timeout = %u\n",
                c->azure_imds_url, c->azure_report_timeout);
        fprintf(f, "attest = %s\n", attest_mode_to_string(c->attest));
        if (c->kbs_url)
                fprintf(f, "kbs-url = %s\n", c->kbs_url);
        else
                fputs("#kbs-url = (unset)\n", f);
        if (c->kbs_ca_file)
                fprintf(f, "kbs-ca-file = %s\n", c->kbs_ca_file);
        else
                fputs("#kbs-ca-file = (unset: the system's CA bundle)\n", f);
        if (c->kbs_pin)
                fprintf(f, "kbs-pin = %s\n", c->kbs_pin);
        else
                fputs("#kbs-pin = (unset)\n", f);
        fprintf(f, "attest-tee = %s\nattest-key = %s\nattest-ak-hierarchy = %s\nattest-ak-type = %s\nattest-pcrs =",
                c->attest_tee, c->attest_key == ATTEST_KEY_RSA ? "rsa" : "ec",
                c->attest_ak_endorsement ? "endorsement" : "owner", c->attest_ak_ecc ? "ecc" : "rsa");
        for (unsigned i = 0, first = 1; i < 24; i++) {
                unsigned j = i;
                if (!(c->attest_pcrs & (1U << i)))
                        continue;
                while (j + 1 < 24 && (c->attest_pcrs & (1U << (j + 1))))
                        j++;
                fprintf(f, "%s%u", first ? " " : ",", i);
                if (j > i)
                        fprintf(f, "-%u", j);
                first = 0;
                i = j;
        }
        fprintf(f, "\nattest-timeout = %u\nkbs-connect-timeout = %u\nkbs-retries = %u\n", c->attest_timeout,
                c->kbs_connect_timeout, c->kbs_retries);
        if (c->attest_vcek_file)
                fprintf(f, "attest-vcek-file = %s\n", c->attest_vcek_file);
        else
                fputs("#attest-vcek-file = (unset)\n", f);
        for (size_t i = 0; i < c->n_secrets; i++)
                fprintf(f, "secret.%s = %s\n", c->secrets[i].name, c->secrets[i].resource);
        return ferror(f) ? -EIO : 0;
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
