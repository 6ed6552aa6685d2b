/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `ephroot reference`: the firmware's event log (TCG PC Client format) replayed into PCR values, as a
 * policy fragment for the broker (the same JSON shape as `ephroot predict --json`), optionally checked
 * against the TPM's PCRs: a log that does not replay is an error. Run on a reference boot of an image
 * to get the values of the PCRs the firmware and the boot loader measure (4, 7, 8, 9).
 * With --efi-app, --grub-file, --grub-command or --grub-kernel-cmdline it predicts instead, from the
 * image's files alone, PCR 4 as OVMF/EDK2 measures the EFI applications and PCRs 8 and 9 as GRUB
 * measures its commands and files, and with --uki PCR 11 as systemd-stub measures a UKI's sections
 * (boot-predict.h). */

#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "boot-predict.h"
#include "config-keys.h"
#include "log.h"
#include "measure-json.h"
#include "measure.h"
#include "pe-authenticode.h"
#include "tcg-log.h"
#include "tpm2.h"
#include "util.h"
#include "verbs.h"

#define TCG_LOG_DEFAULT "/sys/kernel/security/tpm0/binary_bios_measurements"
#define FIRMWARE_PCRS 0x3FFU /* 0..9: the PCRs the firmware and the boot loader extend */

#define IMAGE_INPUTS_MAX 1024U

/* One input of the image-only prediction, in the order the options name them. */
typedef struct ImageInput {
        int kind; /* ARG_EFI_APP, ARG_GRUB_FILE, ARG_GRUB_COMMAND, ARG_GRUB_KERNEL_CMDLINE, ARG_UKI */
        const char *value;
} ImageInput;

static struct {
        const char *log;
        uint32_t pcrs;
        unsigned banks;
        bool check_tpm;
        bool events;
        bool log_named, pcrs_named;
        ImageInput inputs[IMAGE_INPUTS_MAX];
        size_t n_inputs;
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
        ARG_EFI_APP,
        ARG_GRUB_FILE,
        ARG_GRUB_COMMAND,
        ARG_GRUB_KERNEL_CMDLINE,
        ARG_UKI,
};

