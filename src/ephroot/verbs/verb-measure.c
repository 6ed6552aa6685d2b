/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `ephroot measure`, `ephroot predict` and `ephroot config`: the boot's measurement of kernel, initrd
 * and command line, and the prediction of the PCR values it produces, from the same event builder. */

#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>

#include "config-load.h"
#include "log.h"
#include "measure-json.h"
#include "measure-boot.h"
#include "measure.h"
#include "tpm2.h"
#include "util.h"
#include "verbs.h"

#define PROC_CMDLINE "/proc/cmdline"

typedef struct MeasureArgs {
        const char *kernel;
        const char *initrd;
        const char *cmdline_file;
        const char *cmdline;
        bool json;
        unsigned banks;
} MeasureArgs;

enum {
        ARG_KERNEL = 0x100,
        ARG_INITRD,
        ARG_CMDLINE_FILE,
        ARG_CMDLINE,
        ARG_JSON,
        ARG_BANKS,
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

static int parse_args(int argc, char **argv, bool predict, MeasureArgs *a) {
        static const struct option options[] = {
                { "kernel", required_argument, NULL, ARG_KERNEL },
                { "initrd", required_argument, NULL, ARG_INITRD },
                { "cmdline-file", required_argument, NULL, ARG_CMDLINE_FILE },
                { "cmdline", required_argument, NULL, ARG_CMDLINE },
                { "json", no_argument, NULL, ARG_JSON },
                { "banks", required_argument, NULL, ARG_BANKS },
                {},
        };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_KERNEL:
                        a->kernel = optarg;
                        break;
                case ARG_INITRD:
                        a->initrd = optarg;
                        break;
                case ARG_CMDLINE_FILE:
                        a->cmdline_file = optarg;
                        break;
                case ARG_CMDLINE:
                        if (!predict)
                                return usage_error("--cmdline is for predict; measure reads --cmdline-file.");
                        a->cmdline = optarg;
                        break;
                case ARG_JSON:
                        if (!predict)
                                return usage_error("--json is for predict.");
                        a->json = true;
                        break;
                case ARG_BANKS:
                        if (!predict)
                                return usage_error("--banks is for predict; measure uses the TPM's active banks.");
                        if (parse_banks(optarg, &a->banks) < 0)
                                return usage_error("Invalid --banks '%s' (expected a comma-separated list of sha1, sha256, sha384, sha512).",
                                                   optarg);
                        break;
                default:
                        return -(EINVAL | USAGE_ERROR_BIT);
                }

        if (optind < argc)
                return usage_error("Unexpected argument '%s'.", argv[optind]);
        if (!a->kernel)
                return usage_error("--kernel is required.");
        if (!a->initrd)
                return usage_error("--initrd is required.");
        if (predict && a->cmdline_file && a->cmdline)
                return usage_error("--cmdline and --cmdline-file exclude each other.");
        if (predict && !a->cmdline && !a->cmdline_file)
                return usage_error("--cmdline or --cmdline-file is required.");
        return 0;
}

int verb_measure(int argc, char **argv, const CommonArgs *common) {
        _cleanup_(tpm2_context_freep) Tpm2Context *tpm = NULL;
        _cleanup_(config_done) Config config = {};
        _cleanup_free_ char *cmdline = NULL;
        MeasureArgs a = {};
        unsigned banks = 0;
        int r;

        r = parse_args(argc, argv, /* predict= */ false, &a);
        if (r < 0)
                return r;

        r = cmdline_read(a.cmdline_file ?: PROC_CMDLINE, &cmdline);
        if (r < 0)
                return r;

        r = verbs_load_config(&config, common, CONFIG_FILE_DEFAULT, cmdline);
        if (r < 0)
                return r;

        r = tpm2_context_new(config.tcti, &tpm);
        if (r < 0)
                return log_error_errno(r, "Failed to open the TPM through TCTI '%s': %m", config.tcti);

        r = measure_get_banks(tpm, config.tcti, &banks);
        if (r < 0)
                return r;

        return measure_boot_inputs(tpm, &config, &(MeasureInputs) { a.kernel, a.initrd, cmdline });
}

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

int verb_predict(int argc, char **argv, const CommonArgs *common) {
        _cleanup_(config_done) Config config = {};
        _cleanup_free_ char *cmdline = NULL, *json = NULL;
        MeasureArgs a = { .banks = HASH_ALL };
        MeasureEvent *events = NULL;
        PcrValues values;
        size_t n = 0;
        int r;

        r = parse_args(argc, argv, /* predict= */ true, &a);
        if (r < 0)
                return r;

        if (a.cmdline_file)
                r = cmdline_read(a.cmdline_file, &cmdline);
        else {
                cmdline = strdup(a.cmdline);
                r = cmdline ? 0 : log_oom();
        }
        if (r < 0)
                return r;

        /* The image's configuration decides the PCRs; it is never this machine's /etc/ephroot.conf
         * unless named with --config. The command line's ephroot.* settings apply, as at boot. */
        r = verbs_load_config(&config, common, /* default_path= */ NULL, cmdline);
        if (r < 0)
                return r;

        r = measure_events_build(&config, &(MeasureInputs) { a.kernel, a.initrd, cmdline }, a.banks, &events, &n);
        if (r < 0)
                return r;

        r = measure_replay(events, n, a.banks, &values);
        measure_events_free(events, n);
        if (r < 0)
                return log_error_errno(r, "Failed to replay the predicted events: %m");

        if (!a.json)
                return print_text(&values);

        r = measure_json_pcr_values(&values, &json);
        if (r < 0)
                return log_error_errno(r, "Failed to format the predicted PCR values as JSON: %m");
        puts(json);
        return 0;
}

int verb_config(int argc, char **argv, const CommonArgs *common) {
        _cleanup_(config_done) Config config = {};
        _cleanup_free_ char *cmdline = NULL;
        const char *cmdline_file = PROC_CMDLINE;
        int r;

        if (argc > 2 || (argc == 2 && !startswith(argv[1], "--cmdline-file=")))
                return usage_error("Usage: ephroot config [--cmdline-file=FILE]");
        if (argc == 2)
                cmdline_file = argv[1] + strlen("--cmdline-file=");

        r = cmdline_read(cmdline_file, &cmdline);
        if (r < 0)
                return r;
        r = verbs_load_config(&config, common, CONFIG_FILE_DEFAULT, cmdline);
        if (r < 0)
                return r;
        return config_dump(&config, stdout);
}
