/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "log.h"
#include "verbs.h"

static void help(void) {
        printf("ephroot %s: an encrypted, ephemeral root for confidential VMs.\n"
               "\n"
               "Usage: ephroot [OPTIONS] VERB [VERB OPTIONS]\n"
               "\n"
               "Verbs:\n"
               "  measure --kernel FILE --initrd FILE [--cmdline-file FILE]\n"
               "        Extend kernel, initrd and command line (default /proc/cmdline) into the TPM\n"
               "        and append them to the measurement log.\n"
               "  predict --kernel FILE --initrd FILE (--cmdline STRING | --cmdline-file FILE)\n"
               "          [--banks LIST] [--json]\n"
               "        Print the PCR values `measure` will produce, from files alone.\n"
               "  config [--cmdline-file=FILE]\n"
               "        Print the effective configuration (defaults < file < command line).\n"
               "  probe [--sysfs-root DIR] [--device PATH] [--json]\n"
               "        Read-only: list the disks with their Azure role, identity, size and\n"
               "        classification, and the target `boot` would format, with the reason.\n"
               "        Exits 1 when there is no target that is safe to format.\n"
               "  boot --rootmnt DIR [--kernel FILE] [--initrd FILE] [--cmdline-file FILE]\n"
               "       [--status FILE] [--no-failure-action]\n"
               "        In the initramfs, when enabled: measure, key, format the disk, lay the OS\n"
               "        root (mounted at DIR) on the encrypted volume. On failure: halt (see\n"
               "        failure-action=). Does nothing when ephroot is not enabled.\n"
               "  boot-failed [--if-service-failed] [--cmdline-file FILE]\n"
               "        The boot's guard: when `boot` did not finish (killed, crashed), extend the\n"
               "        failure event into every PCR ephroot uses. --if-service-failed: nothing when\n"
               "        systemd's $SERVICE_RESULT is success (ExecStopPost= of ephroot.service).\n"
               "  root-hash IMAGE [--copy-to FILE] [--json]\n"
               "        Print the root hash copy mode computes for an OS root image (for root-hash=),\n"
               "        and with --copy-to copy it into an existing file or device as the boot does.\n"
               "  volume --device PATH [--no-activate] [--header-dir DIR] [--dm-name NAME]\n"
               "         [--cmdline-file FILE] [--json]\n"
               "        DESTROYS the device: after the same checks as probe, a fresh key from the TPM,\n"
               "        LUKS2 with the header in DIR (default /run/ephroot), the mark on the device,\n"
               "        activation as /dev/mapper/NAME (default ephroot), the disk and volume-key\n"
               "        events measured into pcr-disk (default 15); prints the mapping.\n"
               "  attest [--secrets-dir DIR] [--cmdline-file FILE] [--print-ak]\n"
               "        Attest to the key broker (kbs-url=) with evidence from the TPM and write the\n"
               "        configured secret.<name>= resources to DIR (default /run/ephroot/secrets,\n"
               "        tmpfs only). --print-ak prints the AK the tpm evidence uses (base64 DER).\n"
               "\n"
               "Options:\n"
               "  --config FILE      Configuration file (measure, config, probe, volume: default %s;\n"
               "                     predict: none unless given)\n"
               "  --tcti STRING      TPM access, e.g. device:/dev/tpmrm0 or swtpm:host=127.0.0.1,port=2321\n"
               "  --log-level LEVEL  emerg..debug (default: from configuration, else info)\n"
               "  --log-target T     auto, journal, kmsg or stderr (default auto)\n"
               "  -h --help          Show this help\n"
               "  --version          Show the version\n"
               "\n"
               "Exit status: 0 success, 1 the operation failed, 2 bad usage or configuration.\n",
               PROJECT_VERSION, "/etc/ephroot.conf");
}

enum {
        ARG_VERSION = 0x100,
        ARG_CONFIG,
        ARG_TCTI,
        ARG_LOG_LEVEL,
        ARG_LOG_TARGET,
};

static const struct {
        const char *name;
        int (*run)(int argc, char **argv, const CommonArgs *common);
} verbs[] = {
        { "measure", verb_measure },
        { "predict", verb_predict },
        { "config", verb_config },
        { "probe", verb_probe },
        { "root-hash", verb_root_hash },
        { "boot", verb_boot },
        { "boot-failed", verb_boot_failed },
        { "volume", verb_volume },
        { "attest", verb_attest },
};

static int exit_code(int r) {
        if (r >= 0)
                return EXIT_SUCCESS;
        return (-r) & USAGE_ERROR_BIT ? EXIT_USAGE : EXIT_FAILURE;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "tcti", required_argument, NULL, ARG_TCTI },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "log-target", required_argument, NULL, ARG_LOG_TARGET },
                {},
        };
        CommonArgs common = { .log_level = -1 };
        const char *env;
        int c, r;

        /* Keys will live in this process: keep its memory out of swap and core dumps. Best effort. */
        (void) prctl(PR_SET_DUMPABLE, 0);
        if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
                log_debug_errno(errno, "Failed to lock memory, continuing: %m");

        env = secure_getenv("EPHROOT_LOG_TARGET");
        if (env) {
                r = log_target_from_string(env);
                if (r >= 0)
                        log_set_target(r);
        }

        /* "+" stops at the verb: what follows belongs to it. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        printf("ephroot %s\n", PROJECT_VERSION);
                        return EXIT_SUCCESS;
                case ARG_CONFIG:
                        common.config_path = optarg;
                        break;
                case ARG_TCTI:
                        common.tcti = optarg;
                        break;
                case ARG_LOG_LEVEL:
                        common.log_level = log_level_from_string(optarg);
                        if (common.log_level < 0) {
                                log_error("Invalid --log-level '%s'.", optarg);
                                return EXIT_USAGE;
                        }
                        log_set_max_level(common.log_level);
                        break;
                case ARG_LOG_TARGET:
                        r = log_target_from_string(optarg);
                        if (r < 0) {
                                log_error("Invalid --log-target '%s'.", optarg);
                                return EXIT_USAGE;
                        }
                        log_set_target(r);
                        break;
                default:
                        return EXIT_USAGE;
                }

        if (optind >= argc) {
                log_error("No verb given; see 'ephroot --help'.");
                return EXIT_USAGE;
        }

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[optind], verbs[i].name)) {
                        r = verbs[i].run(argc - optind, argv + optind, &common);
                        log_close();
                        return exit_code(r);
                }

        log_error("Unknown verb '%s'; see 'ephroot --help'.", argv[optind]);
        return EXIT_USAGE;
}
