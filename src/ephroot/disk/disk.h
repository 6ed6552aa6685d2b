/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Disks as ephroot sees them: discovery over a sysfs root (disk-sysfs.c), classification of what a
 * disk holds (disk-classify.c, the only user of libblkid), and the choice of the target with its
 * safety checks (disk-select.c). See docs/disks.md for the rules. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* Bounds on what is read from sysfs, procfs and the disk. */
#define DISK_MAX 256U                  /* whole disks considered */
#define DISK_PARTITIONS_MAX 128U       /* partitions per disk; more are refused */
#define DISK_DEVSET_MAX 256U           /* devices of a disk or below a mount; more are refused */
#define DISK_SLAVES_DEPTH_MAX 8U       /* levels of dm/md stacking followed; deeper is refused */
#define DISK_SYSFS_ATTR_MAX 4096U      /* one sysfs attribute */
#define DISK_MOUNTINFO_MAX (4U << 20)  /* /proc/self/mountinfo */
#define DISK_WALK_DEPTH_MAX 16U        /* directory levels walked up to the VMBus device */
#define DISK_ZERO_CHECK_BYTES (1U << 20) /* "blank": the last MiB must be zero, and the disk at least this big */
#define DISK_ZERO_CHECK_HEAD_BYTES (8U << 20) /* "blank": and the first 8 MiB (a wiped table's partitions) */

/* The Azure chassis asset tag (DMI), the positive identity cloud-init and WALinuxAgent also use. */
#define AZURE_CHASSIS_ASSET_TAG "7783-7084-3265-9085-8269-3286-77"

#define AZURE_GEN2_OS_CONTROLLER "{f8b3781a-1e82-4818-a1c3-63d806ec15bb}"
#define AZURE_GEN1_OS_CONTROLLER_GLOB "?00000000-0000-*"
#define AZURE_GEN1_RESOURCE_CONTROLLER_GLOB "?00000000-0001-*"
#define AZURE_NVME_VENDOR "0x1414"
#define AZURE_NVME_LOCAL_MODEL "Microsoft NVMe Direct Disk"
#define AZURE_NVME_LOCAL_V2_MODEL "Microsoft NVMe Direct Disk v2"
#define AZURE_NVME_REMOTE_MODEL "MSFT NVMe Accelerator v1.0"

typedef enum DiskRole {
        DISK_ROLE_UNKNOWN,
        DISK_ROLE_OS,
        DISK_ROLE_RESOURCE,
        DISK_ROLE_DATA,
        DISK_ROLE_CDROM,
        DISK_ROLE_NVME_LOCAL,
        _DISK_ROLE_MAX,
} DiskRole;

typedef enum DiskBus {
        DISK_BUS_OTHER,
        DISK_BUS_VMBUS_SCSI,
        DISK_BUS_NVME,
} DiskBus;

typedef struct Disk {
        char *name;       /* kernel name: sda, nvme0n1 */
        char *node;       /* /dev/<name> */
        DiskRole role;
        DiskBus bus;
        int lun;          /* SCSI LUN, or for remote NVMe data namespaces nsid - 2; -1 if none */
        int index;        /* nvme-local: index from the v2 metadata; -1 if none */
        char *identity;   /* stable, host-assigned; NULL when the disk has none (see docs/disks.md) */
        char *model;      /* for display */
        char *controller; /* VMBus device_id, or NVMe controller serial */
        unsigned nsid;    /* NVMe namespace id, 0 otherwise */
        uint64_t size;    /* bytes */
        bool read_only;
        unsigned major, minor;
} Disk;

typedef struct DiskList {
        Disk *disks;
        size_t n;
        bool azure;       /* the DMI chassis asset tag is Azure's */
        bool gen1;        /* a Generation 1 IDE controller was seen */
} DiskList;

/* Reads the vendor-specific metadata of an NVMe namespace (v2 local disks). Returns -errno, or 0 and
 * a NUL-terminated string. The live implementation is disk_nvme_read_vs(); tests pass their own. */
typedef int (*DiskNvmeMetadataReader)(const char *name, unsigned nsid, void *userdata, char **ret);

void disk_list_done(DiskList *l);
/* "<root>/<rel>" without a doubled slash; NULL on OOM. */
char *disk_root_path(const char *root, const char *rel);
const char *disk_role_to_string(DiskRole r);

/* Enumerates the whole disks under <root>/sys/class/block (root "/" on a live system; tests point it
 * at a fake tree) and gives each its Azure role and identity. reader may be NULL. */
int disk_enumerate(const char *root, DiskNvmeMetadataReader reader, void *userdata, DiskList *ret);

/* The loop device whose backing file is path (an image attached to a loop device is in use, as a
 * mounted disk would be), from <root>/sys/block/loopN/loop/backing_file. Returns 1 and "/dev/loopN" in
 * *ret_loop, 0 when there is none. */
int disk_find_loop_backing(const char *root, const char *path, char **ret_loop);

/* Parses "type=local,index=1,name=nvme-440G-1" (NUL padded). No I/O. *ret_local is false only when a
 * type= says something other than "local" (also with -ENODATA, unless the text is empty). Returns
 * -ENODATA if there is no index, -EBADMSG if the text is malformed. */
int disk_nvme_parse_metadata(const char *text, size_t size, bool *ret_local, int *ret_index);

/* disk-nvme.c: Identify Namespace through NVME_IOCTL_ADMIN_CMD, vendor area at byte 384. */
int disk_nvme_read_vs(const char *name, unsigned nsid, void *userdata, char **ret);

/* disk-classify.c */
typedef enum DiskClass {
        DISK_CLASS_FRESH_AZURE_RESOURCE,
        DISK_CLASS_BLANK,
        DISK_CLASS_EPHROOT,
        DISK_CLASS_FOREIGN,
        _DISK_CLASS_MAX,
} DiskClass;