static VerbResult parse_option(VerbContext *ctx, int c, const char *value) {
        switch (c) {
        case ARG_EVENT_LOG:
                arg.log = value;
                arg.log_named = true;
                return VERB_OK;
        case ARG_PCRS:
                if (config_parse_pcr_list(value, &arg.pcrs) < 0 || arg.pcrs == 0)
                        return verb_usage("Invalid --pcrs '%s' (expected PCRs 0..23 as a list of N or N-M).", value);
                arg.pcrs_named = true;
                return VERB_OK;
        case ARG_EFI_APP:
        case ARG_GRUB_FILE:
        case ARG_GRUB_COMMAND:
        case ARG_GRUB_KERNEL_CMDLINE:
        case ARG_UKI:
                if (arg.n_inputs >= IMAGE_INPUTS_MAX)
                        return verb_usage("More than %u --efi-app, --grub-file, --grub-command, --grub-kernel-cmdline and --uki.",
                                          IMAGE_INPUTS_MAX);
                arg.inputs[arg.n_inputs++] = (ImageInput) { c, value };
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

/* The replay (or prediction) against the TPM for the PCRs of mask in the bank: each differing PCR is
 * named. */
static int check_against_tpm(Tpm2Context *tpm, HashAlg alg, const Digest values[TCG_PCRS], uint32_t mask,
                             const char *what, const char *where) {
        Digest tpm_values[TPM2_PCRS];
        bool ok = true;
        int r;

        r = tpm2_pcr_read(tpm, alg, mask, tpm_values);
        if (r < 0)
                return log_error_errno(r, "Failed to read the %s PCRs: %m", hash_alg_to_string(alg));
        for (unsigned p = 0; p < TCG_PCRS; p++) {
                _cleanup_free_ char *a = NULL, *b = NULL;

                if (!(mask & (1U << p)) || memcmp(tpm_values[p].bytes, values[p].bytes, values[p].size) == 0)
                        continue;
                a = hexmem(values[p].bytes, values[p].size);
                b = hexmem(tpm_values[p].bytes, tpm_values[p].size);
                log_error("%s: %s PCR %u is %s %s, %s in the TPM.", what, hash_alg_to_string(alg), p, strna(a), where,
                          strna(b));
                ok = false;
        }
        return ok ? 0 : -EBADMSG;
}

/* Prints s with control characters escaped (GRUB's menuentry commands span lines). */
static void print_escaped(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        printf("\\x%02x", (unsigned char) *s);
                else
                        putchar(*s);
}

static int print_predicted_events(const BootPredict *bp) {
        for (size_t i = 0; i < bp->n_events; i++) {
                const BootPredictEvent *e = bp->events + i;
                _cleanup_free_ char *hex = hexmem(e->digests[HASH_SHA256].bytes, e->digests[HASH_SHA256].size);

                printf("%2u %-34s %s ", e->pcr, tcg_event_type_to_string(e->type), strna(hex));
                print_escaped(e->description);
                putchar('\n');
        }
        return 0;
}

/* Reads one --efi-app (bounded) and adds its Authenticode digest; with uki, systemd-stub's
 * measurements of its sections instead. */
static int predict_efi_app(BootPredict *bp, const char *path, bool uki) {
        _cleanup_free_ char *data = NULL;
        const char *why = NULL;
        size_t size;
        int r;

        r = read_full_file_bounded(path, PE_IMAGE_SIZE_MAX, &data, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to read the EFI application '%s': %m", path);
        if (uki)
                r = boot_predict_uki(bp, (const uint8_t *) data, size, &why);
        else
                r = boot_predict_efi_app(bp, path, (const uint8_t *) data, size, &why);
        if (r == -EBADMSG || r == -E2BIG)
                return log_error_errno(r, "Failed to compute the %s of '%s': not a %s we accept (%s).",
                                       uki ? "UKI section measurements" : "Authenticode digest", path,
                                       uki ? "UKI" : "PE/COFF image", why ?: "over the size bound");
        if (r < 0)
                return log_error_errno(r, "Failed to compute the %s of '%s': %m",
                                       uki ? "UKI section measurements" : "Authenticode digest", path);
        return 0;
}

/* Hashes one --grub-file: a regular file, not through a symlink as last component, bounded. */
static int predict_grub_file(BootPredict *bp, const char *path) {
        _cleanup_close_ int fd = -EBADF;
        Digest d[_HASH_ALG_MAX];
        struct stat st;
        int r;

        fd = open_in_root(/* root= */ NULL, path, 0);
        if (fd < 0)
                return log_error_errno(fd, "Failed to open the GRUB file '%s': %m", path);
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Failed to stat the GRUB file '%s': %m", path);
        if (!S_ISREG(st.st_mode))
                return log_error_errno(SYNTHETIC_ERRNO(EBADFD), "Failed to hash the GRUB file '%s': not a regular file.", path);
        r = hash_fd(fd, MEASURE_FILE_SIZE_MAX, bp->banks, d, /* ret_size= */ NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to hash the GRUB file '%s': %m", path);
        r = boot_predict_grub_file(bp, path, d);
        return r < 0 ? log_error_errno(r, "Failed to add the GRUB file '%s': %m", path) : 0;
}

static int build_prediction(BootPredict *bp) {
        int r = 0;

        for (size_t i = 0; r >= 0 && i < arg.n_inputs; i++) {
                const ImageInput *in = arg.inputs + i;

                if (in->kind == ARG_EFI_APP || in->kind == ARG_UKI)
                        r = predict_efi_app(bp, in->value, in->kind == ARG_UKI);
                else if (in->kind == ARG_GRUB_FILE)
                        r = predict_grub_file(bp, in->value);
                else {
                        r = boot_predict_grub_string(bp, in->kind == ARG_GRUB_COMMAND ? BOOT_PREDICT_GRUB_COMMAND
                                                                                       : BOOT_PREDICT_GRUB_KERNEL_CMDLINE,
                                                     in->value);
                        if (r < 0)
                                log_error_errno(r, "Failed to add the GRUB string '%s': %m", in->value);
                }
        }
        return r;
}

/* Image-only: PCRs 4, 8, 9 from the EFI applications, GRUB's files and strings. */
static int run_predict(VerbContext *ctx) {
        _cleanup_(boot_predict_done) BootPredict bp = { .banks = arg.banks | (arg.events ? HASH_BIT(HASH_SHA256) : 0) };
        _cleanup_free_ char *json = NULL;
        PcrValues values;
        int r;

        r = build_prediction(&bp);
        if (r < 0)
                return r;
        if (arg.events)
                return print_predicted_events(&bp);
        r = boot_predict_replay(&bp, &values);
        if (r < 0)
                return log_error_errno(r, "Failed to replay the predicted events: %m");
        if (arg.pcrs_named)
                values.pcr_mask = arg.pcrs; /* check_config(): only PCRs with inputs */
        if (arg.check_tpm)
                FOREACH_HASH_ALG(alg, arg.banks) {
                        Digest bank[TCG_PCRS];

                        for (unsigned p = 0; p < TCG_PCRS; p++)
                                bank[p] = values.values[p][alg];
                        r = check_against_tpm(ctx->tpm, alg, bank, values.pcr_mask, "The prediction does not hold",
                                              "predicted");
                        if (r < 0)
                                return r;
                }
        r = measure_json_pcr_values(&values, &json);
        if (r < 0)
                return log_error_errno(r, "Failed to format the PCR values as JSON: %m");
        puts(json);
        return 0;
}

static int run_reference(VerbContext *ctx) {
        _cleanup_free_ char *data = NULL, *json = NULL;
        PcrValues values = { .pcr_mask = arg.pcrs };
        TcgLog log;
        size_t size;
        int r;

        if (arg.n_inputs > 0) {
                if (arg.check_tpm && !arg.events && !ctx->tpm)
                        return log_error_errno(SYNTHETIC_ERRNO(ENODEV), "--check-tpm needs a TPM (tpm=none).");
                return run_predict(ctx);
        }
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
                        r = check_against_tpm(ctx->tpm, alg, replayed, FIRMWARE_PCRS, "The event log does not replay",
                                              "in the log");
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
        uint32_t predictable = 0;

        if (arg.n_inputs > 0 && arg.log_named)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "--event-log replays a log; --efi-app, --grub-file, --grub-command, --grub-kernel-cmdline and --uki predict without one: not both.");
        for (size_t i = 0; i < arg.n_inputs; i++)
                predictable |= 1U << (arg.inputs[i].kind == ARG_EFI_APP     ? BOOT_PREDICT_EFI_PCR
                                      : arg.inputs[i].kind == ARG_GRUB_FILE ? BOOT_PREDICT_FILE_PCR
                                      : arg.inputs[i].kind == ARG_UKI       ? BOOT_PREDICT_UKI_PCR
                                                                            : BOOT_PREDICT_STRING_PCR);
        for (unsigned p = 0; arg.n_inputs > 0 && arg.pcrs_named && p < TCG_PCRS; p++)
                if ((arg.pcrs & ~predictable) & (1U << p))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "PCR %u cannot be predicted from these inputs (4 from --efi-app, 8 from --grub-command and --grub-kernel-cmdline, 9 from --grub-file, 11 from --uki): take it from a reference boot's event log (--event-log).",
                                               p);
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
        { "efi-app", required_argument, NULL, ARG_EFI_APP },
        { "grub-file", required_argument, NULL, ARG_GRUB_FILE },
        { "grub-command", required_argument, NULL, ARG_GRUB_COMMAND },
        { "grub-kernel-cmdline", required_argument, NULL, ARG_GRUB_KERNEL_CMDLINE },
        { "uki", required_argument, NULL, ARG_UKI },
        {},
};

const Verb verb_reference = {
        .name = "reference",
        .synopsis = "[--event-log FILE] [--pcrs LIST] [--banks LIST] [--check-tpm] [--events]\n"
                    "[--efi-app FILE]... [--grub-file FILE]... [--grub-command STRING]...\n"
                    "[--grub-kernel-cmdline STRING]... [--uki FILE]",
        .help = "Replay the firmware's event log (default " TCG_LOG_DEFAULT ")\n"
                "into the PCR values a broker policy pins (default PCRs 4,7,8,9, sha256), as\n"
                "JSON like `predict --json`; --check-tpm also compares PCRs 0-9 with the TPM's.\n"
                "With --efi-app (in boot order), --grub-file (in the order GRUB reads them),\n"
                "--grub-command and --grub-kernel-cmdline (in GRUB's order) predict instead,\n"
                "from the image alone, PCR 4 as OVMF/EDK2 measures a boot option's EFI\n"
                "applications (Authenticode digests) and PCRs 8 and 9 as GRUB measures them;\n"
                "--uki predicts PCR 11 as systemd-stub measures that UKI's sections (before\n"
                "ephroot's own events: `predict --uki` gives the whole PCR 11).",
        .options = reference_options,
        .needs = VERB_NEEDS_CONFIG | VERB_NEEDS_TPM | VERB_NO_CONFIG_FILE | VERB_NO_CMDLINE,
        .parse_option = parse_option,
        .check_config = check_config,
        .run = run_reference,
};
