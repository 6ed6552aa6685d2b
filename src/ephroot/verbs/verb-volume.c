/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `ephroot volume`: for tests and operators, the volume step of the boot on one named device, through
 * the boot's own steps (boot.c): check it may be destroyed, open the TPM, make the key (keygen.c),
 * format and activate (luks.c), measure the disk and the volume key into the TPM and the log (or
 * deactivate the volume when that fails), and print the mapping. */

#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "boot.h"
#include "json-util.h"
#include "keygen.h"
#include "log.h"
#include "luks.h"
#include "measure-boot.h"
#include "tpm2.h"
#include "util.h"
#include "verbs.h"


static struct {
        const char *device;
        const char *header_dir;
        const char *dm_name;
        bool no_activate;
        bool json;
} arg;

enum {
        ARG_DEVICE = 0x100,
        ARG_NO_ACTIVATE,
        ARG_HEADER_DIR,
        ARG_DM_NAME,
        ARG_JSON,
        ARG_CMDLINE_FILE,
};

static VerbResult parse_option(VerbContext *ctx, int c, const char *value) {
        switch (c) {
        case ARG_DEVICE:
                if (isempty(value))
                        return verb_usage("--device needs a path.");
                arg.device = value;
                return VERB_OK;
        case ARG_NO_ACTIVATE:
                arg.no_activate = true;
                return VERB_OK;
        case ARG_HEADER_DIR:
                if (!path_is_absolute(value))
                        return verb_usage("--header-dir needs an absolute path, got '%s'.", value);
                arg.header_dir = value;
                return VERB_OK;
        case ARG_DM_NAME:
                if (!luks_dm_name_is_valid(value))
                        return verb_usage("Invalid --dm-name '%s' (1..%u of A-Z a-z 0-9 . _ -, not starting with . or -).",
                                          value, LUKS_DM_NAME_MAX);
                arg.dm_name = value;
                return VERB_OK;
        case ARG_JSON:
                arg.json = true;
                return VERB_OK;
        case ARG_CMDLINE_FILE:
                ctx->cmdline_file = value;
                return VERB_OK;
        default:
                return VERB_USAGE;
        }
}

static VerbResult parse_args(VerbContext *ctx, int argc, char **argv) {
        if (argc > 0)
                return verb_usage("Unexpected argument '%s'.", argv[0]);
        if (!arg.device)
                return verb_usage("--device is required.");
        return VERB_OK;
}

/* The mapping as text or JSON, for operators and tests. */
static int print_volume(const LuksVolume *v, const char *flags, const char *dm_name, bool measured, unsigned pcr,
                        bool json) {
        _cleanup_free_ char *vk = NULL;

        if (asprintf(&vk, "cryptsetup:%s:%s", dm_name, v->uuid) < 0)
                return log_oom();

        if (json) {
                _cleanup_json_ json_object *o = json_object_new_object();

                if (!o || json_add_string(o, "device", v->device) < 0 || json_add_string(o, "dm_name", v->dm_name) < 0 ||
                    json_add_string(o, "dm_node", v->dm_node) < 0 || json_add_string(o, "uuid", v->uuid) < 0 ||
                    json_add_string(o, "cipher", v->cipher) < 0 || json_add_int(o, "key_bits", v->key_bits) < 0 ||
                    json_add_int(o, "sector_size", v->sector_size) < 0 ||
                    json_add_string(o, "integrity", luks_integrity_to_string(v->integrity)) < 0 ||
                    json_add_uint(o, "data_offset", v->data_offset) < 0 ||
                    json_add_uint(o, "data_size", v->data_size) < 0 || json_add_string(o, "flags", flags) < 0 ||
                    json_add_bool(o, "discarded", v->discarded) < 0 || json_add_string(o, "header", v->header_path) < 0 ||
                    json_add_bool(o, "measured", measured) < 0 ||
                    (measured ? json_add_int(o, "pcr", pcr) : json_add_null(o, "pcr")) < 0 ||
                    json_add_string(o, "volume_key_string", measured ? vk : NULL) < 0)
                        return log_oom();
                puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                return 0;
        }

        printf("device:       %s\n"
               "dm-node:      %s\n"
               "uuid:         %s\n"
               "cipher:       %s\n"
               "key-bits:     %u\n"
               "sector-size:  %u\n"
               "integrity:    %s\n"
               "data-offset:  %" PRIu64 "\n"
               "data-size:    %" PRIu64 "\n"
               "flags:        %s\n"
               "discarded:    %s\n"
               "header:       %s\n",
               v->device, v->dm_node ?: "- (not activated)", v->uuid, v->cipher, v->key_bits, v->sector_size,
               luks_integrity_to_string(v->integrity), v->data_offset, v->data_size, flags,
               v->discarded ? "yes" : "no", v->header_path);
        if (measured)
                printf("measured:     PCR %u (disk; volume-key %s)\n", pcr, vk);
        else
                printf("measured:     no (tpm=none)\n");
        return 0;
}

