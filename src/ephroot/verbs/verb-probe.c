/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `ephroot probe`: lists every disk with its Azure role, identity, size and classification, and the
 * target `boot` would pick, with the reason. Read-only: safe on a running system. */

#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk.h"
#include "json-util.h"
#include "log.h"
#include "util.h"
#include "verbs.h"

static struct {
        const char *root;
        const char *device;
        bool json;
        char config_file[PATH_MAX];
        char cmdline_file[PATH_MAX];
} arg = {
        .root = "/",
};

enum {
        ARG_SYSFS_ROOT = 0x100,
        ARG_DEVICE,
        ARG_JSON,
};


static bool root_is_live(const char *root) {
        return isempty(root) || streq(root, "/");
}

static VerbResult parse_option(VerbContext *ctx, int c, const char *value) {
        switch (c) {
        case ARG_SYSFS_ROOT:
                if (isempty(value))
                        return verb_usage("--sysfs-root needs a directory.");
                arg.root = value;
                return VERB_OK;
        case ARG_DEVICE:
                arg.device = value;
                return VERB_OK;
        case ARG_JSON:
                arg.json = true;
                return VERB_OK;
        default:
                return VERB_USAGE;
        }
}

static int root_path(const char *rel, char *buf, size_t size) {
        _cleanup_free_ char *p = disk_root_path(arg.root, rel);

        if (!p)
                return -ENOMEM;
        if (strlen(p) >= size)
                return -ENAMETOOLONG;
        strcpy(buf, p);
        return 0;
}

/* The configuration boot would use: /etc/ephroot.conf and the kernel command line, both taken from
 * inside the root when one is given (a fake tree has no command line unless it holds proc/cmdline). */
static VerbResult parse_args(VerbContext *ctx, int argc, char **argv) {
        if (argc > 0)
                return verb_usage("Unexpected argument '%s'.", argv[0]);
        if (root_is_live(arg.root))
                return VERB_OK;
        if (root_path(CONFIG_FILE_DEFAULT, arg.config_file, sizeof(arg.config_file)) < 0 ||
            root_path(PROC_CMDLINE, arg.cmdline_file, sizeof(arg.cmdline_file)) < 0)
                return verb_usage("--sysfs-root '%s' is too long.", arg.root);
        ctx->config_file = arg.config_file;
        ctx->cmdline_file = access(arg.cmdline_file, F_OK) >= 0 ? arg.cmdline_file : NULL;
        return VERB_OK;
}

/* With --json a failure is reported as {"error": "..."} on stdout too: a script reading the output
 * sees why there is none, wherever the log goes. */
static void print_json_error(const char *message) {
        _cleanup_json_ json_object *o = json_object_new_object();

        if (!o || json_add_string(o, "error", message) < 0)
                return;
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

_printf_(2, 3) static int probe_error(int error, const char *format, ...) {
        char message[LOG_MESSAGE_MAX];
        va_list ap;

        errno = ERRNO_VALUE(error);
        va_start(ap, format);
        (void) vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);
        if (arg.json)
                print_json_error(message);
        return log_error_errno(error, "%s", message);
}

