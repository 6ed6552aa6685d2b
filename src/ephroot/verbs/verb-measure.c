/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `ephroot measure`, `ephroot predict` and `ephroot config`: the boot's measurement of kernel, initrd
 * and command line, the prediction of the PCR values it produces, from the same event builder, and
 * the configuration they use. */

#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot-predict.h"
#include "boot.h"
#include "log.h"
#include "measure-json.h"
#include "measure-boot.h"
#include "measure.h"
#include "pe-authenticode.h"
#include "tpm2.h"
#include "util.h"
#include "verbs.h"

static struct {
        const char *kernel;
        const char *initrd;
        bool json;
        unsigned banks;
        const char *get;
        const char *pcrlock_dir;
        const char *event_log;
        const char *uki;
} arg = {
        .banks = HASH_ALL,
};

enum {
        ARG_KERNEL = 0x100,
        ARG_INITRD,
        ARG_CMDLINE_FILE,
        ARG_CMDLINE,
        ARG_JSON,
        ARG_BANKS,
        ARG_GET,
        ARG_PCRLOCK_DIR,
        ARG_EVENT_LOG,
        ARG_UKI,
};

static int parse_banks(const char *s, unsigned *ret) {
        _cleanup_free_ char *copy = strdup(s);
        unsigned banks = 0;
        char *p, *w;

        if (!copy)
                return -ENOMEM;
        for (p = copy; (w = strsep(&p, ","));) {
                int a = hash_alg_from_string(w);
                if (a < 0)
                        return -EINVAL;
                banks |= HASH_BIT(a);
        }
        if (banks == 0)
                return -EINVAL;
        *ret = banks;
        return 0;
}

static VerbResult parse_option(VerbContext *ctx, int c, const char *value) {
        switch (c) {
        case ARG_KERNEL:
                arg.kernel = value;
                return VERB_OK;
        case ARG_INITRD:
                arg.initrd = value;
                return VERB_OK;
        case ARG_CMDLINE_FILE:
                ctx->cmdline_file = value;
                return VERB_OK;
        case ARG_CMDLINE:
                ctx->cmdline_text = value;
                return VERB_OK;
        case ARG_JSON:
                arg.json = true;
                return VERB_OK;
        case ARG_BANKS:
                if (parse_banks(value, &arg.banks) < 0)
                        return verb_usage("Invalid --banks '%s' (expected a comma-separated list of sha1, sha256, sha384, sha512).",
                                          value);
                return VERB_OK;
        case ARG_PCRLOCK_DIR:
                if (!path_is_absolute(value))
                        return verb_usage("--pcrlock-dir '%s' is not an absolute path.", value);
                arg.pcrlock_dir = value;
                return VERB_OK;
        case ARG_EVENT_LOG:
                arg.event_log = value;
                return VERB_OK;
        case ARG_UKI:
                arg.uki = value;
                return VERB_OK;
        case ARG_GET:
                if (!config_key_exists(value))
                        return verb_usage("Unknown setting '%s' for --get; 'ephroot config' lists them.", value);
                arg.get = value;
                return VERB_OK;
        default:
                return VERB_USAGE;
        }
}

static VerbResult parse_files(VerbContext *ctx, int argc, char **argv) {
        if (argc > 0)
                return verb_usage("Unexpected argument '%s'.", argv[0]);
        if (!arg.kernel)
                return verb_usage("--kernel is required.");
        if (!arg.initrd)
                return verb_usage("--initrd is required.");
        return VERB_OK;
}

static VerbResult parse_predict_args(VerbContext *ctx, int argc, char **argv) {
        if (ctx->cmdline_file && ctx->cmdline_text)
                return verb_usage("--cmdline and --cmdline-file exclude each other.");
        if (!ctx->cmdline_file && !ctx->cmdline_text)
                return verb_usage("--cmdline or --cmdline-file is required.");
        return parse_files(ctx, argc, argv);
}

