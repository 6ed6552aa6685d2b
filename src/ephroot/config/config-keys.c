/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The configuration keys: for each, how its value is parsed (config.c applies them, from the file and
 * the command line alike) and printed (`ephroot config`, `ephroot config --get KEY`). */

#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdio.h>

#include "attest-proto.h"
#include "config-keys.h"
#include "log.h"
#include "util.h"

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

static const char *const host_mounts_names[_HOST_MOUNTS_MAX] = {
        [HOST_MOUNTS_REFUSE] = "refuse",
        [HOST_MOUNTS_COMMENT] = "comment",
};

const char *host_mounts_to_string(HostMounts h) {
        return h >= 0 && h < _HOST_MOUNTS_MAX ? host_mounts_names[h] : NULL;
}

static int parse_host_mounts_item(const char *key, const char *value, void *field, const char *origin) {
        for (HostMounts h = 0; h < _HOST_MOUNTS_MAX; h++)
                if (streq(value, host_mounts_names[h])) {
                        *(HostMounts *) field = h;
                        return 0;
                }
        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                               "%s: Invalid '%s' value '%s' (expected refuse or comment), refusing.", origin, key, value);
}

static const char *const boot_chain_names[_BOOT_CHAIN_MAX] = {
        [BOOT_CHAIN_AUTO] = "auto",
        [BOOT_CHAIN_REQUIRED] = "required",
        [BOOT_CHAIN_OFF] = "off",
};

const char *boot_chain_to_string(BootChain b) {
        return b >= 0 && b < _BOOT_CHAIN_MAX ? boot_chain_names[b] : NULL;
}

static int parse_boot_chain_item(const char *key, const char *value, void *field, const char *origin) {
        for (BootChain b = 0; b < _BOOT_CHAIN_MAX; b++)
                if (streq(value, boot_chain_names[b])) {
                        *(BootChain *) field = b;
                        return 0;
                }
        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                               "%s: Invalid '%s' value '%s' (expected auto, required or off), refusing.", origin, key, value);
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

static const char *const verity_error_names[_VERITY_ERROR_MAX] = {
        [VERITY_ERROR_EIO] = "eio",
        [VERITY_ERROR_PANIC] = "panic",
};

const char *verity_error_to_string(VerityError e) {
        return e >= 0 && e < _VERITY_ERROR_MAX ? verity_error_names[e] : NULL;
}

static int parse_verity_hash_device_item(const char *key, const char *value, void *field, const char *origin) {
        if (streq(value, CONFIG_DEVICE_AUTO))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: '%s' needs an absolute device path, got '%s', refusing.", origin, key, value);
        return parse_device_item(key, value, field, origin);
}

static int parse_verity_root_hash_item(const char *key, const char *value, void *field, const char *origin) {
        _cleanup_free_ void *bytes = NULL;
        RootHash *h = field;
        size_t n;

        /* Plain hex, as `ephroot verity-format` and veritysetup print it. */
        if (unhexmem(value, &bytes, &n) < 0 || n != CONFIG_ROOT_HASH_SIZE)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: Invalid '%s' value (expected 64 hex digits as printed by 'ephroot verity-format'), refusing.",
                                       origin, key);
        memcpy(h->bytes, bytes, n);
        h->set = true;
        return 0;
}

static int parse_verity_hash_offset_item(const char *key, const char *value, void *field, const char *origin) {
        unsigned long long v;
        char *end = NULL;

        if (streq(value, "auto")) {
                *(uint64_t *) field = CONFIG_VERITY_HASH_OFFSET_AUTO;
                return 0;
        }
        errno = 0;
        v = value[0] >= '0' && value[0] <= '9' ? strtoull(value, &end, 10) : 0;
        if (!end || *end != '\0' || errno != 0 || v % 4096 != 0 || v == CONFIG_VERITY_HASH_OFFSET_AUTO)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: Invalid value '%s' for '%s' (expected auto or a multiple of 4096 bytes), refusing.",
                                       origin, value, key);
        *(uint64_t *) field = v;
        return 0;
}

