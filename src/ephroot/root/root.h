/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "root-copy.h"
#include "root-verity.h"

/* Laying the OS root on the encrypted volume, in the initramfs, after initramfs-tools has mounted
 * the OS root read-only at rootmnt. See docs/boot.md. */

#define ROOT_STATE_DIR "/run/ephroot"
#define ROOT_OVERLAY_LOWER ROOT_STATE_DIR "/lower"   /* the OS root, read-only */
#define ROOT_OVERLAY_UPPER ROOT_STATE_DIR "/upper"   /* the volume's ext4: upper/ and work/ */
#define ROOT_MKFS_TIMEOUT_USEC (120ULL * 1000000ULL)

typedef struct RootLayout {
        RootMode mode;
        char *source_node;      /* the OS root's block device */
        char *fstype;           /* the OS root's filesystem type */
        char *verity_node;      /* verity-root-hash= set: the dm-verity mapping both modes read through */
        uint64_t verity_usec;   /* its activation, in the child (root_verity_start()) */
        RootCopyResult copy;    /* copy mode */
        uint64_t grown_to;      /* copy mode, ext4: bytes of the filesystem after growing */
} RootLayout;

void root_layout_done(RootLayout *l);

/* Makes ROOT_STATE_DIR and the overlay's lower and upper mount points. Logs failures. */
int root_overlay_dirs(void);

/* The block device and filesystem type mounted at path (which must be a mount point). */
int root_find_source(const char *path, char **ret_node, char **ret_fstype);

/* The largest encryption sector size (512 or 4096) that a copy of a filesystem of type fstype can be
 * mounted on: a filesystem cannot be mounted on a device whose logical block size exceeds its own
 * block size (ext4, btrfs) or sector size (xfs: bounded by the source device's logical block size,
 * which its mkfs used). fs_block_size is statfs()'s f_bsize. Pure. -EINVAL for sizes that are not
 * powers of two in 512..65536, -EOPNOTSUPP for another fstype. */
int root_copy_sector_limit(const char *fstype, uint64_t fs_block_size, unsigned source_logical_block_size,
                           unsigned *ret);

/* root_copy_sector_limit() for the OS root mounted at rootmnt. Logs failures. */
int root_copy_sector_size(const char *rootmnt, unsigned *ret);

/* copy: copies the OS root into volume_node (checking root-hash= when set), unmounts the OS root,
 * mounts the copy at rootmnt and grows it to the volume. overlay: makes an ext4 on volume_node, moves
 * the OS root to ROOT_OVERLAY_LOWER read-only and mounts an overlay at rootmnt. Either way the new
 * root's /etc/fstab is rewritten (root-fstab.h) from fstab, the text the boot read and checked before
 * (NULL: read now), with host disk lines commented out under host-mounts=comment and refused
 * otherwise. With verity-root-hash= set, the OS root is read only through dm-verity
 * (root-verity.h): overlay mode mounts the mapping read-only as the lower layer, copy mode copies from it
 * (a corrupted block fails the copy before the switch) and removes it after; the new root's fstab is
 * then read through the mapping, not from the host-visible device. verity is the job the caller
 * started earlier with root_verity_start() (rootmnt is then already unmounted) when verity-root-hash=
 * is set, and NULL otherwise. Logs failures. */
int root_lay(const Config *c, const char *rootmnt, const char *volume_node, uint64_t volume_size,
             const char *target_node, const char *fstab, RootVerityJob *verity, RootLayout *ret);