static int run_measure(VerbContext *ctx) {
        int r;

        r = measure_get_banks(ctx->tpm, ctx->config.tcti, /* ret_banks= */ NULL);
        if (r < 0)
                return r;

        return measure_boot_inputs(ctx->tpm, &ctx->config,
                                   &(MeasureInputs) { arg.kernel, arg.initrd, ctx->cmdline, .event_log = arg.event_log });
}

static const struct option measure_options[] = {
        { "kernel", required_argument, NULL, ARG_KERNEL },
        { "initrd", required_argument, NULL, ARG_INITRD },
        { "cmdline-file", required_argument, NULL, ARG_CMDLINE_FILE },
        { "event-log", required_argument, NULL, ARG_EVENT_LOG },
        {},
};

const Verb verb_measure = {
        .name = "measure",
        .synopsis = "--kernel FILE --initrd FILE [--cmdline-file FILE] [--event-log FILE]",
        .help = "Extend kernel, initrd and command line (default /proc/cmdline) into the TPM\n"
                "and append them to the measurement log.",
        .options = measure_options,
        .needs = VERB_NEEDS_CONFIG | VERB_NEEDS_TPM_ALWAYS,
        .parse_option = parse_option,
        .parse_args = parse_files,
        .run = run_measure,
};

static int print_text(const PcrValues *v) {
        FOREACH_HASH_ALG(alg, v->banks) {
                printf("%s:\n", hash_alg_to_string(alg));
                for (unsigned p = 0; p < MEASURE_PCR_COUNT; p++) {
                        _cleanup_free_ char *hex = NULL;

                        if (!(v->pcr_mask & (1U << p)))
                                continue;
                        hex = hexmem(v->values[p][alg].bytes, v->values[p][alg].size);
                        if (!hex)
                                return log_oom();
                        printf("  %2u: %s\n", p, hex);
                }
        }
        return 0;
}

/* The systemd-pcrlock components of ephroot's predictable events, one file per event so that an image
 * builder can give each its variants (NAME.pcrlock.d/). Numbered after systemd's 750-enter-initrd (ephroot
 * measures in the initrd); the leave-initrd event is systemd's own and takes the name of systemd's
 * component for it, which a file in /etc/pcrlock.d or /var/lib/pcrlock.d then replaces. */
static const char *const pcrlock_names[] = {
        [MEASURE_EVENT_KERNEL] = "760-ephroot-kernel.pcrlock",
        [MEASURE_EVENT_INITRD] = "761-ephroot-initrd.pcrlock",
        [MEASURE_EVENT_CMDLINE] = "762-ephroot-cmdline.pcrlock",
        [MEASURE_EVENT_LEAVE_INITRD] = "800-leave-initrd.pcrlock",
};

static int write_file_atomic(int dirfd, const char *name, const char *text) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (asprintf(&tmp, ".%s.tmp", name) < 0)
                return -ENOMEM;
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, text, strlen(text));
        if (r >= 0)
                r = loop_write(fd, "\n", 1);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dirfd, tmp, 0);
        return r;
}

static int write_pcrlock(const Config *c, const MeasureEvent *events, size_t n, const char *dir) {
        MeasureEvent leave = {};
        _cleanup_close_ int dirfd = -EBADF;
        int r;

        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Failed to create pcrlock directory '%s': %m", dir);
        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return log_error_errno(errno, "Failed to open pcrlock directory '%s': %m", dir);

        r = measure_event_build_string(MEASURE_EVENT_LEAVE_INITRD, c->pcr_leave, arg.banks, BOOT_LEAVE_STRING, &leave);
        if (r < 0)
                return r;

        for (size_t i = 0; i <= n && r >= 0; i++) {
                const MeasureEvent *e = i < n ? events + i : &leave;
                _cleanup_free_ char *json = NULL;
                const char *name = e->type < ELEMENTSOF(pcrlock_names) ? pcrlock_names[e->type] : NULL;

                if (!name)
                        continue;
                r = measure_json_pcrlock(e, 1, &json);
                if (r < 0) {
                        log_error_errno(r, "Failed to format the pcrlock component of the %s event: %m",
                                        measure_event_type_to_string(e->type));
                        break;
                }
                r = write_file_atomic(dirfd, name, json);
                if (r < 0)
                        log_error_errno(r, "Failed to write pcrlock component '%s/%s': %m", dir, name);
        }
        measure_event_done(&leave);
        return r;
}

