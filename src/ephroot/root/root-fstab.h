/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The new root's /etc/fstab must agree with what ephroot did: "/" is the encrypted volume (copy) or
 * the overlay, nothing mounts the resource disk a second time, and nothing the new root writes at
 * boot (a separate /var, /home, /tmp, swap) lands on a disk the host reads (docs/boot.md). */

#define FSTAB_SIZE_MAX (256U * 1024U)
#define FSTAB_LINES_MAX 4096U

/* What one fstab line is, for ephroot. */
typedef enum FstabKind {
        FSTAB_KEEP,     /* a comment, a blank, /boot, /boot/efi, /efi, tmpfs, proc, a bind, a network mount... */
        FSTAB_ROOT,     /* the "/" entry */
        FSTAB_RESOURCE, /* the resource disk (azure_resource, the target disk or its partitions, cloud-init's /mnt) */
        FSTAB_HOST,     /* a mount or swap of a host disk (UUID=, LABEL=, PARTUUID=, PARTLABEL=, ID=, /dev/...)
                         * or a host share (9p, virtiofs) */
} FstabKind;

/* Classifies one line (without its newline). target_node: the disk ephroot formats, or NULL. Pure. */
FstabKind fstab_classify_line(const char *line, const char *target_node);

/* The lines of text that are FSTAB_HOST, in order: lines[i] is 1-based, texts[i] the line as written. */
typedef struct FstabHostMounts {
        size_t n;
        unsigned *lines;
        char **texts;
} FstabHostMounts;

void fstab_host_mounts_done(FstabHostMounts *m);
/* -EFBIG: text larger than FSTAB_SIZE_MAX or more than FSTAB_LINES_MAX lines. Pure. */
int fstab_host_mounts(const char *text, const char *target_node, FstabHostMounts *ret);

/* Rewrites fstab text (no I/O): the "/" entry is commented out and replaced by root_entry (a full
 * fstab line without newline); resource disk entries are commented out; host disk entries are
 * commented out when comment_host is true, and refused (-EPERM) otherwise. Other lines are kept byte
 * for byte. *ret_changed counts the entries changed. */
int fstab_rewrite(const char *text, const char *root_entry, const char *target_node, bool comment_host, char **ret,
                  unsigned *ret_changed);

/* <root>/etc/fstab, resolved inside root, a regular file, at most FSTAB_SIZE_MAX bytes, no NUL; a
 * missing fstab is "". Read once: the text checked is the text written back. Logs failures. */
int fstab_read(const char *root, char **ret);

/* Writes fstab_rewrite(text, ...) to <root>/etc/fstab (a temporary file, then rename). text NULL: the
 * fstab is read from root first (fstab_read()). */
int fstab_rewrite_file(const char *root, const char *text, const char *root_entry, const char *target_node,
                       bool comment_host);
