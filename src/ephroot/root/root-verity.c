/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The OS root through dm-verity: where its hash tree is, opening the mapping (verity.c), in a child
 * process while the boot goes on, and saying, once, why it failed. */

#define _GNU_SOURCE
#include <assert.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "exec-util.h"
#include "ext4-used.h"
#include "log.h"
#include "root-verity.h"
#include "root.h"
#include "util.h"
#include "verity.h"

static int read_cb(uint64_t offset, void *buf, size_t n, void *userdata) {
        return pread_full(*(int *) userdata, buf, n, offset);
}

int root_verity_hash_offset(const Config *c, int source_fd, uint64_t source_size, uint64_t *ret) {
        _cleanup_(ext4_used_map_done) Ext4UsedMap m = {};
        int r;

        if (c->verity_hash_offset != CONFIG_VERITY_HASH_OFFSET_AUTO) {
                *ret = c->verity_hash_offset;
                return 0;
        }
        if (c->verity_hash_device) {
                *ret = 0;
                return 0;
        }
        r = ext4_used_map(read_cb, &source_fd, source_size, &m);
        if (r < 0)
                return log_error_errno(r, "Failed to find the OS root's dm-verity hash tree: its filesystem size is unknown "
                                       "(%m); set verity-hash-offset= or verity-hash-device=.");
        *ret = (m.blocks * m.block_size + VERITY_BLOCK_SIZE - 1) / VERITY_BLOCK_SIZE * VERITY_BLOCK_SIZE;
        return 0;
}

int root_verity_open(const Config *c, const char *source_node, char **ret_node) {
        _cleanup_close_ int fd = -EBADF;
        const char *hash_device = c->verity_hash_device ?: source_node;
        uint64_t size, offset;
        int r;

        assert(c->verity_root_hash.set);

        fd = open(source_node, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open the OS root '%s': %m", source_node);
        r = fd_get_size(fd, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to get the size of the OS root '%s': %m", source_node);
        r = root_verity_hash_offset(c, fd, size, &offset);
        if (r < 0)
                return r;
        fd = safe_close(fd);

        r = verity_activate(source_node, hash_device, offset, c->verity_root_hash.bytes,
                            c->verity_error == VERITY_ERROR_PANIC, ROOT_VERITY_DM_NAME, ret_node);
        if (r == -EIO || r == -EPERM)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                       "Failed to open the OS root '%s' through dm-verity: its hash tree does not match verity-root-hash=.",
                                       source_node);
        if (r == -EINVAL || r == -ENOENT || r == -ENXIO)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT),
                                       "Failed to open the OS root '%s' through dm-verity: no hash tree at offset %" PRIu64 " of '%s'.",
                                       source_node, offset, hash_device);
        if (r < 0)
                return log_error_errno(r, "Failed to open the OS root '%s' through dm-verity (hash tree at offset %" PRIu64 " of '%s'): %m",
                                       source_node, offset, hash_device);
        log_info("The OS root '%s' is read through dm-verity as '%s'.", source_node, *ret_node);
        return 0;
}

void root_verity_close(void) {
        if (verity_deactivate(ROOT_VERITY_DM_NAME) < 0)
                log_notice("Failed to remove the dm-verity mapping '%s' after the copy, ignoring.", ROOT_VERITY_DM_NAME);
}

typedef struct VerityChildArgs {
        const Config *config;
        const char *source_node;
        const char *fstype;
        bool mount_lower;
} VerityChildArgs;

static int verity_child(void *userdata) {
        const VerityChildArgs *a = userdata;
        char *node = NULL; /* the child exits: not freed */
        int r;

        r = root_verity_open(a->config, a->source_node, &node);
        if (r < 0 || !a->mount_lower)
                return r;
        /* The child shares the parent's mount namespace: this mount is the parent's too. */
        r = root_overlay_dirs();
        if (r < 0)
                return r;
        if (mount(node, ROOT_OVERLAY_LOWER, a->fstype, MS_RDONLY | MS_NOATIME, streq(a->fstype, "ext4") ? "noload" : NULL) < 0)
                return log_error_errno(errno, "Failed to mount the OS root through dm-verity ('%s') at '%s': %m", node,
                                       ROOT_OVERLAY_LOWER);
        return 0;
}

int root_verity_start(const Config *c, const char *rootmnt, bool mount_lower, RootVerityJob *ret) {
        _cleanup_free_ char *node = NULL, *fstype = NULL;
        ForkJob job;
        int r;

        assert(c && c->verity_root_hash.set && rootmnt && ret);

        r = root_find_source(rootmnt, &node, &fstype);
        if (r < 0)
                return r;
        /* dm-verity claims the device exclusively: the host-visible mount goes first. */
        if (umount2(rootmnt, 0) < 0)
                return log_error_errno(errno, "Failed to unmount the OS root from '%s': %m", rootmnt);

        /* Device-mapper ready before the child and the LUKS2 setup use it at the same time. */
        r = verity_dm_ready(ROOT_VERITY_DM_NAME);
        if (r < 0)
                return log_error_errno(r, "Failed to open the OS root '%s' through dm-verity: the kernel's device-mapper does not answer.",
                                       node);
        /* The child's copy of c and node is taken at fork(). */
        r = fork_job_start(verity_child, &(VerityChildArgs) { c, node, fstype, mount_lower }, ROOT_VERITY_TIMEOUT_USEC,
                           &job);
        if (r < 0)
                return log_error_errno(r, "Failed to start opening the OS root '%s' through dm-verity: %m", node);

        *ret = (RootVerityJob) {
                .job = job,
                .source_node = TAKE_PTR(node),
                .fstype = TAKE_PTR(fstype),
        };
        return 0;
}

int root_verity_finish(RootVerityJob *j, char **ret_node, uint64_t *ret_usec) {
        char message[FORK_JOB_MESSAGE_MAX];
        char *node;
        int r;

        assert(j && ret_node);

        r = fork_job_finish(&j->job, message, ret_usec);
        if (r == -ETIMEDOUT)
                return log_error_errno(r, "Failed to open the OS root '%s' through dm-verity: no result within %llu s.",
                                       j->source_node, ROOT_VERITY_TIMEOUT_USEC / 1000000ULL);
        if (r == -EPROTO)
                return log_error_errno(r, "Failed to open the OS root '%s' through dm-verity: its child process ended without a result.",
                                       j->source_node);
        if (r < 0 && message[0])
                return log_error_errno(r, "%s", message); /* the child's one sentence */
        if (r < 0)
                return log_error_errno(r, "Failed to open the OS root '%s' through dm-verity: %m", j->source_node);

        node = strdup("/dev/mapper/" ROOT_VERITY_DM_NAME);
        if (!node)
                return log_oom();
        *ret_node = node;
        return 0;
}

void root_verity_job_done(RootVerityJob *j) {
        if (!j)
                return;
        fork_job_done(&j->job);
        j->source_node = mfree(j->source_node);
        j->fstype = mfree(j->fstype);
}