/* verity-root-hash= set: the verity event the boot extends into pcr-disk with the disk events. PCR 15 as a
 * whole stays unpredictable (the volume-key event is keyed by a key new every boot), so this is the
 * event's digest, for a verifier that replays the log (docs/verity.md). Text output only: the JSON
 * output is a broker policy fragment and keeps its shape. */
static int print_verity_event(const Config *c) {
        _cleanup_free_ char *s = NULL;
        MeasureEvent e = {};
        int r;

        if (!c->verity_root_hash.set)
                return 0;
        if (measure_verity_string(c->verity_root_hash.bytes, verity_error_to_string(c->verity_error), &s) < 0)
                return log_oom();
        r = measure_event_build_string(MEASURE_EVENT_VERITY, c->pcr_disk, arg.banks, s, &e);
        if (r < 0)
                return r;
        printf("verity event into PCR %u (with the disk events; that PCR is not predictable as a whole):\n  %s\n",
               c->pcr_disk, s);
        FOREACH_HASH_ALG(alg, e.banks) {
                _cleanup_free_ char *hex = hexmem(e.digests[alg].bytes, e.digests[alg].size);

                if (!hex) {
                        measure_event_done(&e);
                        return log_oom();
                }
                printf("  %s: %s\n", hash_alg_to_string(alg), hex);
        }
        measure_event_done(&e);
        return 0;
}

/* The digest of a UKI section's data: the second of the section's two events (name, then data). */
static const Digest *uki_section_data(const BootPredict *bp, const char *name, HashAlg alg) {
        bool name_seen = false;

        for (size_t i = 0; i < bp->n_events; i++)
                if (bp->events[i].pcr == BOOT_PREDICT_UKI_PCR && streq(bp->events[i].description, name)) {
                        if (name_seen)
                                return bp->events[i].digests + alg;
                        name_seen = true;
                }
        return NULL;
}

/* With --uki: PCR 11 starts with systemd-stub's measurements of the UKI's sections, and the kernel and
 * initrd ephroot will measure must be the UKI's .linux and .initrd (else boot-chain halts the boot). */
