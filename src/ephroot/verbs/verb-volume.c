/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `ephroot volume`: for tests and operators, the volume step of the boot on one named device: check
 * it may be destroyed (disk-target.c), make the key (keygen.c), format and activate (luks.c), measure
 * the disk and the volume key into the TPM and the log, and print the mapping. The boot calls the
 * same functions, not this verb. */

#define _GNU_SOURCE
#include <dirent.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <sys/stat.h>

#include "config-load.h"
#include "disk.h"
#include "keygen.h"
#include "log.h"
#include "luks.h"
#include "measure-boot.h"
#include "tpm2.h"
#include "util.h"
#include "verbs.h"

#define PROC_CMDLINE "/proc/cmdline"
#define SYS_BLOCK "/sys/block"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

/* What the disk event says about the target. */
typedef struct VolumeTarget {
        char *identity;      /* NULL: none (image, non-Azure disk) */
        const char *role;    /* static */
        DiskClass class;
        bool forced;
        dev_t rdev;          /* the block device classified; 0 for an image */
} VolumeTarget;

static void volume_target_done(VolumeTarget *t) {
        t->identity = mfree(t->identity);
}

typedef struct VolumeArgs {
        const char *device;
        const char *header_dir;
        const char *dm_name;
        const char *cmdline_file;
        bool no_activate;
        bool json;
} VolumeArgs;

enum {
        ARG_DEVICE = 0x100,
        ARG_NO_ACTIVATE,
        ARG_HEADER_DIR,
        ARG_DM_NAME,
        ARG_JSON,
        ARG_CMDLINE_FILE,
};

static int parse_args(int argc, char **argv, VolumeArgs *a) {
        static const struct option options[] = {
                { "device", required_argument, NULL, ARG_DEVICE },
                { "no-activate", no_argument, NULL, ARG_NO_ACTIVATE },
                { "header-dir", required_argument, NULL, ARG_HEADER_DIR },
                { "dm-name", required_argument, NULL, ARG_DM_NAME },
                { "json", no_argument, NULL, ARG_JSON },
                { "cmdline-file", required_argument, NULL, ARG_CMDLINE_FILE },
                {},
        };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_DEVICE:
                        if (isempty(optarg))
                                return usage_error("--device needs a path.");
                        a->device = optarg;
                        break;
                case ARG_NO_ACTIVATE:
                        a->no_activate = true;
                        break;
                case ARG_HEADER_DIR:
                        if (!path_is_absolute(optarg))
                                return usage_error("--header-dir needs an absolute path, got '%s'.", optarg);
                        a->header_dir = optarg;
                        break;
                case ARG_DM_NAME:
                        if (!luks_dm_name_is_valid(optarg))
                                return usage_error("Invalid --dm-name '%s' (1..%u of A-Z a-z 0-9 . _ -, not starting with . or -).",
                                                   optarg, LUKS_DM_NAME_MAX);
                        a->dm_name = optarg;
                        break;
                case ARG_JSON:
                        a->json = true;
                        break;
                case ARG_CMDLINE_FILE:
                        a->cmdline_file = optarg;
                        break;
                default:
                        return -(EINVAL | USAGE_ERROR_BIT);
                }
        if (optind < argc)
                return usage_error("Unexpected argument '%s'.", argv[optind]);
        if (!a->device)
                return usage_error("--device is required.");
        return 0;
}

/* An image file attached to a loop device is in use, as a mounted disk would be. */
static int image_loop_device(const char *path, char **ret_loop) {
        _cleanup_free_ char *real = realpath(path, NULL);
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;

        if (!real)
                return -errno;
        d = opendir(SYS_BLOCK);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                _cleanup_free_ char *attr = NULL, *backing = NULL;

                if (!startswith(de->d_name, "loop"))
                        continue;
                if (asprintf(&attr, SYS_BLOCK "/%s/loop/backing_file", de->d_name) < 0)
                        return -ENOMEM;
                if (read_one_line_file(attr, 4096, &backing) < 0)
                        continue;
                if (streq(backing, real)) {
                        if (asprintf(ret_loop, "/dev/%s", de->d_name) < 0)
                                return -ENOMEM;
                        return 1;
                }
        }
        return 0;
}

/* The same checks boot makes (disk-target.c): never the OS or root disk, nothing mounted, held or
 * read-only, and only what is safe to destroy unless force-format= names it. An image file is
 * classified the same way. Logs the refusal. */
static int check_target(const char *device, const Config *c, VolumeTarget *ret) {
        _cleanup_(disk_list_done) DiskList l = {};
        _cleanup_(disk_target_done) DiskTarget t = {};
        _cleanup_free_ char *loop = NULL;
        struct stat st;
        int r;

        if (stat(device, &st) < 0) {
                if (errno == ENOENT)
                        return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Refusing to format '%s': it does not exist.",
                                               device);
                return log_error_errno(errno, "Refusing to format '%s': cannot look at it: %m", device);
        }
        if (S_ISDIR(st.st_mode))
                return log_error_errno(SYNTHETIC_ERRNO(EISDIR), "Refusing to format '%s': it is a directory.", device);
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                return log_error_errno(SYNTHETIC_ERRNO(ENOTBLK),
                                       "Refusing to format '%s': it is neither a block device nor an image file.", device);
        if (S_ISREG(st.st_mode)) {
                r = image_loop_device(device, &loop);
                if (r < 0)
                        return log_error_errno(r, "Refusing to format '%s': cannot check whether it is in use: %m",
                                               device);
                if (r > 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EBUSY),
                                               "Refusing to format '%s': it is in use as the backing file of %s.", device,
                                               loop);
        }

        r = disk_enumerate("/", disk_nvme_read_vs, NULL, &l);
        if (r < 0)
                return log_error_errno(r, "Failed to enumerate the disks: %m");
        r = disk_pick_target(&(DiskTargetRequest) {
                                     .root = "/",
                                     .device = device,
                                     .force_format = c->force_format,
                                     .inspect = true,
                             },
                             &l, &t);
        if (r < 0)
                return log_oom();
        if (!t.ok)
                return -EPERM; /* logged by disk_pick_target() */

        *ret = (VolumeTarget) {
                .role = t.disk ? disk_role_to_string(t.disk->role) : "image",
                .class = t.class,
                .forced = t.forced,
                .rdev = t.rdev,
        };
        if (t.identity) {
                ret->identity = strdup(t.identity);
                if (!ret->identity)
                        return log_oom();
        }
        log_info("Target '%s': %s.", device, t.reason);
        return 0;
}

