/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Discovery: which whole disks exist and what Azure role each one has, read from a sysfs tree under a
 * root directory ("/" on a live system, a fake tree in tests). Reads sysfs directly rather than
 * through sd-device so that the root can be replaced (see docs/disks.md). Every read is bounded. */

#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>

#include "disk.h"
#include "log.h"
#include "util.h"

static const char *const disk_role_table[_DISK_ROLE_MAX] = {
        [DISK_ROLE_UNKNOWN] = "unknown",
        [DISK_ROLE_OS] = "os",
        [DISK_ROLE_RESOURCE] = "resource",
        [DISK_ROLE_DATA] = "data",
        [DISK_ROLE_CDROM] = "cdrom",
        [DISK_ROLE_NVME_LOCAL] = "nvme-local",
};

const char *disk_role_to_string(DiskRole r) {
        return r >= 0 && r < _DISK_ROLE_MAX ? disk_role_table[r] : NULL;
}

char *disk_root_path(const char *root, const char *rel) {
        char *p;
        size_t l;

        if (isempty(root))
                root = "/";
        l = strlen(root);
        while (l > 0 && root[l - 1] == '/')
                l--;
        while (*rel == '/')
                rel++;
        if (asprintf(&p, "%.*s/%s", (int) l, root, rel) < 0)
                return NULL;
        return p;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

static void disk_done(Disk *d) {
        d->name = mfree(d->name);
        d->node = mfree(d->node);
        d->identity = mfree(d->identity);
        d->model = mfree(d->model);
        d->controller = mfree(d->controller);
}

void disk_list_done(DiskList *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                disk_done(l->disks + i);
        l->disks = mfree(l->disks);
        l->n = 0;
}

/* Reads one attribute, trimmed of trailing whitespace (SCSI vendor/model are space padded). */
static int read_attr(const char *dir, const char *attr, char **ret) {
        _cleanup_free_ char *p = NULL, *v = NULL;
        size_t l;
        int r;

        if (asprintf(&p, "%s/%s", dir, attr) < 0)
                return -ENOMEM;
        r = read_one_line_file(p, DISK_SYSFS_ATTR_MAX, &v);
        if (r < 0)
                return r;
        l = strlen(v);
        while (l > 0 && (v[l - 1] == ' ' || v[l - 1] == '\t' || v[l - 1] == '\n'))
                v[--l] = '\0';
        *ret = TAKE_PTR(v);
        return 0;
}

static int read_attr_u64(const char *dir, const char *attr, uint64_t *ret) {
        _cleanup_free_ char *v = NULL;
        unsigned long long u;
        char *end;
        int r;

        r = read_attr(dir, attr, &v);
        if (r < 0)
                return r;
        if (isempty(v) || v[0] == '-')
                return -EINVAL;
        errno = 0;
        u = strtoull(v, &end, 10);
        if (errno > 0 || *end != '\0')
                return -EINVAL;
        *ret = u;
        return 0;
}

static bool attr_exists(const char *dir, const char *attr) {
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s/%s", dir, attr) < 0)
                return false;
        return access(p, F_OK) >= 0;
}

int disk_nvme_parse_metadata(const char *text, size_t size, bool *ret_local, int *ret_index) {
        _cleanup_free_ char *copy = NULL;
        bool local = true, have_index = false;
        unsigned index = 0;
        char *p, *w;

        assert_return(text, -EINVAL);

        copy = strndup(text, size); /* stops at the first NUL: the area is NUL padded */
        if (!copy)
                return -ENOMEM;
        strip_trailing_newlines(copy);
        if (isempty(copy))
                return -ENODATA;

        for (p = copy; (w = strsep(&p, ","));) {
                char *eq = strchr(w, '=');

                if (!eq)
                        return -EBADMSG;
                *eq = '\0';
                for (const char *c = eq + 1; *c; c++)
                        if (*c < 0x20 || *c > 0x7e)
                                return -EBADMSG;
                if (streq(w, "type"))
                        local = streq(eq + 1, "local");
                else if (streq(w, "index")) {
                        if (safe_atou(eq + 1, &index) < 0 || index > 1023)
                                return -EBADMSG;
                        have_index = true;
                }
        }

        *ret_local = local;
        if (!have_index)
                return -ENODATA;
        *ret_index = (int) index;
        return 0;
}

/* Walks up from a SCSI device directory to the VMBus device (the first ancestor with device_id),
 * never leaving <root>/sys. */
static int find_vmbus_device_id(const char *sysdir, const char *scsidev, char **ret) {
        _cleanup_free_ char *dir = strdup(scsidev);
        size_t sl = strlen(sysdir);

        if (!dir)
                return -ENOMEM;
        for (unsigned i = 0; i < DISK_WALK_DEPTH_MAX; i++) {
                char *slash;

                if (attr_exists(dir, "device_id"))
                        return read_attr(dir, "device_id", ret);
                slash = strrchr(dir, '/');
                if (!slash || (size_t) (slash - dir) <= sl)
                        break;
                *slash = '\0';
        }
        return -ENODEV;
}

static int parse_lun(const char *scsidev, int *ret) {
        const char *b = strrchr(scsidev, '/');
        unsigned h, c, t, l;
        char extra;

        b = b ? b + 1 : scsidev;
        if (sscanf(b, "%u:%u:%u:%u%c", &h, &c, &t, &l, &extra) != 4 || l > INT_MAX)
                return -EINVAL;
        *ret = (int) l;
        return 0;
}

static int probe_scsi(const char *sysdir, const char *blk, Disk *d) {
        _cleanup_free_ char *devlink = NULL, *scsidev = NULL, *vendor = NULL, *type = NULL;
        int r;

        if (asprintf(&devlink, "%s/device", blk) < 0)
                return -ENOMEM;
        scsidev = realpath(devlink, NULL);
        if (!scsidev)
                return 0; /* no device link: a virtual or unusual disk, role stays unknown */

        if (parse_lun(scsidev, &d->lun) < 0)
                return 0;
        (void) read_attr(scsidev, "vendor", &vendor);
        (void) read_attr(scsidev, "model", &d->model);
        if (read_attr(scsidev, "type", &type) >= 0 && streq(type, "5"))
                d->role = DISK_ROLE_CDROM; /* provisional; confirmed against Azure identity later */

        r = find_vmbus_device_id(sysdir, scsidev, &d->controller);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        d->bus = DISK_BUS_VMBUS_SCSI;

        /* Only Hyper-V's own virtual disks get an Azure identity. */
        if (d->role != DISK_ROLE_CDROM &&
            !(vendor && streq(vendor, "Msft") && d->model && streq(d->model, "Virtual Disk")))
                return 0;

        {
                _cleanup_free_ char *id = strdup(d->controller);
                char *s;

                if (!id)
                        return -ENOMEM;
                s = id;
                if (*s == '{')
                        s++;
                s[strcspn(s, "}")] = '\0';
                for (char *c = s; *c; c++)
                        *c = (char) tolower((unsigned char) *c);
                if (asprintf(&d->identity, "vmbus:%s:lun%d:size=%" PRIu64, s, d->lun, d->size) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* The PCI vendor of a multipath subsystem: all its controllers (nvme<N> links) must agree. */
static int subsystem_vendor(const char *subsys, char **ret) {
        _cleanup_(closedirp) DIR *dir = opendir(subsys);
        _cleanup_free_ char *vendor = NULL;
        struct dirent *de;
        unsigned count = 0;

        if (!dir)
                return -errno;
        while ((de = readdir(dir)) && count < DISK_MAX) {
                _cleanup_free_ char *pci = NULL, *v = NULL;
                unsigned u;

                if (!startswith(de->d_name, "nvme") || safe_atou(de->d_name + 4, &u) < 0)
                        continue;
                count++;
                if (asprintf(&pci, "%s/%s/device", subsys, de->d_name) < 0)
                        return -ENOMEM;
                if (read_attr(pci, "vendor", &v) < 0)
                        return -ENODEV;
                if (vendor && !streq(vendor, v))
                        return -ENOTUNIQ;
                if (!vendor)
                        vendor = TAKE_PTR(v);
        }
        if (!vendor)
                return -ENODEV;
        *ret = TAKE_PTR(vendor);
        return 0;
}

static int probe_nvme(const char *blk, DiskNvmeMetadataReader reader, void *userdata, Disk *d) {
        _cleanup_free_ char *devlink = NULL, *ctrl = NULL, *vendor = NULL, *serial = NULL, *pcidev = NULL;
        uint64_t nsid = 0;
        int r;

        d->bus = DISK_BUS_NVME;
        if (read_attr_u64(blk, "nsid", &nsid) < 0 || nsid == 0 || nsid > UINT32_MAX) {
                const char *n = strrchr(d->name, 'n');
                unsigned u;

                if (!n || safe_atou(n + 1, &u) < 0 || u == 0)
                        return 0;
                nsid = u;
        }
        d->nsid = (unsigned) nsid;

        if (asprintf(&devlink, "%s/device", blk) < 0)
                return -ENOMEM;
        ctrl = realpath(devlink, NULL);
        if (!ctrl)
                return 0;
        (void) read_attr(ctrl, "model", &d->model);
        if (read_attr(ctrl, "serial", &serial) >= 0 && !isempty(serial)) {
                d->controller = strdup(serial);
                if (!d->controller)
                        return -ENOMEM;
                if (asprintf(&d->identity, "nvme:%s:ns%u:size=%" PRIu64, serial, d->nsid, d->size) < 0)
                        return -ENOMEM;
        }

        if (asprintf(&pcidev, "%s/device", ctrl) < 0)
                return -ENOMEM;
        r = read_attr(pcidev, "vendor", &vendor);
        if (r == -ENOENT) {
                /* Native multipath: the namespace hangs off /sys/devices/virtual/nvme-subsystem/
                 * nvme-subsysN, which holds model and serial and links to its controllers. */
                r = subsystem_vendor(ctrl, &vendor);
                if (r == -ENOMEM)
                        return r;
        }
        if (r < 0 || strcasecmp(vendor, AZURE_NVME_VENDOR) != 0 || !d->model)
                return 0;

        if (streq(d->model, AZURE_NVME_LOCAL_MODEL) || streq(d->model, AZURE_NVME_LOCAL_V2_MODEL)) {
                d->role = DISK_ROLE_NVME_LOCAL;
                if (streq(d->model, AZURE_NVME_LOCAL_V2_MODEL) && reader) {
                        _cleanup_free_ char *md = NULL;
                        bool local = true;
                        int index;

                        r = reader(d->name, d->nsid, userdata, &md);
                        if (r >= 0)
                                r = disk_nvme_parse_metadata(md, strlen(md), &local, &index);
                        if ((r >= 0 || r == -ENODATA) && !local) {
                                /* The host says what this namespace is, and it is not a local disk. */
                                log_debug("'%s' has the local disk model, but its metadata says type is not local.",
                                          d->node);
                                d->role = DISK_ROLE_UNKNOWN;
                        } else if (r >= 0)
                                d->index = index;
                        else if (r != -ENODATA)
                                log_debug_errno(r, "Failed to read the local disk index of '%s', ignoring: %m",
                                                d->node);
                }
        } else if (streq(d->model, AZURE_NVME_REMOTE_MODEL)) {
                d->role = d->nsid == 1 ? DISK_ROLE_OS : DISK_ROLE_DATA;
                if (d->nsid >= 2)
                        d->lun = (int) d->nsid - 2;
        }
        return 0;
}

static int probe_disk(const char *sysdir, const char *classdir, const char *name, DiskNvmeMetadataReader reader,
                      void *userdata, Disk *d, bool *ret_skip) {
        _cleanup_free_ char *blk = NULL, *real = NULL, *dev = NULL, *ro = NULL, *hidden = NULL;
        uint64_t sectors = 0;

        *ret_skip = true;
        if (asprintf(&blk, "%s/%s", classdir, name) < 0)
                return -ENOMEM;
        real = realpath(blk, NULL);
        if (!real)
                return 0;
        /* Partitions, loop, ram, dm, zram, md...: not disks ephroot would pick. */
        if (attr_exists(real, "partition") ||
            (strstr(real, "/devices/virtual/") && !strstr(real, "/devices/virtual/nvme-subsystem/")))
                return 0;
        /* Native NVMe multipath path devices (nvme0c0n1): hidden, no device node; the namespace
         * device (nvme0n1) is the disk. Nothing without a device number can be opened anyway. */
        if ((read_attr(real, "hidden", &hidden) >= 0 && streq(hidden, "1")) || !attr_exists(real, "dev"))
                return 0;

        *d = (Disk) { .lun = -1, .index = -1 };
        d->name = strdup(name);
        if (!d->name || asprintf(&d->node, "/dev/%s", name) < 0)
                return -ENOMEM;
        if (read_attr_u64(real, "size", &sectors) >= 0 && sectors <= UINT64_MAX / 512)
                d->size = sectors * 512;
        d->read_only = read_attr(real, "ro", &ro) >= 0 && streq(ro, "1");
        if (read_attr(real, "dev", &dev) >= 0 && sscanf(dev, "%u:%u", &d->major, &d->minor) != 2)
                d->major = d->minor = 0;

        *ret_skip = false;
        if (startswith(name, "nvme"))
                return probe_nvme(real, reader, userdata, d);
        if (startswith(name, "sd") || startswith(name, "sr"))
                return probe_scsi(sysdir, real, d);
        return 0;
}

/* Roles of SCSI disks need every controller: a Generation 1 VM is recognised by its IDE controllers. */
static void assign_scsi_roles(DiskList *l) {
        for (size_t i = 0; i < l->n; i++) {
                Disk *d = l->disks + i;

                if (d->bus == DISK_BUS_VMBUS_SCSI && (fnmatch(AZURE_GEN1_OS_CONTROLLER_GLOB, d->controller, 0) == 0 ||
                                                      fnmatch(AZURE_GEN1_RESOURCE_CONTROLLER_GLOB, d->controller, 0) == 0))
                        l->gen1 = true;
        }

        for (size_t i = 0; i < l->n; i++) {
                Disk *d = l->disks + i;
                bool cdrom = d->role == DISK_ROLE_CDROM;

                if (d->bus != DISK_BUS_VMBUS_SCSI) {
                        if (d->bus != DISK_BUS_NVME)
                                d->role = DISK_ROLE_UNKNOWN;
                        continue;
                }
                if (cdrom)
                        continue;
                if (!d->identity) { /* not an Msft Virtual Disk */
                        d->role = DISK_ROLE_UNKNOWN;
                        continue;
                }
                if (l->gen1) {
                        if (fnmatch(AZURE_GEN1_OS_CONTROLLER_GLOB, d->controller, 0) == 0)
                                d->role = DISK_ROLE_OS;
                        else if (fnmatch(AZURE_GEN1_RESOURCE_CONTROLLER_GLOB, d->controller, 0) == 0)
                                d->role = DISK_ROLE_RESOURCE;
                        else
                                d->role = DISK_ROLE_DATA;
                } else if (strcasecmp(d->controller, AZURE_GEN2_OS_CONTROLLER) == 0)
                        d->role = d->lun == 0 ? DISK_ROLE_OS : d->lun == 1 ? DISK_ROLE_RESOURCE : DISK_ROLE_UNKNOWN;
                else
                        d->role = DISK_ROLE_DATA;
        }
}

static int name_cmp(const struct dirent **a, const struct dirent **b) {
        return strcmp((*a)->d_name, (*b)->d_name);
}

int disk_enumerate(const char *root, DiskNvmeMetadataReader reader, void *userdata, DiskList *ret) {
        _cleanup_free_ char *sysdir_raw = NULL, *sysdir = NULL, *classdir = NULL, *dmidir = NULL, *tag = NULL;
        _cleanup_(disk_list_done) DiskList l = {};
        struct dirent **entries = NULL;
        int n, r = 0;

        assert_return(ret, -EINVAL);

        sysdir_raw = disk_root_path(root, "sys");
        classdir = disk_root_path(root, "sys/class/block");
        dmidir = disk_root_path(root, "sys/class/dmi/id");
        if (!sysdir_raw || !classdir || !dmidir)
                return -ENOMEM;
        sysdir = realpath(sysdir_raw, NULL);
        if (!sysdir)
                return -errno;

        l.azure = read_attr(dmidir, "chassis_asset_tag", &tag) >= 0 && streq(tag, AZURE_CHASSIS_ASSET_TAG);

        n = scandir(classdir, &entries, NULL, name_cmp);
        if (n < 0)
                return -errno;

        l.disks = calloc(DISK_MAX, sizeof(Disk));
        if (!l.disks)
                r = -ENOMEM;

        for (int i = 0; i < n; i++) {
                bool skip;

                if (r >= 0 && entries[i]->d_name[0] != '.') {
                        if (l.n >= DISK_MAX) {
                                log_warning("More than %u disks, ignoring '%s' and the rest.", DISK_MAX,
                                            entries[i]->d_name);
                                r = 1;
                        } else {
                                r = probe_disk(sysdir, classdir, entries[i]->d_name, reader, userdata,
                                               l.disks + l.n, &skip);
                                if (!skip)
                                        l.n++;
                        }
                }
                free(entries[i]);
        }
        free(entries);
        if (r < 0)
                return r;

        assign_scsi_roles(&l);

        if (!l.azure)
                /* Never guess: without Azure's identity, no disk has an Azure role. */
                for (size_t i = 0; i < l.n; i++)
                        l.disks[i].role = DISK_ROLE_UNKNOWN;

        *ret = l;
        l = (DiskList) {};
        return 0;
}

int disk_find_loop_backing(const char *root, const char *path, char **ret_loop) {
        _cleanup_free_ char *real = NULL, *blockdir = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;

        assert_return(path, -EINVAL);
        assert_return(ret_loop, -EINVAL);

        real = realpath(path, NULL);
        if (!real)
                return -errno;
        blockdir = disk_root_path(root, "sys/block");
        if (!blockdir)
                return -ENOMEM;
        d = opendir(blockdir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                _cleanup_free_ char *dir = NULL, *backing = NULL;

                if (!startswith(de->d_name, "loop"))
                        continue;
                if (asprintf(&dir, "%s/%s/loop", blockdir, de->d_name) < 0)
                        return -ENOMEM;
                if (read_attr(dir, "backing_file", &backing) < 0 || !streq(backing, real))
                        continue;
                return asprintf(ret_loop, "/dev/%s", de->d_name) < 0 ? -ENOMEM : 1;
        }
        return 0;
}
