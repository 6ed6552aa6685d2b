/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The new root's /etc/fstab must agree with what ephroot did: "/" is the encrypted volume (copy) or
 * the overlay, and nothing mounts the resource disk a second time. */

#define FSTAB_SIZE_MAX (256U * 1024U)

/* Rewrites fstab text (no I/O): the "/" entry is commented out and replaced by root_entry (a full
 * fstab line without newline); entries for the resource disk (a source naming azure_resource, a
 * source that is target_node or one of its partitions, or cloud-init's "comment=cloudconfig" entry
 * on /mnt) are commented out. Other lines are kept byte for byte. *ret_changed counts the entries
 * changed. */
int fstab_rewrite(const char *text, const char *root_entry, const char *target_node, char **ret,
                  unsigned *ret_changed);

/* Applies fstab_rewrite() to <root>/etc/fstab in place (write to a temporary file, then rename).
 * A missing fstab is created holding root_entry alone. */
int fstab_rewrite_file(const char *root, const char *root_entry, const char *target_node);