#define EPHROOT_LUKS_LABEL "ephroot"
#define EPHROOT_LUKS_SUBSYSTEM "ephroot"
#define AZURE_RESOURCE_NTFS_LABEL "Temporary Storage"

const char *disk_class_to_string(DiskClass c);

/* Classifies a block device or image file, read-only. On success *ret_reason says why, in words
 * that fit after "<node>: ", and *ret_rdev (if not NULL) is the device number of the block device
 * that was read (0 for a file). Errors opening or reading are returned (-errno), not classified. */
int disk_classify(const char *path, DiskClass *ret_class, char **ret_reason, uint64_t *ret_size, dev_t *ret_rdev);

/* disk-select.c */
typedef struct DiskUse {
        bool is_root;     /* holds "/" or the rootmnt (or what they sit on) */
        bool mounted;     /* it or a partition is mounted */
        bool held;        /* it or a partition has holders (dm, md, ...) */
        bool swap;        /* it or a partition (or what sits on them) is an active swap area */
        bool read_only;
} DiskUse;

/* The auto rule (pure): the SCSI resource disk, else the nvme-local disk with the lowest index (then
 * name). Returns the index into l->disks, or -ENODEV with *ret_reason saying why nothing fits. */
int disk_select_auto(const DiskList *l, size_t *ret_index, const char **ret_reason);

/* Resolves an explicit device= path (also /dev/disk/by-... links) to an enumerated disk. A path
 * inside root is resolved relative to root. -ENOENT: does not exist; -ENOTBLK: not a whole disk
 * that was enumerated. */
int disk_resolve_path(const char *root, const DiskList *l, const char *path, size_t *ret_index);

/* Calls visit for each line of /proc/self/mountinfo text (device number, mount point, and the mount
 * source after " - <fstype> ", "" when a cut line lost it). No I/O. */
typedef int (*DiskMountVisitor)(dev_t dev, const char *mountpoint, const char *source, void *userdata);
int disk_mountinfo_parse(const char *text, DiskMountVisitor visit, void *userdata);

/* Calls visit for each swap area in /proc/swaps text (name, whether it is a partition rather than a
 * file). No I/O. */
typedef int (*DiskSwapVisitor)(const char *name, bool partition, void *userdata);
int disk_swaps_parse(const char *text, DiskSwapVisitor visit, void *userdata);

/* Collects how a disk is in use, from <root>/proc/self/mountinfo, <root>/proc/swaps and
 * <root>/sys/class/block. rootmnt, if not NULL, is where boot has the OS root mounted: treated like
 * "/". -E2BIG/-ELOOP when there are more partitions or stacked devices than the bounds: never
 * decided on a part of them. */
int disk_get_use(const char *root, const Disk *d, const char *rootmnt, DiskUse *ret);

/* Returns 0, or -EPERM/-EBUSY/-EROFS with *ret_reason (static text) saying why d must not be formatted.
 * Does not log: the caller names the disk once, "Refusing to format '<node>': <reason>." */
int disk_check_use(const Disk *d, const DiskUse *u, const char **ret_reason);

/* Decides whether a classified disk may be destroyed: fresh-azure-resource, blank and ephroot may;
 * foreign only when force_format equals the disk's identity (then *ret_forced). Returns 0 or -EPERM,
 * with *ret_reason (allocated) either way. Does not log. */
int disk_check_destroyable(const char *identity, DiskClass c, const char *class_reason, const char *force_format,
                           bool *ret_forced, char **ret_reason);

/* disk-target.c: the whole decision, shared by `probe` and boot. */
typedef struct DiskClassResult {
        DiskClass class;
        char *reason;     /* the classification's reason, or why the disk could not be classified */
        bool classified;
        dev_t rdev;       /* the block device that was read; 0 for an image file */
} DiskClassResult;

void disk_class_result_done(DiskClassResult *c);

/* Classifies <root>/<path> (path as is on a live root). Failing to open or read it is not an error
 * here: classified stays false and reason says why. Returns -ENOMEM only. */
int disk_classify_node(const char *root, const char *path, DiskClassResult *ret);

typedef struct DiskTargetRequest {
        const char *root;          /* "/" on a live system */
        const char *device;        /* "auto" or a path */
        const char *force_format;  /* an identity, or NULL */
        const char *rootmnt;       /* boot --rootmnt: the OS root, treated like "/"; NULL if none */
        bool inspect;              /* probe --device: also classify image files and non-disk block devices */
} DiskTargetRequest;

typedef struct DiskTarget {
        const Disk *disk;          /* into the DiskList; NULL for an image or when there is none */
        char *node;                /* the disk's node, or the path that was refused; NULL if none */
        const char *identity;      /* the disk's, or NULL */
        DiskClass class;
        bool classified;
        bool forced;               /* foreign, but force-format= names it: log and measure that */
        bool ok;                   /* may be formatted */
        dev_t rdev;                /* the block device classified; 0 for an image file. Formatting checks
                                    * the node still is this device (LuksParams.device_rdev). */
        char *reason;              /* why it was picked and may be destroyed, or the refusal */
} DiskTarget;

void disk_target_done(DiskTarget *t);

/* Resolves the target (auto rule or explicit path), checks it is not the OS/root disk, mounted,
 * held or read-only, classifies it and applies force-format. A refusal is not logged: it leaves ok
 * false and the sentence in reason ("Refusing to format '<node>': <why>"), for the caller to report
 * once; node names the disk (or the path) that was refused, and is NULL when no disk was chosen at
 * all (device=auto found none). Returns -errno only for failures of ephroot itself (out
 * of memory). */
int disk_pick_target(const DiskTargetRequest *req, const DiskList *l, DiskTarget *ret);