static int run(VerbContext *ctx) {
        _cleanup_(tpm2_context_freep) Tpm2Context *tpm = NULL;
        _cleanup_(boot_target_done) BootTarget target = {};
        _cleanup_(luks_volume_done) LuksVolume v = {};
        _cleanup_(secret_freep) Secret *key = NULL;
        _cleanup_free_ char *flags = NULL;
        const char *dm_name = arg.dm_name ?: LUKS_DM_NAME_DEFAULT;
        const Config *c = &ctx->config;
        BootError e = {};
        LuksParams p;
        int r;

        /* The same checks as the boot's, before anything else: a refusal touches neither disk nor TPM. */
        r = boot_pick_target(c, arg.device, /* named= */ true, /* rootmnt= */ NULL, &target, &e);
        if (r < 0)
                return log_error_errno(r, "%s", e.message);
        log_info("Target '%s': %s.", target.node, target.reason);

        if (c->tpm_required) {
                r = boot_open_tpm(c, &tpm, /* e= */ NULL);
                if (r < 0)
                        return r;
                r = measure_get_banks(tpm, c->tcti, /* ret_banks= */ NULL);
                if (r < 0)
                        return r;
        } else
                log_warning("tpm=none: NO TPM. The key comes from getrandom() alone and nothing is measured. Development only.");

        r = keygen_volume_key(tpm, &key);
        if (r < 0)
                return r;

        config_luks_params(c, &p);
        p.header_dir = arg.header_dir;
        p.dm_name = dm_name;
        p.activate = !arg.no_activate;
        p.device_rdev = target.rdev;
        r = luks_setup(arg.device, key, &p, &v);
        if (r < 0)
                return r;

        r = boot_measure_volume(tpm, c, &target, &v, dm_name, &key);
        if (r < 0)
                return r;

        r = luks_activate_flags_to_string(v.activate_flags, &flags);
        if (r < 0)
                return log_oom();
        return print_volume(&v, flags, dm_name, !!tpm, c->pcr_disk, arg.json);
}

static const struct option options[] = {
        { "device", required_argument, NULL, ARG_DEVICE },
        { "no-activate", no_argument, NULL, ARG_NO_ACTIVATE },
        { "header-dir", required_argument, NULL, ARG_HEADER_DIR },
        { "dm-name", required_argument, NULL, ARG_DM_NAME },
        { "json", no_argument, NULL, ARG_JSON },
        { "cmdline-file", required_argument, NULL, ARG_CMDLINE_FILE },
        {},
};

const Verb verb_volume = {
        .name = "volume",
        .synopsis = "--device PATH [--no-activate] [--header-dir DIR] [--dm-name NAME]\n"
                    "[--cmdline-file FILE] [--json]",
        .help = "DESTROYS the device: after the same checks as probe, a fresh key from the TPM,\n"
                "LUKS2 with the header in DIR (default /run/ephroot), the mark on the device,\n"
                "activation as /dev/mapper/NAME (default ephroot), the disk and volume-key\n"
                "events measured into pcr-disk (default 15); prints the mapping.",
        .options = options,
        .needs = VERB_NEEDS_CONFIG,
        .parse_option = parse_option,
        .parse_args = parse_args,
        .run = run,
};
