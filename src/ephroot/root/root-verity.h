/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "exec-util.h"

/* The OS root through dm-verity (docs/verity.md): with verity-root-hash= set, both root modes read the
 * OS root only through this read-only mapping. */

#define ROOT_VERITY_DM_NAME "ephroot-os"
#define ROOT_VERITY_TIMEOUT_USEC (60ULL * 1000000ULL)

/* The verity superblock's place on its device, from the configuration: verity-hash-offset= when set;
 * else 0 on a verity-hash-device= of its own, or the ext2/3/4 filesystem size on source_fd rounded up
 * to 4096 (as `ephroot verity-format` puts it). Logs failures. */
int root_verity_hash_offset(const Config *c, int source_fd, uint64_t source_size, uint64_t *ret);

/* Opens source_node through dm-verity as /dev/mapper/ephroot-os with c->verity_root_hash; fails closed,
 * with one sentence naming verity, when no hash tree is found or it does not match. */
int root_verity_open(const Config *c, const char *source_node, char **ret_node);
void root_verity_close(void);

/* Opening the mapping while the boot does something else (boot.c starts it before the volume is
 * formatted, so that the dm-verity activation and its udev round trip overlap the LUKS2 setup). The
 * OS root at rootmnt is unmounted first (dm-verity claims the device exclusively), then a child
 * process (fork_job_start(), exec-util.h: libdevmapper is not thread-safe) runs root_verity_open() and
 * reports its result, or the one sentence it failed with, through a pipe. */
typedef struct RootVerityJob {
        ForkJob job;
        char *source_node; /* the OS root's block device, found before the unmount */
        char *fstype;
} RootVerityJob;

#define ROOT_VERITY_JOB_NULL ((RootVerityJob) { .job = FORK_JOB_NULL })

/* Finds the OS root's device and filesystem type, unmounts rootmnt and starts the child. With
 * mount_lower (overlay mode) the child also mounts the mapping read-only (ext4: noload) at
 * ROOT_OVERLAY_LOWER, in the mount namespace it shares with the boot. Logs failures. */
int root_verity_start(const Config *c, const char *rootmnt, bool mount_lower, RootVerityJob *ret);
/* Waits for the child until the job's deadline (then kills it). 0 and /dev/mapper/ephroot-os in
 * ret_node, with the child's run time in ret_usec; or the child's failure logged again, in the
 * parent, with its sentence and error. */
int root_verity_finish(RootVerityJob *j, char **ret_node, uint64_t *ret_usec);
/* Kills and reaps a child still running, closes the pipe, frees the names. Safe on a done job. */
void root_verity_job_done(RootVerityJob *j);
