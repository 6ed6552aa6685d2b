/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `ephroot probe`: lists every disk with its Azure role, identity, size and classification, and the
 * target `boot` would pick, with the reason. Read-only: safe on a running system. */

#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
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

enum {
        ARG_SYSFS_ROOT = 0x100,
        ARG_DEVICE,
        ARG_JSON,
};


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

static int print_json(const DiskList *l, const DiskClassResult *pd, const DiskTarget *t) {
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

static void print_text(const DiskList *l, const DiskClassResult *pd, const DiskTarget *t) {
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
        _cleanup_(disk_target_done) DiskTarget t = {};
        DiskClassResult *pd = NULL;
        ProbeArgs a = {};
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

        pd = calloc(l.n ?: 1, sizeof(DiskClassResult));
        if (!pd)
                return log_oom();
        for (size_t i = 0; r >= 0 && i < l.n; i++)
                r = disk_classify_node(root, l.disks[i].node, pd + i);
        if (r >= 0)
                r = disk_pick_target(&(DiskTargetRequest) {
                                             .root = root,
                                             .device = a.device ?: config.device,
                                             .force_format = config.force_format,
                                             .inspect = !!a.device,
                                     },
                                     &l, &t);
        if (r >= 0) {
                if (a.json)
                        r = print_json(&l, pd, &t);
                else
                        print_text(&l, pd, &t);
        }

        for (size_t i = 0; i < l.n; i++)
                disk_class_result_done(pd + i);
        free(pd);
        if (r < 0)
                return log_oom();
        /* Reported fine, but boot would have nothing (safe) to format: say so in the exit status. */
        return t.ok ? 0 : -ENODEV;
}
