/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `ephroot reference`: the firmware's event log (TCG PC Client format) replayed into PCR values, as a
 * policy fragment for the broker (the same JSON shape as `ephroot predict --json`), optionally checked
 * against the TPM's PCRs: a log that does not replay is an error. Run on a reference boot of an image
 * to get the values of the PCRs the firmware and the boot loader measure (4, 7, 8, 9). */

#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>

#include "config-keys.h"
#include "log.h"
#include "measure-json.h"
#include "measure.h"
#include "tcg-log.h"
#include "tpm2.h"
#include "util.h"
#include "verbs.h"

#define TCG_LOG_DEFAULT "/sys/kernel/security/tpm0/binary_bios_measurements"
#define FIRMWARE_PCRS 0x3FFU /* 0..9: the PCRs the firmware and the boot loader extend */

static struct {
        const char *log;
        uint32_t pcrs;
        unsigned banks;
        bool check_tpm;
        bool events;
} arg = {
        .log = TCG_LOG_DEFAULT,
        .pcrs = (1U << 4) | (1U << 7) | (1U << 8) | (1U << 9),
        .banks = HASH_BIT(HASH_SHA256),
};

enum {
        ARG_EVENT_LOG = 0x100,
        ARG_PCRS,
        ARG_BANKS,
        ARG_CHECK_TPM,
        ARG_EVENTS,
};

static VerbResult parse_option(VerbContext *ctx, int c, const char *value) {
        switch (c) {
        case ARG_EVENT_LOG:
                arg.log = value;
                return VERB_OK;
        case ARG_PCRS:
                if (config_parse_pcr_list(value, &arg.pcrs) < 0 || arg.pcrs == 0)
                        return verb_usage("Invalid --pcrs '%s' (expected PCRs 0..23 as a list of N or N-M).", value);
                return VERB_OK;
        case ARG_BANKS: {
                _cleanup_free_ char *copy = strdup(value);
                char *p, *w;

                if (!copy)
                        return VERB_FAILED;
                arg.banks = 0;
                for (p = copy; (w = strsep(&p, ","));) {
                        int a = hash_alg_from_string(w);
                        if (a < 0)
                                return verb_usage("Invalid --banks '%s' (expected sha1, sha256, sha384, sha512).", value);
                        arg.banks |= HASH_BIT(a);
                }
                return arg.banks ? VERB_OK : verb_usage("--banks is empty.");
        }
        case ARG_CHECK_TPM:
                arg.check_tpm = true;
                return VERB_OK;
        case ARG_EVENTS:
                arg.events = true;
                return VERB_OK;
        default:
                return VERB_USAGE;
        }
}

static int print_events(const TcgLog *log) {
        int b = tcg_log_bank(log, HASH_SHA256);

        for (size_t i = 0; i < log->n_events; i++) {
                const TcgEvent *e = log->events + i;
                _cleanup_free_ char *hex = b >= 0 ? hexmem(e->digests[b], 32) : NULL;
                const char *name = tcg_event_type_to_string(e->type);

                printf("%2u %-34s %s %u bytes\n", e->pcr, name ?: "(unknown)", hex ?: "-", e->data_size);
        }
        return 0;
}

/* The replay against the TPM for every firmware PCR in the bank: each differing PCR is named. */
static int check_against_tpm(Tpm2Context *tpm, HashAlg alg, const Digest replayed[TCG_PCRS]) {
        Digest tpm_values[TPM2_PCRS];
        bool ok = true;
        int r;

        r = tpm2_pcr_read(tpm, alg, FIRMWARE_PCRS, tpm_values);
        if (r < 0)
                return log_error_errno(r, "Failed to read the %s PCRs: %m", hash_alg_to_string(alg));
        for (unsigned p = 0; p < 10; p++) {
                _cleanup_free_ char *a = NULL, *b = NULL;

                if (memcmp(tpm_values[p].bytes, replayed[p].bytes, replayed[p].size) == 0)
                        continue;
                a = hexmem(replayed[p].bytes, replayed[p].size);
                b = hexmem(tpm_values[p].bytes, tpm_values[p].size);
                log_error("The event log does not replay: %s PCR %u is %s in the log, %s in the TPM.",
                          hash_alg_to_string(alg), p, strna(a), strna(b));
                ok = false;
        }
        return ok ? 0 : -EBADMSG;
}

static int run_reference(VerbContext *ctx) {
        _cleanup_free_ char *data = NULL, *json = NULL;
        PcrValues values = { .pcr_mask = arg.pcrs };
        TcgLog log;
        size_t size;
        int r;

        r = read_full_file_bounded(arg.log, TCG_LOG_SIZE_MAX, &data, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to read the event log '%s': %m", arg.log);
        r = tcg_log_parse((const uint8_t *) data, size, &log);
        if (r < 0)
                return log_error_errno(r, "Failed to parse the event log '%s': %s", arg.log,
                                       r == -E2BIG ? "over the size or event bounds" : "malformed or truncated");
        if (arg.events) {
                r = print_events(&log);
                tcg_log_done(&log);
                return r;
        }
        if (arg.check_tpm && !ctx->tpm) {
                tcg_log_done(&log);
                return log_error_errno(SYNTHETIC_ERRNO(ENODEV), "--check-tpm needs a TPM (tpm=none).");
        }
        FOREACH_HASH_ALG(alg, arg.banks) {
                Digest replayed[TCG_PCRS];

                r = tcg_log_replay(&log, alg, replayed);
                if (r == -ENOENT)
                        r = log_error_errno(r, "The event log has no %s bank.", hash_alg_to_string(alg));
                if (r >= 0 && arg.check_tpm)
                        r = check_against_tpm(ctx->tpm, alg, replayed);
                if (r < 0) {
                        tcg_log_done(&log);
                        return r;
                }
                for (unsigned p = 0; p < TCG_PCRS; p++)
                        values.values[p][alg] = replayed[p];
                values.banks |= HASH_BIT(alg);
        }
        tcg_log_done(&log);

        r = measure_json_pcr_values(&values, &json);
        if (r < 0)
                return log_error_errno(r, "Failed to format the PCR values as JSON: %m");
        puts(json);
        return 0;
}

/* The TPM only for --check-tpm: the log alone needs none (a builder's machine, a copied log). */
static int check_config(VerbContext *ctx) {
        if (!arg.check_tpm)
                ctx->config.tpm_required = false;
        return 0;
}

static const struct option reference_options[] = {
        { "event-log", required_argument, NULL, ARG_EVENT_LOG },
        { "pcrs", required_argument, NULL, ARG_PCRS },
        { "banks", required_argument, NULL, ARG_BANKS },
        { "check-tpm", no_argument, NULL, ARG_CHECK_TPM },
        { "events", no_argument, NULL, ARG_EVENTS },
        {},
};

const Verb verb_reference = {
        .name = "reference",
        .synopsis = "[--event-log FILE] [--pcrs LIST] [--banks LIST] [--check-tpm] [--events]",
        .help = "Replay the firmware's event log (default " TCG_LOG_DEFAULT ")\n"
                "into the PCR values a broker policy pins (default PCRs 4,7,8,9, sha256), as\n"
                "JSON like `predict --json`; --check-tpm also compares PCRs 0-9 with the TPM's.",
        .options = reference_options,
        .needs = VERB_NEEDS_CONFIG | VERB_NEEDS_TPM | VERB_NO_CONFIG_FILE | VERB_NO_CMDLINE,
        .parse_option = parse_option,
        .check_config = check_config,
        .run = run_reference,
};