static int parse_verity_error_item(const char *key, const char *value, void *field, const char *origin) {
        for (VerityError e = 0; e < _VERITY_ERROR_MAX; e++)
                if (streq(value, verity_error_to_string(e))) {
                        *(VerityError *) field = e;
                        return 0;
                }
        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: Invalid '%s' value '%s' (expected eio or panic), refusing.",
                               origin, key, value);
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
        /* The brokers' base URLs, in the order they are tried, separated by commas (or blanks in the
         * file); the protocol's paths (/kbs/v0/...) are appended. Stored joined by commas. */
        _cleanup_free_ char *copy = strdup(value), *joined = NULL;
        size_t n = 0, len = 0;
        char *p, *w;

        if (!copy)
                return log_oom();
        if (strlen(value) > CONFIG_KBS_URLS_MAX * 1025)
                goto bad;
        joined = malloc(strlen(value) + 1);
        if (!joined)
                return log_oom();
        for (p = copy; (w = strsep(&p, ", \t"));) {
                if (isempty(w))
                        continue;
                if ((!startswith(w, "https://") && !startswith(w, "http://")) || strlen(w) > 1024 || strpbrk(w, "?#") ||
                    ++n > CONFIG_KBS_URLS_MAX)
                        goto bad;
                if (len > 0)
                        joined[len++] = ',';
                len = stpcpy(joined + len, w) - joined;
        }
        if (n == 0)
                goto bad;
        free(*(char **) field);
        *(char **) field = TAKE_PTR(joined);
        return 0;
bad:
        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                               "%s: '%s' needs 1 to %u http:// or https:// URLs without query, separated by commas, got '%s', refusing.",
                               origin, key, CONFIG_KBS_URLS_MAX, value);
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
int config_parse_pcr_list(const char *value, uint32_t *ret) {
        _cleanup_free_ char *copy = strdup(value);
        uint32_t mask = 0;
        char *p, *w;

        if (!copy)
                return -ENOMEM;
        for (p = copy; (w = strsep(&p, ","));) {
                char *dash = strchr(w, '-');
                unsigned a, b;

                if (dash)
                        *dash = '\0';
                if (safe_atou(w, &a) < 0 || (dash ? safe_atou(dash + 1, &b) : (b = a, 0)) < 0 || a > b || b > 23)
                        return -EINVAL;
                for (unsigned i = a; i <= b; i++)
                        mask |= 1U << i;
        }
        *ret = mask;
        return 0;
}

static int parse_pcr_list_item(const char *key, const char *value, void *field, const char *origin) {
        int r = config_parse_pcr_list(value, (uint32_t *) field);

        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: Invalid '%s' value '%s' (expected PCRs 0..23 as a list of N or N-M), refusing.",
                                       origin, key, value);
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


/* Formatters: the value as the configuration would write it. */