static int open_tpm(const Config *c, Tpm2Context **ret_tpm, unsigned *ret_banks) {
        _cleanup_(tpm2_context_freep) Tpm2Context *tpm = NULL;
        int r;

        r = tpm2_context_new(c->tcti, &tpm);
        if (r < 0)
                return log_error_errno(r, "Failed to open the TPM through TCTI '%s': %m", c->tcti);
        r = measure_get_banks(tpm, c->tcti, ret_banks);
        if (r < 0)
                return r;
        *ret_tpm = TAKE_PTR(tpm);
        return 0;
}

/* The mapping as text or JSON, for operators and tests. */
static int print_volume(const LuksVolume *v, const char *flags, const char *dm_name, bool measured, unsigned pcr,
                        bool json) {
        _cleanup_free_ char *vk = NULL;

        if (asprintf(&vk, "cryptsetup:%s:%s", dm_name, v->uuid) < 0)
                return log_oom();

        if (json) {
                _cleanup_(json_object_putp) json_object *o = json_object_new_object();
                int r = o ? 0 : -ENOMEM;

#define ADD(k, val)                                                                         \
                do {                                                                        \
                        json_object *_v = (val);                                            \
                        if (r >= 0 && json_object_object_add(o, (k), _v) < 0)               \
                                r = -ENOMEM;                                                \
                } while (0)
#define STR(s) ((s) ? json_object_new_string(s) : NULL)
                ADD("device", STR(v->device));
                ADD("dm_name", STR(v->dm_name));
                ADD("dm_node", STR(v->dm_node));
                ADD("uuid", STR(v->uuid));
                ADD("cipher", STR(v->cipher));
                ADD("key_bits", json_object_new_int((int) v->key_bits));
                ADD("sector_size", json_object_new_int((int) v->sector_size));
                ADD("integrity", STR(luks_integrity_to_string(v->integrity)));
                ADD("data_offset", json_object_new_uint64(v->data_offset));
                ADD("data_size", json_object_new_uint64(v->data_size));
                ADD("flags", STR(flags));
                ADD("discarded", json_object_new_boolean(v->discarded));
                ADD("header", STR(v->header_path));
                ADD("measured", json_object_new_boolean(measured));
                ADD("pcr", measured ? json_object_new_int((int) pcr) : NULL);
                ADD("volume_key_string", measured ? STR(vk) : NULL);
#undef STR
#undef ADD
                if (r < 0)
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

int verb_volume(int argc, char **argv, const CommonArgs *common) {
        _cleanup_(tpm2_context_freep) Tpm2Context *tpm = NULL;
        _cleanup_(config_done) Config config = {};
        _cleanup_(volume_target_done) VolumeTarget target = {};
        _cleanup_(luks_volume_done) LuksVolume v = {};
        _cleanup_(secret_freep) Secret *key = NULL;
        _cleanup_free_ char *flags = NULL, *cmdline = NULL;
        const char *dm_name;
        VolumeArgs a = {};
        LuksParams p;
        unsigned banks = 0;
        int r;

        r = parse_args(argc, argv, &a);
        if (r < 0)
                return r;
        r = cmdline_read(a.cmdline_file ?: PROC_CMDLINE, &cmdline);
        if (r < 0)
                return r;
        r = verbs_load_config(&config, common, CONFIG_FILE_DEFAULT, cmdline);
        if (r < 0)
                return r;
        dm_name = a.dm_name ?: LUKS_DM_NAME_DEFAULT;

        r = check_target(a.device, &config, &target);
        if (r < 0)
                return r;

        if (config.tpm_required) {
                r = open_tpm(&config, &tpm, &banks);
                if (r < 0)
                        return r;
        } else
                log_warning("tpm=none: NO TPM. The key comes from getrandom() alone and nothing is measured. Development only.");

        r = keygen_volume_key(tpm, &key);
        if (r < 0)
                return r;

        config_luks_params(&config, &p);
        p.header_dir = a.header_dir;
        p.dm_name = dm_name;
        p.activate = !a.no_activate;
        p.device_rdev = target.rdev;
        r = luks_setup(a.device, key, &p, &v);
        if (r < 0)
                return r;

        if (tpm) {
                r = measure_volume_events(tpm, &config,
                                          &(MeasureVolumeTarget) {
                                                  .identity = target.identity,
                                                  .role = target.role,
                                                  .classification = disk_class_to_string(target.class),
                                                  .forced = target.forced,
                                          },
                                          &v, dm_name, key);
                if (r < 0) {
                        /* Fail closed: an unmeasured volume is not left behind. */
                        if (v.dm_name)
                                (void) luks_deactivate(v.dm_name);
                        return r;
                }
        }
        key = secret_free(key);

        r = luks_activate_flags_to_string(v.activate_flags, &flags);
        if (r < 0)
                return log_oom();
        return print_volume(&v, flags, dm_name, !!tpm, config.pcr_disk, a.json);
}
