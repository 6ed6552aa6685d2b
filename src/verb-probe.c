/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `ephroot probe`: lists every disk with its Azure role, identity, size and classification, and the
 * target `boot` would pick, with the reason. Read-only: safe on a running system. */

#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "config-load.h"
#include "disk.h"
#include "log.h"
#include "util.h"
#include "verbs.h"

#define PROC_CMDLINE "/proc/cmdline"

typedef struct ProbeArgs {
        const char *root;
        const char *device;
        bool json;
} ProbeArgs;

typedef struct ProbeDisk {
        DiskClass class;
        char *reason; /* classification reason, or why it could not be classified */
        bool classified;
} ProbeDisk;

typedef struct ProbeTarget {
        const Disk *disk;      /* NULL for an image file or when there is none */
        char *node;
        const char *identity;
        DiskClass class;
        bool classified;
        bool forced;
        bool ok;
        char *reason;
} ProbeTarget;

static void probe_disk_done(ProbeDisk *p) {
        p->reason = mfree(p->reason);
}

enum {
        ARG_SYSFS_ROOT = 0x100,
        ARG_DEVICE,
        ARG_JSON,
};

#define usage_error(...) (log_error(__VA_ARGS__), -(EINVAL | USAGE_ERROR_BIT))

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

static bool root_is_live(const char *root) {
        return isempty(root) || streq(root, "/");
}

static int parse_args(int argc, char **argv, ProbeArgs *a) {
        static const struct option options[] = {
                { "sysfs-root", required_argument, NULL, ARG_SYSFS_ROOT },
                { "device", required_argument, NULL, ARG_DEVICE },
                { "json", no_argument, NULL, ARG_JSON },
                {},
        };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_SYSFS_ROOT:
                        if (isempty(optarg))
                                return usage_error("--sysfs-root needs a directory.");
                        a->root = optarg;
                        break;
                case ARG_DEVICE:
                        a->device = optarg;
                        break;
                case ARG_JSON:
                        a->json = true;
                        break;
                default:
                        return -(EINVAL | USAGE_ERROR_BIT);
                }
        if (optind < argc)
                return usage_error("Unexpected argument '%s'.", argv[optind]);
        return 0;
}

/* The configuration boot would use: /etc/ephroot.conf and the kernel command line, both taken from
 * inside the root when one is given (a fake tree has no command line unless it holds proc/cmdline). */
static int load_probe_config(Config *c, const CommonArgs *common, const char *root) {
        _cleanup_free_ char *conf = NULL, *cmdline_path = NULL, *cmdline = NULL;
        bool live = root_is_live(root);
        int r;

        r = config_init(c);
        if (r < 0)
                return log_oom();

        conf = live ? strdup(CONFIG_FILE_DEFAULT) : disk_root_path(root, CONFIG_FILE_DEFAULT);
        cmdline_path = live ? strdup(PROC_CMDLINE) : disk_root_path(root, PROC_CMDLINE);
        if (!conf || !cmdline_path)
                return log_oom();
        if (live || access(cmdline_path, F_OK) >= 0) {
                r = cmdline_read(cmdline_path, &cmdline);
                if (r < 0)
                        return r;
        }

        r = config_load(c, common->config_path ?: conf, /* required= */ !!common->config_path, cmdline);
        if (r < 0)
                return r == -ENOMEM ? r : -(ERRNO_VALUE(r) | USAGE_ERROR_BIT);
        if (common->log_level < 0)
                log_set_max_level(c->log_level);
        return 0;
}

/* Test fixtures stand in for the NVMe Identify Namespace command: <root>/nvme-vs/<name>. */
static int fake_nvme_read_vs(const char *name, unsigned nsid, void *userdata, char **ret) {
        _cleanup_free_ char *rel = NULL, *p = NULL;

        if (asprintf(&rel, "nvme-vs/%s", name) < 0)
                return -ENOMEM;
        p = disk_root_path(userdata, rel);
        if (!p)
                return -ENOMEM;
        return read_one_line_file(p, 4096, ret);
}

static int classify_path(const char *root, const char *path, ProbeDisk *ret) {
        _cleanup_free_ char *inroot = root_is_live(root) ? strdup(path) : disk_root_path(root, path);
        int r;

        if (!inroot)
                return -ENOMEM;
        r = disk_classify(inroot, &ret->class, &ret->reason, /* ret_size= */ NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                ret->classified = false;
                return asprintf(&ret->reason, "cannot be classified: %s", strerror(-r)) < 0 ? -ENOMEM : 0;
        }
        ret->classified = true;
        return 0;
}

/* Logs the refusal once, naming the device, and keeps the same sentence for the report. */
_printf_(2, 3) static int refuse(ProbeTarget *t, const char *format, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&msg, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        log_error("%s.", msg);
        t->ok = false;
        free(t->reason);
        t->reason = TAKE_PTR(msg);
        return 0;
}

