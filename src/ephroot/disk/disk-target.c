/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The whole decision "which disk, and may it be destroyed?", shared by `probe` (which reports it) and
 * boot (which acts on it): resolve device= (auto or a path), check the disk is not in use, classify
 * it, and apply force-format=. A refusal is a sentence naming the device and the reason, which the
 * caller reports (boot's failure line, probe's report, volume's error). */

#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "config.h"
#include "disk.h"
#include "log.h"

static bool root_is_live(const char *root) {
        return isempty(root) || streq(root, "/");
}

void disk_target_done(DiskTarget *t) {
        if (!t)
                return;
        t->node = mfree(t->node);
        t->reason = mfree(t->reason);
}

void disk_class_result_done(DiskClassResult *c) {
        if (c)
                c->reason = mfree(c->reason);
}

int disk_classify_node(const char *root, const char *path, DiskClassResult *ret) {
        _cleanup_free_ char *inroot = root_is_live(root) ? strdup(path) : disk_root_path(root, path);
        int r;

        assert_return(path, -EINVAL);
        assert_return(ret, -EINVAL);

        if (!inroot)
                return -ENOMEM;
        *ret = (DiskClassResult) {};
        r = disk_classify(inroot, &ret->class, &ret->reason, /* ret_size= */ NULL, &ret->rdev);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return asprintf(&ret->reason, "cannot be classified: %s", strerror(-r)) < 0 ? -ENOMEM : 0;
        ret->classified = true;
        return 0;
}

/* Keeps the refusal, naming the device, for the caller to report. */
_printf_(2, 3) static int refuse(DiskTarget *t, const char *format, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&msg, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        t->ok = false;
        free(t->reason);
        t->reason = TAKE_PTR(msg);
        return 0;
}

/* The last step for every target: may its contents be destroyed? */
static int decide(DiskTarget *t, const char *root, const char *why, const char *force_format) {
        _cleanup_(disk_class_result_done) DiskClassResult c = {};
        _cleanup_free_ char *reason = NULL;
        int r;

        r = disk_classify_node(root, t->node, &c);
        if (r < 0)
                return r;
        t->classified = c.classified;
        t->class = c.class;
        t->rdev = c.rdev;
        if (!c.classified)
                return refuse(t, "Refusing to format '%s': it %s", t->node, c.reason);

        r = disk_check_destroyable(t->identity, c.class, c.reason, force_format, &t->forced, &reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return refuse(t, "Refusing to format '%s': %s", t->node, reason);
        if (t->forced)
                log_warning("FORCED: '%s' holds foreign data and boot would DESTROY it: %s.", t->node, reason);
        t->ok = true;
        return asprintf(&t->reason, "%s; %s", why, reason) < 0 ? -ENOMEM : 0;
}

/* A path that is not an enumerated whole disk, named for inspection (probe --device): a regular file
 * is classified as an image (it has no identity, so it can never be forced); a partition, loop or
 * dm device is classified but refused, as boot would refuse it. */
static int decide_other(DiskTarget *t, const char *path, bool is_file, const char *force_format) {
        _cleanup_(disk_class_result_done) DiskClassResult c = {};
        int r;

        t->node = strdup(path);
        if (!t->node)
                return -ENOMEM;
        if (is_file)
                return decide(t, /* root= */ NULL, "image file named with --device (classification only)",
                              force_format);

        r = disk_classify_node(/* root= */ NULL, path, &c);
        if (r < 0)
                return r;
        t->classified = c.classified;
        t->class = c.class;
        return refuse(t, "Refusing to format '%s': it is not a whole disk that ephroot enumerates (%s%s%s)", path,
                      c.classified ? disk_class_to_string(c.class) : "", c.classified ? ": " : "", c.reason);
}

int disk_pick_target(const DiskTargetRequest *req, const DiskList *l, DiskTarget *ret) {
        const char *why = NULL, *use_reason = NULL;
        DiskTarget *t = ret;
        struct stat st;
        size_t idx = 0;
        DiskUse u;
        int r;

        assert_return(req, -EINVAL);
        assert_return(req->device, -EINVAL);
        assert_return(l, -EINVAL);
        assert_return(ret, -EINVAL);

        *t = (DiskTarget) {};

        if (streq(req->device, CONFIG_DEVICE_AUTO)) {
                r = disk_select_auto(l, &idx, &why);
                if (r < 0) {
                        log_notice("No target disk: %s.", why);
                        return asprintf(&t->reason, "%s", why) < 0 ? -ENOMEM : 0;
                }
        } else {
                bool exists = req->inspect && stat(req->device, &st) >= 0;

                if (exists && S_ISREG(st.st_mode))
                        return decide_other(t, req->device, /* is_file= */ true, req->force_format);

                r = disk_resolve_path(req->root, l, req->device, &idx);
                if (r == -ENOMEM)
                        return r;
                if (r == -ENOTBLK && exists && S_ISBLK(st.st_mode))
                        return decide_other(t, req->device, /* is_file= */ false, req->force_format);
                if (r < 0) {
                        /* The named path is the target, refused: node says which. */
                        t->node = strdup(req->device);
                        if (!t->node)
                                return -ENOMEM;
                        return refuse(t, "Refusing to format '%s': %s", req->device,
                                      r == -ENOENT  ? "it does not exist" :
                                      r == -ENOTBLK ? "it is not a whole disk that ephroot enumerates" :
                                                      strerror(-r));
                }
                why = "named by device=";
        }

        t->disk = l->disks + idx;
        t->identity = t->disk->identity;
        t->node = strdup(t->disk->node);
        if (!t->node)
                return -ENOMEM;

        r = disk_get_use(req->root, t->disk, req->rootmnt, &u);
        if (r == -ENOMEM)
                return r;
        if (r == -E2BIG || r == -ELOOP)
                return refuse(t, "Refusing to format '%s': it has more partitions or stacked devices than ephroot "
                              "checks (%u partitions, %u devices, %u levels)", t->node, DISK_PARTITIONS_MAX,
                              DISK_DEVSET_MAX, DISK_SLAVES_DEPTH_MAX);
        if (r < 0)
                return refuse(t, "Refusing to format '%s': cannot check whether it is in use (%s)", t->node,
                              strerror(-r));
        r = disk_check_use(t->disk, &u, &use_reason);
        if (r < 0)
                return refuse(t, "Refusing to format '%s': %s", t->node, use_reason);

        return decide(t, req->root, why, req->force_format);
}