static int predict_uki(const MeasureEvent *events, size_t n, PcrValues *ret) {
        _cleanup_(boot_predict_done) BootPredict bp = { .banks = arg.banks };
        _cleanup_free_ char *data = NULL;
        const char *why = NULL;
        size_t size;
        int r;

        r = read_full_file_bounded(arg.uki, PE_IMAGE_SIZE_MAX, &data, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to read the UKI '%s': %m", arg.uki);
        r = boot_predict_uki(&bp, (const uint8_t *) data, size, &why);
        if (r == -EBADMSG || r == -E2BIG)
                return log_error_errno(r, "Failed to read the sections of the UKI '%s': %s.", arg.uki,
                                       why ?: "over the size bound");
        if (r < 0)
                return log_error_errno(r, "Failed to predict systemd-stub's measurements of '%s': %m", arg.uki);
        for (size_t i = 0; i < n; i++) {
                const char *section = events[i].type == MEASURE_EVENT_KERNEL   ? ".linux"
                                      : events[i].type == MEASURE_EVENT_INITRD ? ".initrd"
                                                                               : NULL;
                HashAlg alg = (HashAlg) __builtin_ctz(arg.banks);
                const Digest *d;

                if (!section)
                        continue;
                d = uki_section_data(&bp, section, alg);
                if (!d || memcmp(d->bytes, events[i].digests[alg].bytes, d->size) != 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "'%s' is not the UKI's %s section%s: ephroot would halt that boot (boot-chain).",
                                               events[i].path, section, d ? "" : " (it has none)");
        }
        r = boot_predict_replay(&bp, ret);
        if (r < 0)
                return log_error_errno(r, "Failed to replay systemd-stub's predicted events: %m");
        return 0;
}

static int run_predict(VerbContext *ctx) {
        _cleanup_free_ char *json = NULL;
        MeasureEvent *events = NULL;
        PcrValues values;
        size_t n = 0;
        int r;

        r = measure_events_build(&ctx->config, &(MeasureInputs) { arg.kernel, arg.initrd, ctx->cmdline }, arg.banks,
                                 &events, &n);
        if (r < 0)
                return r;

        if (arg.uki) {
                r = predict_uki(events, n, &values); /* logs its failures */
                if (r < 0) {
                        measure_events_free(events, n);
                        return r;
                }
                r = measure_replay_onto(events, n, &values);
        } else
                r = measure_replay(events, n, arg.banks, &values);
        if (r < 0) {
                measure_events_free(events, n);
                return log_error_errno(r, "Failed to replay the predicted events: %m");
        }
        if (arg.pcrlock_dir)
                r = write_pcrlock(&ctx->config, events, n, arg.pcrlock_dir);
        measure_events_free(events, n);
        if (r < 0)
                return r;

        if (!arg.json) {
                r = print_text(&values);
                return r < 0 ? r : print_verity_event(&ctx->config);
        }

        r = measure_json_pcr_values(&values, &json);
        if (r < 0)
                return log_error_errno(r, "Failed to format the PCR values as JSON: %m");
        puts(json);
        return 0;
}

static const struct option predict_options[] = {
        { "kernel", required_argument, NULL, ARG_KERNEL },
        { "initrd", required_argument, NULL, ARG_INITRD },
        { "cmdline-file", required_argument, NULL, ARG_CMDLINE_FILE },
        { "cmdline", required_argument, NULL, ARG_CMDLINE },
        { "json", no_argument, NULL, ARG_JSON },
        { "banks", required_argument, NULL, ARG_BANKS },
        { "pcrlock-dir", required_argument, NULL, ARG_PCRLOCK_DIR },
        { "uki", required_argument, NULL, ARG_UKI },
        {},
};

/* The image's configuration decides the PCRs: never this machine's /etc/ephroot.conf unless named
 * with --config. The command line's ephroot.* settings apply, as at boot. */
const Verb verb_predict = {
        .name = "predict",
        .synopsis = "--kernel FILE --initrd FILE (--cmdline STRING | --cmdline-file FILE)\n"
                    "[--banks LIST] [--json] [--pcrlock-dir DIR] [--uki FILE]",
        .help = "Print the PCR values `measure` will produce, from files alone. With --pcrlock-dir,\n"
                "also write systemd-pcrlock components for the kernel, initrd, command line and\n"
                "leave-initrd events into DIR. With --uki, the image boots that UKI: PCR 11 starts\n"
                "with systemd-stub's measurements of its sections, and --kernel and --initrd must\n"
                "be its .linux and .initrd.",
        .options = predict_options,
        .needs = VERB_NEEDS_CONFIG | VERB_NO_CONFIG_FILE | VERB_NO_CMDLINE,
        .parse_option = parse_option,
        .parse_args = parse_predict_args,
        .run = run_predict,
};

static int run_config(VerbContext *ctx) {
        _cleanup_free_ char *value = NULL;
        int r;

        if (!arg.get)
                return config_dump(&ctx->config, stdout);

        r = config_get(&ctx->config, arg.get, &value);
        if (r < 0)
                return log_error_errno(r, "Failed to get '%s': %m", arg.get);
        printf("%s\n", strempty(value));
        return 0;
}

static const struct option config_options[] = {
        { "cmdline-file", required_argument, NULL, ARG_CMDLINE_FILE },
        { "get", required_argument, NULL, ARG_GET },
        {},
};

const Verb verb_config = {
        .name = "config",
        .synopsis = "[--cmdline-file FILE] [--get KEY]",
        .help = "Print the effective configuration (defaults < file < command line), or with\n"
                "--get the value of one key (an empty line when it is unset).",
        .options = config_options,
        .needs = VERB_NEEDS_CONFIG,
        .parse_option = parse_option,
        .run = run_config,
};