/* The last step for every target: may its contents be destroyed? */
static int decide(ProbeTarget *t, const ProbeDisk *pd, const char *why, const char *force_format) {
        _cleanup_free_ char *reason = NULL;
        int r;

        t->classified = pd->classified;
        t->class = pd->class;
        if (!pd->classified)
                return refuse(t, "Refusing to format '%s': it %s", t->node, pd->reason);

        r = disk_check_destroyable(t->identity, pd->class, pd->reason, force_format, &t->forced, &reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return refuse(t, "Refusing to format '%s': %s", t->node, reason);
        if (t->forced)
                log_warning("FORCED: '%s' holds foreign data and boot would DESTROY it: %s.", t->node, reason);
        t->ok = true;
        return asprintf(&t->reason, "%s; %s", why, reason) < 0 ? -ENOMEM : 0;
}

/* --device naming a regular file (on this host, whatever the root) is an image: classification
 * only; it has no stable identity, so it can never be forced. */
static int decide_image(const char *path, const char *force_format, ProbeTarget *t) {
        ProbeDisk image = {};
        int r;

        t->node = strdup(path);
        if (!t->node)
                return -ENOMEM;
        r = classify_path(/* root= */ NULL, path, &image);
        if (r >= 0)
                r = decide(t, &image, "image file named with --device (classification only)", force_format);
        free(image.reason);
        return r;
}

/* Finds the target and decides whether it may be destroyed. Fills t; a refusal is logged once and
 * leaves t->ok false with the reason in t->reason. */
static int pick_target(const ProbeArgs *a, const Config *c, const DiskList *l, const ProbeDisk *pd, ProbeTarget *t) {
        const char *spec = a->device ?: c->device, *why = NULL, *use_reason = NULL;
        struct stat st;
        DiskUse u;
        size_t idx = 0;
        int r;

        if (streq(spec, CONFIG_DEVICE_AUTO)) {
                r = disk_select_auto(l, &idx, &why);
                if (r < 0) {
                        log_notice("No target disk: %s.", why);
                        return asprintf(&t->reason, "%s", why) < 0 ? -ENOMEM : 0;
                }
        } else {
                if (a->device && stat(spec, &st) >= 0 && S_ISREG(st.st_mode))
                        return decide_image(spec, c->force_format, t);

                r = disk_resolve_path(a->root, l, spec, &idx);
                if (r == -ENOMEM)
                        return r;
                if (r == -ENOTBLK && a->device && stat(spec, &st) >= 0 && S_ISBLK(st.st_mode)) {
                        /* A partition, loop or dm device: say what it holds, but boot would not take it. */
                        _cleanup_(probe_disk_done) ProbeDisk other = {};

                        t->node = strdup(spec);
                        if (!t->node)
                                return -ENOMEM;
                        r = classify_path(/* root= */ NULL, spec, &other);
                        if (r < 0)
                                return r;
                        t->classified = other.classified;
                        t->class = other.class;
                        return refuse(t, "Refusing to format '%s': it is not a whole disk that ephroot enumerates (%s%s%s)",
                                      spec, other.classified ? disk_class_to_string(other.class) : "",
                                      other.classified ? ": " : "", other.reason);
                }
                if (r < 0)
                        return refuse(t, "Refusing to format '%s': %s", spec,
                                      r == -ENOENT  ? "it does not exist" :
                                      r == -ENOTBLK ? "it is not a whole disk that ephroot enumerates" :
                                                      strerror(-r));
                why = "named by device=";
        }

        t->disk = l->disks + idx;
        t->identity = t->disk->identity;
        t->node = strdup(t->disk->node);
        if (!t->node)
                return -ENOMEM;

        r = disk_get_use(a->root, t->disk, &u);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return refuse(t, "Refusing to format '%s': cannot check whether it is in use (%s)", t->node,
                              strerror(-r));
        r = disk_check_use(t->disk, &u, &use_reason);
        if (r < 0)
                return refuse(t, "Refusing to format '%s': %s", t->node, use_reason);

        return decide(t, pd + idx, why, c->force_format);
}

static int json_add_string(json_object *o, const char *key, const char *value) {
        json_object *v = value ? json_object_new_string(value) : NULL;

        if (value && !v)
                return -ENOMEM;
        return json_object_object_add(o, key, v) < 0 ? -ENOMEM : 0;
}

static int json_add_int(json_object *o, const char *key, int64_t value, bool present) {
        json_object *v = present ? json_object_new_int64(value) : NULL;

        if (present && !v)
                return -ENOMEM;
        return json_object_object_add(o, key, v) < 0 ? -ENOMEM : 0;
}

static int print_json(const DiskList *l, const ProbeDisk *pd, const ProbeTarget *t) {
        _cleanup_(json_object_putp) json_object *top = json_object_new_object();
        json_object *disks = json_object_new_array(), *target = NULL;
        int r = 0;

        if (!top || !disks || json_object_object_add(top, "disks", disks) < 0)
                return -ENOMEM;
        r = json_object_object_add(top, "azure", json_object_new_boolean(l->azure));
        for (size_t i = 0; r >= 0 && i < l->n; i++) {
                const Disk *d = l->disks + i;
                json_object *o = json_object_new_object();

                if (!o || json_object_array_add(disks, o) < 0)
                        return -ENOMEM;
                r = json_add_string(o, "node", d->node);
                if (r >= 0)
                        r = json_add_string(o, "role", disk_role_to_string(d->role));
                if (r >= 0)
                        r = json_add_int(o, "lun", d->lun, d->lun >= 0);
                if (r >= 0)
                        r = json_add_int(o, "index", d->index, d->index >= 0);
                if (r >= 0)
                        r = json_add_string(o, "identity", d->identity);
                if (r >= 0)
                        r = json_add_int(o, "size", (int64_t) d->size, true);
                if (r >= 0)
                        r = json_add_string(o, "model", d->model);
                if (r >= 0)
                        r = json_add_string(o, "classification",
                                            pd[i].classified ? disk_class_to_string(pd[i].class) : NULL);
                if (r >= 0)
                        r = json_add_string(o, "reason", pd[i].reason);
        }
        if (r >= 0 && t->ok) {
                target = json_object_new_object();
                if (!target)
                        return -ENOMEM;
                if (json_object_object_add(top, "target", target) < 0)
                        return -ENOMEM;
                r = json_add_string(target, "node", t->node);
                if (r >= 0)
                        r = json_add_string(target, "role", t->disk ? disk_role_to_string(t->disk->role) : NULL);
                if (r >= 0)
                        r = json_add_string(target, "identity", t->identity);
                if (r >= 0)
                        r = json_add_string(target, "classification", disk_class_to_string(t->class));
                if (r >= 0)
                        r = json_object_object_add(target, "forced", json_object_new_boolean(t->forced));
                if (r >= 0)
                        r = json_add_string(target, "reason", t->reason);
        } else if (r >= 0)
                r = json_object_object_add(top, "target", NULL);
        if (r >= 0 && !t->ok) {
                r = json_add_string(top, "candidate", t->node);
                if (r >= 0)
                        r = json_add_string(top, "candidate_classification",
                                            t->classified ? disk_class_to_string(t->class) : NULL);
        }
        if (r >= 0)
                r = json_add_string(top, "reason", t->reason);
        if (r < 0)
                return -ENOMEM;

        puts(json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        return 0;
}

static void print_text(const DiskList *l, const ProbeDisk *pd, const ProbeTarget *t) {
        printf("Azure identity: %s\n\n", l->azure ? "yes" : "no (device=auto picks nothing)");
        printf("%-14s %-13s %-22s %14s  %s\n", "NODE", "ROLE", "CLASSIFICATION", "SIZE", "IDENTITY");
        for (size_t i = 0; i < l->n; i++) {
                const Disk *d = l->disks + i;
                char role[32];

                if (d->role == DISK_ROLE_DATA && d->lun >= 0)
                        (void) snprintf(role, sizeof(role), "data:%d", d->lun);
                else if (d->role == DISK_ROLE_NVME_LOCAL && d->index >= 0)
                        (void) snprintf(role, sizeof(role), "nvme-local:%d", d->index);
                else
                        (void) snprintf(role, sizeof(role), "%s", disk_role_to_string(d->role));
                printf("%-14s %-13s %-22s %14" PRIu64 "  %s\n", d->node, role,
                       pd[i].classified ? disk_class_to_string(pd[i].class) : "-", d->size, strempty(d->identity));
                printf("%-14s   %s\n", "", strempty(pd[i].reason));
        }
        printf("\nTarget: %s\n  %s\n", t->ok ? t->node : "none", strempty(t->reason));
}

int verb_probe(int argc, char **argv, const CommonArgs *common) {
        _cleanup_(config_done) Config config = {};
        _cleanup_(disk_list_done) DiskList l = {};
        ProbeArgs a = {};
        ProbeTarget t = {};
        ProbeDisk *pd = NULL;
        const char *root;
        int r;

        r = parse_args(argc, argv, &a);
        if (r < 0)
                return r;
        root = a.root ?: "/";

        r = load_probe_config(&config, common, root);
        if (r < 0)
                return r;

        r = disk_enumerate(root, root_is_live(root) ? disk_nvme_read_vs : fake_nvme_read_vs, (void *) root, &l);
        if (r < 0)
                return log_error_errno(r, "Failed to enumerate the disks under '%s': %m", root);

        pd = calloc(l.n ?: 1, sizeof(ProbeDisk));
        if (!pd)
                return log_oom();
        for (size_t i = 0; r >= 0 && i < l.n; i++)
                r = classify_path(root, l.disks[i].node, pd + i);
        if (r >= 0)
                r = pick_target(&a, &config, &l, pd, &t);
        if (r >= 0) {
                if (a.json)
                        r = print_json(&l, pd, &t);
                else
                        print_text(&l, pd, &t);
        }

        for (size_t i = 0; i < l.n; i++)
                free(pd[i].reason);
        free(pd);
        free(t.node);
        free(t.reason);
        if (r < 0)
                return log_oom();
        /* Reported fine, but boot would have nothing (safe) to format: say so in the exit status. */
        return t.ok ? 0 : -ENODEV;
}