static VerbResult config_failed(VerbContext *ctx, VerbResult result) {
        (void) probe_error(SYNTHETIC_ERRNO(EINVAL), "%s", ctx->error.message);
        return result;
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

/* An integer that may be unknown: null then. */
static int add_int_or_null(json_object *o, const char *key, int64_t value, bool present) {
        return present ? json_add_int(o, key, value) : json_add_null(o, key);
}

static int add_disk_json(json_object *disks, const Disk *d, const DiskClassResult *pd) {
        json_object *o = json_object_new_object();
        int r;

        r = json_append(disks, o);
        if (r < 0)
                return r;
        r = json_add_string(o, "node", d->node);
        if (r >= 0)
                r = json_add_string(o, "role", disk_role_to_string(d->role));
        if (r >= 0)
                r = add_int_or_null(o, "lun", d->lun, d->lun >= 0);
        if (r >= 0)
                r = add_int_or_null(o, "index", d->index, d->index >= 0);
        if (r >= 0)
                r = json_add_string(o, "identity", d->identity);
        if (r >= 0)
                r = json_add_int(o, "size", (int64_t) d->size);
        if (r >= 0)
                r = json_add_string(o, "model", d->model);
        if (r >= 0)
                r = json_add_string(o, "classification", pd->classified ? disk_class_to_string(pd->class) : NULL);
        if (r >= 0)
                r = json_add_string(o, "reason", pd->reason);
        return r;
}

/* The disk boot would format, accepted or refused, in one shape; null when no disk was chosen. */
static int add_target_json(json_object *top, const DiskTarget *t) {
        json_object *o;
        int r;

        if (!t->node)
                return json_add_null(top, "target");
        o = json_object_new_object();
        r = json_add(top, "target", o);
        if (r >= 0)
                r = json_add_string(o, "node", t->node);
        if (r >= 0)
                r = json_add_string(o, "role", t->disk ? disk_role_to_string(t->disk->role) : NULL);
        if (r >= 0)
                r = json_add_string(o, "identity", t->identity);
        if (r >= 0)
                r = json_add_string(o, "classification", t->classified ? disk_class_to_string(t->class) : NULL);
        if (r >= 0)
                r = json_add_bool(o, "forced", t->forced);
        if (r >= 0)
                r = json_add_bool(o, "accepted", t->ok);
        if (r >= 0)
                r = json_add_string(o, "reason", t->reason);
        return r;
}

static int print_json(const DiskList *l, const DiskClassResult *pd, const DiskTarget *t) {
        _cleanup_json_ json_object *top = json_object_new_object();
        json_object *disks = json_object_new_array();
        int r;

        r = top ? json_add(top, "disks", disks) : -ENOMEM;
        if (r >= 0)
                r = json_add_bool(top, "azure", l->azure);
        for (size_t i = 0; r >= 0 && i < l->n; i++)
                r = add_disk_json(disks, l->disks + i, pd + i);
        if (r >= 0)
                r = add_target_json(top, t);
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

static int run(VerbContext *ctx) {
        _cleanup_(disk_list_done) DiskList l = {};
        _cleanup_(disk_target_done) DiskTarget t = {};
        DiskClassResult *pd = NULL;
        const char *root = arg.root;
        int r;

        r = disk_enumerate(root, root_is_live(root) ? disk_nvme_read_vs : fake_nvme_read_vs, (void *) root, &l);
        if (r < 0)
                return probe_error(r, "Failed to enumerate the disks under '%s': %m", root);

        pd = calloc(l.n ?: 1, sizeof(DiskClassResult));
        if (!pd)
                return probe_error(SYNTHETIC_ERRNO(ENOMEM), "Out of memory.");
        for (size_t i = 0; r >= 0 && i < l.n; i++)
                r = disk_classify_node(root, l.disks[i].node, pd + i);
        if (r >= 0)
                r = disk_pick_target(&(DiskTargetRequest) {
                                             .root = root,
                                             .device = arg.device ?: ctx->config.device,
                                             .force_format = ctx->config.force_format,
                                             .inspect = !!arg.device,
                                     },
                                     &l, &t);
        if (r >= 0 && !t.ok && t.node)
                log_error("%s.", t.reason);
        if (r >= 0) {
                if (arg.json)
                        r = print_json(&l, pd, &t);
                else
                        print_text(&l, pd, &t);
        }

        for (size_t i = 0; i < l.n; i++)
                disk_class_result_done(pd + i);
        free(pd);
        if (r < 0)
                return probe_error(SYNTHETIC_ERRNO(ENOMEM), "Out of memory.");
        /* Reported fine, but boot would have nothing (safe) to format: say so in the exit status. */
        return t.ok ? 0 : -ENODEV;
}

static const struct option options[] = {
        { "sysfs-root", required_argument, NULL, ARG_SYSFS_ROOT },
        { "device", required_argument, NULL, ARG_DEVICE },
        { "json", no_argument, NULL, ARG_JSON },
        {},
};

const Verb verb_probe = {
        .name = "probe",
        .synopsis = "[--sysfs-root DIR] [--device PATH] [--json]",
        .help = "Read-only: list the disks with their Azure role, identity, size and\n"
                "classification, and the target `boot` would format, with the reason.\n"
                "Exits 1 when there is no target that is safe to format.",
        .options = options,
        .needs = VERB_NEEDS_CONFIG,
        .parse_option = parse_option,
        .parse_args = parse_args,
        .config_failed = config_failed,
        .run = run,
};