static int format_text(const char *s, char **ret) {
        if (!s) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int format_string(const void *field, char **ret) {
        return format_text(*(char *const *) field, ret);
}

static int format_bool(const void *field, char **ret) {
        return format_text(*(const bool *) field ? "yes" : "no", ret);
}

static int format_unsigned(const void *field, char **ret) {
        return asprintf(ret, "%u", *(const unsigned *) field) < 0 ? -ENOMEM : 0;
}

static int format_log_level(const void *field, char **ret) {
        return format_text(log_level_to_string(*(const int *) field), ret);
}

static int format_mode(const void *field, char **ret) {
        return format_text(root_mode_to_string(*(const RootMode *) field), ret);
}

static int format_host_mounts(const void *field, char **ret) {
        return format_text(host_mounts_to_string(*(const HostMounts *) field), ret);
}

static int format_boot_chain(const void *field, char **ret) {
        return format_text(boot_chain_to_string(*(const BootChain *) field), ret);
}

static int format_root_hash(const void *field, char **ret) {
        const RootHash *h = field;
        _cleanup_free_ char *hex = NULL;

        if (!h->set)
                return format_text(NULL, ret);
        hex = hexmem(h->bytes, sizeof(h->bytes));
        if (!hex)
                return -ENOMEM;
        return asprintf(ret, "sha256:%s", hex) < 0 ? -ENOMEM : 0;
}

static int format_verity_root_hash(const void *field, char **ret) {
        const RootHash *h = field;

        if (!h->set)
                return format_text(NULL, ret);
        *ret = hexmem(h->bytes, sizeof(h->bytes));
        return *ret ? 0 : -ENOMEM;
}

static int format_verity_hash_offset(const void *field, char **ret) {
        uint64_t v = *(const uint64_t *) field;

        if (v == CONFIG_VERITY_HASH_OFFSET_AUTO)
                return format_text("auto", ret);
        return asprintf(ret, "%" PRIu64, v) < 0 ? -ENOMEM : 0;
}

static int format_verity_error(const void *field, char **ret) {
        return format_text(verity_error_to_string(*(const VerityError *) field), ret);
}

static int format_failure_action(const void *field, char **ret) {
        return format_text(failure_action_to_string(*(const FailureAction *) field), ret);
}

static int format_integrity(const void *field, char **ret) {
        return format_text(luks_integrity_to_string(*(const LuksIntegrity *) field), ret);
}

static int format_tpm(const void *field, char **ret) {
        return format_text(*(const bool *) field ? "required" : "none", ret);
}

static int format_attest(const void *field, char **ret) {
        return format_text(attest_mode_to_string(*(const AttestMode *) field), ret);
}

static int format_attest_key(const void *field, char **ret) {
        return format_text(*(const AttestKeyType *) field == ATTEST_KEY_RSA ? "rsa" : "ec", ret);
}

static int format_hierarchy(const void *field, char **ret) {
        return format_text(*(const bool *) field ? "endorsement" : "owner", ret);
}

static int format_ak_type(const void *field, char **ret) {
        return format_text(*(const bool *) field ? "ecc" : "rsa", ret);
}

/* "0-15", "0,2,4-7": runs of two or more PCRs as N-M. */
static int format_pcr_list(const void *field, char **ret) {
        uint32_t mask = *(const uint32_t *) field;
        char buf[128] = "";
        size_t n = 0;

        for (unsigned i = 0; i < 24; i++) {
                unsigned j = i;

                if (!(mask & (1U << i)))
                        continue;
                while (j + 1 < 24 && (mask & (1U << (j + 1))))
                        j++;
                n += (size_t) snprintf(buf + n, sizeof(buf) - n, n > 0 ? ",%u" : "%u", i);
                if (j > i)
                        n += (size_t) snprintf(buf + n, sizeof(buf) - n, "-%u", j);
                i = j;
        }
        return format_text(buf, ret);
}

const ConfigItem config_items[] = {
        { "enabled", parse_bool_item, format_bool, offsetof(Config, enabled), true },
        { "lock", parse_bool_item, format_bool, offsetof(Config, lock), true },
        { "log-level", parse_log_level_item, format_log_level, offsetof(Config, log_level), false },
        { "tcti", parse_tcti_item, format_string, offsetof(Config, tcti), true },
        { "pcr-kernel", parse_pcr_item, format_unsigned, offsetof(Config, pcr_kernel), true },
        { "pcr-initrd", parse_pcr_item, format_unsigned, offsetof(Config, pcr_initrd), true },
        { "pcr-cmdline", parse_pcr_item, format_unsigned, offsetof(Config, pcr_cmdline), true },
        { "measure-log", parse_path_item, format_string, offsetof(Config, measure_log), true },
        { "device", parse_device_item, format_string, offsetof(Config, device), true },
        { "force-format", parse_identity_item, format_string, offsetof(Config, force_format), true },
        { "mode", parse_mode_item, format_mode, offsetof(Config, mode), true },
        { "root-hash", parse_root_hash_item, format_root_hash, offsetof(Config, root_hash), true },
        { "verity-root-hash", parse_verity_root_hash_item, format_verity_root_hash, offsetof(Config, verity_root_hash), true },
        { "verity-hash-offset", parse_verity_hash_offset_item, format_verity_hash_offset, offsetof(Config, verity_hash_offset), true },
        { "verity-hash-device", parse_verity_hash_device_item, format_string, offsetof(Config, verity_hash_device), true,
          "(unset: the OS root device)" },
        { "verity-error", parse_verity_error_item, format_verity_error, offsetof(Config, verity_error), true },
        { "host-mounts", parse_host_mounts_item, format_host_mounts, offsetof(Config, host_mounts), true },
        { "boot-chain", parse_boot_chain_item, format_boot_chain, offsetof(Config, boot_chain), true },
        { "failure-action", parse_failure_action_item, format_failure_action, offsetof(Config, failure_action), true },
        { "failure-delay", parse_delay_item, format_unsigned, offsetof(Config, failure_delay), false },
        { "pcr-leave", parse_pcr_item, format_unsigned, offsetof(Config, pcr_leave), true },
        { "pcr-disk", parse_pcr_item, format_unsigned, offsetof(Config, pcr_disk), true },
        { "integrity", parse_integrity_item, format_integrity, offsetof(Config, integrity), true },
        { "sector-size", parse_sector_size_item, format_unsigned, offsetof(Config, sector_size), false },
        { "discard", parse_bool_item, format_bool, offsetof(Config, discard), false },
        { "format-discard", parse_bool_item, format_bool, offsetof(Config, format_discard), false },
        { "no-read-workqueue", parse_bool_item, format_bool, offsetof(Config, no_read_workqueue), false },
        { "no-write-workqueue", parse_bool_item, format_bool, offsetof(Config, no_write_workqueue), false },
        { "tpm", parse_tpm_item, format_tpm, offsetof(Config, tpm_required), true },
        { "azure-imds-url", parse_http_url_item, format_string, offsetof(Config, azure_imds_url), false },
        { "azure-report-timeout", parse_report_timeout_item, format_unsigned, offsetof(Config, azure_report_timeout), false },
        { "attest", parse_attest_item, format_attest, offsetof(Config, attest), true },
        { "kbs-url", parse_url_item, format_string, offsetof(Config, kbs_url), true },
        { "kbs-ca-file", parse_path_item, format_string, offsetof(Config, kbs_ca_file), true, "(unset: the system's CA bundle)" },
        { "kbs-pin", parse_pin_item, format_string, offsetof(Config, kbs_pin), true },
        { "kbs-insecure", parse_bool_item, format_bool, offsetof(Config, kbs_insecure), true },
        { "attest-tee", parse_tee_item, format_string, offsetof(Config, attest_tee), true },
        { "attest-key", parse_attest_key_item, format_attest_key, offsetof(Config, attest_key), true },
        { "attest-ak-hierarchy", parse_hierarchy_item, format_hierarchy, offsetof(Config, attest_ak_endorsement), true },
        { "attest-ak-type", parse_ak_type_item, format_ak_type, offsetof(Config, attest_ak_ecc), true },
        { "attest-pcrs", parse_pcr_list_item, format_pcr_list, offsetof(Config, attest_pcrs), true },
        { "attest-timeout", parse_seconds_item, format_unsigned, offsetof(Config, attest_timeout), false },
        { "kbs-connect-timeout", parse_seconds_item, format_unsigned, offsetof(Config, kbs_connect_timeout), false },
        { "kbs-retries", parse_retries_item, format_unsigned, offsetof(Config, kbs_retries), false },
        { "attest-vcek-file", parse_path_item, format_string, offsetof(Config, attest_vcek_file), true },
};

_Static_assert(ELEMENTSOF(config_items) <= CONFIG_ITEMS_MAX, "CONFIG_ITEMS_MAX too small");
const size_t config_items_count = ELEMENTSOF(config_items);

int config_key_normalize(const char *key, size_t len, char *buf, size_t bufsize) {
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

static const ConfigItem *config_item_find(const char *key) {
        char normalized[CONFIG_KEY_MAX];

        if (config_key_normalize(key, strlen(key), normalized, sizeof(normalized)) < 0)
                return NULL;
        for (size_t i = 0; i < config_items_count; i++)
                if (streq(config_items[i].key, normalized))
                        return config_items + i;
        return NULL;
}

bool config_key_exists(const char *key) {
        const char *name = startswith(key, "secret.");

        if (name)
                return attest_proto_secret_name_valid(name);
        return !!config_item_find(key);
}

int config_get(const Config *c, const char *key, char **ret) {
        const char *name = startswith(key, "secret.");
        const ConfigItem *item;

        assert_return(c, -EINVAL);
        assert_return(key, -EINVAL);
        assert_return(ret, -EINVAL);

        if (name) {
                if (!attest_proto_secret_name_valid(name))
                        return -ENOKEY;
                for (size_t i = 0; i < c->n_secrets; i++)
                        if (streq(c->secrets[i].name, name))
                                return format_text(c->secrets[i].resource, ret);
                return format_text(NULL, ret);
        }
        item = config_item_find(key);
        if (!item)
                return -ENOKEY;
        return item->format((const uint8_t *) c + item->offset, ret);
}

int config_dump(const Config *c, FILE *f) {
        for (size_t i = 0; i < config_items_count; i++) {
                const ConfigItem *item = config_items + i;
                _cleanup_free_ char *value = NULL;
                int r;

                r = item->format((const uint8_t *) c + item->offset, &value);
                if (r < 0)
                        return r;
                if (value)
                        fprintf(f, "%s = %s\n", item->key, value);
                else
                        fprintf(f, "#%s = %s\n", item->key, item->unset ?: "(unset)");
        }
        for (size_t i = 0; i < c->n_secrets; i++)
                fprintf(f, "secret.%s = %s\n", c->secrets[i].name, c->secrets[i].resource);
        return ferror(f) ? -EIO : 0;
}
