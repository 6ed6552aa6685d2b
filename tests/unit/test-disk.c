/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Discovery, the auto rule and the explicit-device checks, on the fake sysfs trees under
 * tests/sysfs/ (regenerate them with tests/sysfs/make-trees.sh). */

#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "disk.h"
#include "log.h"
#include "util.h"

#ifndef TEST_SYSFS_DIR
#error "TEST_SYSFS_DIR must name tests/sysfs"
#endif

#define GEN2 "f8b3781a-1e82-4818-a1c3-63d806ec15bb"

static char *tree(const char *layout) {
        char *p;
        assert_true(asprintf(&p, "%s/%s", TEST_SYSFS_DIR, layout) > 0);
        return p;
}

/* Stands in for NVMe Identify Namespace: reads <tree>/nvme-vs/<name>. */
static int read_vs(const char *name, unsigned nsid, void *userdata, char **ret) {
        _cleanup_free_ char *p = NULL;

        assert_int_equal(nsid, 1);
        assert_true(asprintf(&p, "%s/nvme-vs/%s", (const char *) userdata, name) > 0);
        return read_one_line_file(p, 4096, ret);
}

static const Disk *find(const DiskList *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->disks[i].name, name))
                        return l->disks + i;
        fail_msg("disk %s not enumerated", name);
        return NULL;
}

static void check_role(const DiskList *l, const char *name, DiskRole role, int lun) {
        const Disk *d = find(l, name);

        if (d->role != role)
                fail_msg("%s: role %s, expected %s", name, disk_role_to_string(d->role), disk_role_to_string(role));
        assert_int_equal(d->lun, lun);
}

static void enumerate(const char *layout, bool with_reader, DiskList *l, char **ret_root) {
        char *root = tree(layout);

        assert_int_equal(disk_enumerate(root, with_reader ? read_vs : NULL, root, l), 0);
        *ret_root = root;
}

static const char *auto_target(const DiskList *l) {
        const char *why = NULL;
        size_t i;
        int r;

        r = disk_select_auto(l, &i, &why);
        assert_non_null(why);
        return r < 0 ? NULL : l->disks[i].name;
}

/* The refusal reason for an explicit device=path, or NULL if it may be used. */
static const char *explicit_refusal_rootmnt(const char *root, const DiskList *l, const char *path,
                                            const char *rootmnt) {
        const char *why = NULL;
        DiskUse u;
        size_t i;
        int r;

        r = disk_resolve_path(root, l, path, &i);
        if (r == -ENOENT)
                return "does not exist";
        if (r < 0)
                return "not a disk";
        assert_int_equal(disk_get_use(root, l->disks + i, rootmnt, &u), 0);
        r = disk_check_use(l->disks + i, &u, &why);
        if (r == 0)
                return NULL;
        assert_non_null(why);
        return why;
}

static const char *explicit_refusal(const char *root, const DiskList *l, const char *path) {
        return explicit_refusal_rootmnt(root, l, path, /* rootmnt= */ NULL);
}

static void test_gen1(void **state) {
        _cleanup_(disk_list_done) DiskList l = {};
        _cleanup_free_ char *root = NULL;

        enumerate("azure-gen1", true, &l, &root);
        assert_true(l.azure);
        assert_true(l.gen1);
        assert_int_equal(l.n, 5);
        check_role(&l, "sda", DISK_ROLE_OS, 0);
        check_role(&l, "sdb", DISK_ROLE_RESOURCE, 0);
        check_role(&l, "sdc", DISK_ROLE_DATA, 0); /* scsi0 (f8b3781a) carries data disks on Gen1 */
        check_role(&l, "sdd", DISK_ROLE_DATA, 3);
        check_role(&l, "sr0", DISK_ROLE_CDROM, 1);
        assert_string_equal(find(&l, "sdb")->identity, "vmbus:00000000-0001-8899-0000-000000000000:lun0:size=75161927680");
        assert_string_equal(auto_target(&l), "sdb");
        assert_null(explicit_refusal(root, &l, "/dev/sdb"));
        (void) state;
}

static void test_gen2(void **state) {
        _cleanup_(disk_list_done) DiskList l = {};
        _cleanup_free_ char *root = NULL;

        enumerate("azure-gen2", true, &l, &root);
        assert_true(l.azure);
        assert_false(l.gen1);
        assert_int_equal(l.n, 6); /* partitions and loop0 are not disks */
        check_role(&l, "sda", DISK_ROLE_OS, 0);
        check_role(&l, "sdb", DISK_ROLE_RESOURCE, 1);
        check_role(&l, "sr0", DISK_ROLE_CDROM, 2);
        check_role(&l, "sdc", DISK_ROLE_DATA, 0);
        check_role(&l, "sdd", DISK_ROLE_DATA, 5);
        check_role(&l, "sde", DISK_ROLE_DATA, 6);
        assert_string_equal(find(&l, "sdb")->identity, "vmbus:" GEN2 ":lun1:size=75161927680");
        assert_string_equal(find(&l, "sdb")->node, "/dev/sdb");
        assert_int_equal(find(&l, "sdb")->size, 146800640ULL * 512);
        assert_string_equal(auto_target(&l), "sdb");

        /* Explicit devices are checked too. */
        assert_string_equal(explicit_refusal(root, &l, "/dev/sda"), "it is the Azure OS disk");
        assert_string_equal(explicit_refusal(root, &l, "/dev/sr0"), "it is a CD-ROM");
        /* cloud-init mounted the resource disk on /mnt: even the auto target is refused. */
        assert_string_equal(explicit_refusal(root, &l, "/dev/disk/by-path/acpi-VMBUS:00-vmbus-f8b3781a1e824818a1c363d806ec15bb-lun-1"),
                            "it or one of its partitions is mounted");
        assert_string_equal(explicit_refusal(root, &l, "/dev/sdd"), "it is read-only");
        assert_string_equal(explicit_refusal(root, &l, "/dev/sde"), "it or one of its partitions is held by another device (dm, md, ...)");
        assert_null(explicit_refusal(root, &l, "/dev/sdc")); /* a data disk named explicitly: allowed */
        assert_string_equal(explicit_refusal(root, &l, "/dev/sdz"), "does not exist");
        assert_string_equal(explicit_refusal(root, &l, "/dev/sda1"), "not a disk");
        (void) state;
}

static void test_v5_nvme(void **state) {
        _cleanup_(disk_list_done) DiskList l = {};
        _cleanup_free_ char *root = NULL;
        const Disk *d;

        enumerate("azure-v5-nvme", true, &l, &root);
        assert_int_equal(l.n, 3);
        check_role(&l, "sda", DISK_ROLE_OS, 0);
        check_role(&l, "sr0", DISK_ROLE_CDROM, 2);
        check_role(&l, "nvme0n1", DISK_ROLE_NVME_LOCAL, -1);
        d = find(&l, "nvme0n1");
        assert_int_equal(d->index, -1); /* v1 model: no metadata */
        assert_string_equal(d->identity, "nvme:7ab1e3c4d5f60001:ns1:size=960197124096");
        assert_string_equal(auto_target(&l), "nvme0n1");
        (void) state;
}

static void test_v6(void **state) {
        _cleanup_(disk_list_done) DiskList l = {}, m = {};
        _cleanup_free_ char *root = NULL, *root2 = NULL;

        enumerate("azure-v6", true, &l, &root);
        assert_int_equal(l.n, 7);
        check_role(&l, "nvme0n1", DISK_ROLE_OS, -1);
        check_role(&l, "nvme0n2", DISK_ROLE_DATA, 0);
        check_role(&l, "nvme0n3", DISK_ROLE_DATA, 1);
        check_role(&l, "nvme1n1", DISK_ROLE_NVME_LOCAL, -1);
        check_role(&l, "nvme2n1", DISK_ROLE_NVME_LOCAL, -1);
        check_role(&l, "nvme3n1", DISK_ROLE_NVME_LOCAL, -1);
        check_role(&l, "sr0", DISK_ROLE_CDROM, 2);
        assert_int_equal(find(&l, "nvme1n1")->index, 3);
        assert_int_equal(find(&l, "nvme2n1")->index, 1);
        assert_int_equal(find(&l, "nvme3n1")->index, 2);
        assert_string_equal(find(&l, "nvme2n1")->identity, "nvme:SN-LOCAL-2:ns1:size=439804651008");
        /* The lowest metadata index wins over the kernel's naming order. */
        assert_string_equal(auto_target(&l), "nvme2n1");
        assert_string_equal(explicit_refusal(root, &l, "/dev/nvme0n1"), "it is the Azure OS disk");
        assert_null(explicit_refusal(root, &l, "/dev/nvme3n1"));

        /* Without metadata: the first by name. */
        enumerate("azure-v6", false, &m, &root2);
        assert_int_equal(find(&m, "nvme2n1")->index, -1);
        assert_string_equal(auto_target(&m), "nvme1n1");
        (void) state;
}

/* Like read_vs, but nvme2n1's metadata (the lowest index) says it is not a local disk. */
static int read_vs_remote(const char *name, unsigned nsid, void *userdata, char **ret) {
        if (streq(name, "nvme2n1")) {
                *ret = strdup("type=remote,index=1,name=nvme-440G-1");
                return *ret ? 0 : -ENOMEM;
        }
        return read_vs(name, nsid, userdata, ret);
}

static void test_v6_metadata_type(void **state) {
        _cleanup_(disk_list_done) DiskList l = {};
        _cleanup_free_ char *root = tree("azure-v6");

        assert_int_equal(disk_enumerate(root, read_vs_remote, root, &l), 0);
        check_role(&l, "nvme2n1", DISK_ROLE_UNKNOWN, -1);
        assert_int_equal(find(&l, "nvme2n1")->index, -1);
        check_role(&l, "nvme1n1", DISK_ROLE_NVME_LOCAL, -1);
        check_role(&l, "nvme3n1", DISK_ROLE_NVME_LOCAL, -1);
        assert_string_equal(auto_target(&l), "nvme3n1"); /* the next lowest index, 2 */
        (void) state;
}

static void test_hyperv_not_azure(void **state) {
        _cleanup_(disk_list_done) DiskList l = {};
        _cleanup_free_ char *root = NULL;

        enumerate("hyperv-gen2", true, &l, &root);
        assert_false(l.azure);
        assert_int_equal(l.n, 2);
        check_role(&l, "sda", DISK_ROLE_UNKNOWN, 0);
        check_role(&l, "sdb", DISK_ROLE_UNKNOWN, 1); /* LUN 1 on f8b3781a, but no Azure identity */
        assert_null(auto_target(&l));
        (void) state;
}

static void test_plain(void **state) {
        _cleanup_(disk_list_done) DiskList l = {};
        _cleanup_free_ char *root = NULL;

        enumerate("plain", true, &l, &root);
        assert_false(l.azure);
        assert_int_equal(l.n, 9); /* dm-1, dm-2 and dm-3 are virtual */
        for (size_t i = 0; i < l.n; i++) {
                assert_int_equal(l.disks[i].role, DISK_ROLE_UNKNOWN);
                assert_null(l.disks[i].identity);
        }
        assert_null(auto_target(&l));

        /* Root is on dm-1, which sits on vda1. */
        assert_string_equal(explicit_refusal(root, &l, "/dev/vda"), "it holds the root file system");
        assert_string_equal(explicit_refusal(root, &l, "/dev/vdb"), "it or one of its partitions is mounted");
        assert_string_equal(explicit_refusal(root, &l, "/dev/vdc"), "it or one of its partitions is held by another device (dm, md, ...)");
        assert_string_equal(explicit_refusal(root, &l, "/dev/vdd"), "it is read-only");
        assert_null(explicit_refusal(root, &l, "/dev/disk/by-id/virtio-spare"));
        assert_string_equal(explicit_refusal(root, &l, "/dev/nonexistent"), "does not exist");

        /* The OS root mounted at boot's --rootmnt: btrfs on vdf (an anonymous device, 0:35, found
         * through its mount source) and ext4 on dm-2 over vdg. Like "/", but only when it is the rootmnt. */
        assert_null(explicit_refusal(root, &l, "/dev/vdf"));
        assert_string_equal(explicit_refusal_rootmnt(root, &l, "/dev/vdf", "/root"), "it holds the root file system");
        assert_string_equal(explicit_refusal_rootmnt(root, &l, "/dev/vdf", "/root/"), "it holds the root file system");
        assert_null(explicit_refusal_rootmnt(root, &l, "/dev/vdf", "/sysroot"));
        assert_null(explicit_refusal(root, &l, "/dev/vdg"));
        assert_string_equal(explicit_refusal_rootmnt(root, &l, "/dev/vdg", "/sysroot"), "it holds the root file system");
        assert_null(explicit_refusal_rootmnt(root, &l, "/dev/vde", "/root"));

        /* An active swap partition (vdh2), and one on dm-3 over vdi1. */
        assert_string_equal(explicit_refusal(root, &l, "/dev/vdh"), "it or one of its partitions is an active swap area");
        assert_string_equal(explicit_refusal(root, &l, "/dev/vdi"), "it or one of its partitions is an active swap area");
        (void) state;
}

static void test_destroyable(void **state) {
        const char *id = "vmbus:" GEN2 ":lun1:size=75161927680";
        const char *other = "vmbus:" GEN2 ":lun1:size=75161927681";
        _cleanup_free_ char *r1 = NULL, *r2 = NULL, *r3 = NULL, *r4 = NULL, *r5 = NULL, *r6 = NULL;
        bool forced = true;

        assert_int_equal(disk_check_destroyable(id, DISK_CLASS_BLANK, "zeros", NULL, &forced, &r1), 0);
        assert_false(forced);
        assert_int_equal(disk_check_destroyable(id, DISK_CLASS_EPHROOT, "mark", other, &forced, &r2), 0);
        assert_false(forced);
        assert_int_equal(disk_check_destroyable(id, DISK_CLASS_FOREIGN, "ext4", NULL, &forced, &r3), -EPERM);
        assert_non_null(strstr(r3, "foreign (ext4)"));
        assert_non_null(strstr(r3, id)); /* tells the operator what to write */
        /* A force-format naming a different disk (here: the same slot, another size) does not unlock it. */
        assert_int_equal(disk_check_destroyable(id, DISK_CLASS_FOREIGN, "ext4", other, &forced, &r4), -EPERM);
        assert_non_null(strstr(r4, "names another disk"));
        assert_false(forced);
        /* A disk without identity can never be forced. */
        assert_int_equal(disk_check_destroyable(NULL, DISK_CLASS_FOREIGN, "ext4", other, &forced, &r5), -EPERM);
        assert_int_equal(disk_check_destroyable(id, DISK_CLASS_FOREIGN, "ext4", id, &forced, &r6), 0);
        assert_true(forced);
        assert_non_null(strstr(r6, "FORCED"));
        (void) state;
}

static void test_nvme_metadata(void **state) {
        static const char padded[32] = "type=local,index=7,name=x";
        bool local = false;
        int index = -1;

        assert_int_equal(disk_nvme_parse_metadata(padded, sizeof(padded), &local, &index), 0);
        assert_true(local);
        assert_int_equal(index, 7);
        assert_int_equal(disk_nvme_parse_metadata("type=remote,index=1", 19, &local, &index), 0);
        assert_false(local);
        assert_int_equal(disk_nvme_parse_metadata("", 0, &local, &index), -ENODATA);
        assert_int_equal(disk_nvme_parse_metadata("type=local", 10, &local, &index), -ENODATA);
        assert_true(local);
        assert_int_equal(disk_nvme_parse_metadata("type=remote", 11, &local, &index), -ENODATA);
        assert_false(local); /* no index, but it says what it is */
        assert_int_equal(disk_nvme_parse_metadata("index=3", 7, &local, &index), 0);
        assert_true(local); /* no type: nothing said against the model */
        assert_int_equal(disk_nvme_parse_metadata("type=local,index=-1", 19, &local, &index), -EBADMSG);
        assert_int_equal(disk_nvme_parse_metadata("type=local,index=99999", 22, &local, &index), -EBADMSG);
        assert_int_equal(disk_nvme_parse_metadata("garbage", 7, &local, &index), -EBADMSG);
        assert_int_equal(disk_nvme_parse_metadata("type=lo\x01", 8, &local, &index), -EBADMSG);
        (void) state;
}

static void test_pick_target(void **state) {
        _cleanup_(disk_list_done) DiskList l = {}, h = {};
        _cleanup_free_ char *root = NULL, *root2 = NULL;
        _cleanup_(disk_target_done) DiskTarget t = {}, u = {}, v = {};

        /* Gen1: auto finds sdb; the tree's /dev/sdb is an empty file, so it is foreign and refused. */
        enumerate("azure-gen1", true, &l, &root);
        assert_int_equal(disk_pick_target(&(DiskTargetRequest) { .root = root, .device = "auto" }, &l, &t), 0);
        assert_false(t.ok);
        assert_string_equal(t.node, "/dev/sdb");
        assert_true(t.classified);
        assert_int_equal(t.class, DISK_CLASS_FOREIGN);
        assert_string_equal(t.reason, "Refusing to format '/dev/sdb': it is foreign (smaller than 1 MiB); only "
                                      "force-format=vmbus:00000000-0001-8899-0000-000000000000:lun0:size=75161927680 "
                                      "would override");

        /* An explicit OS disk is refused before anything is read from it. */
        assert_int_equal(disk_pick_target(&(DiskTargetRequest) { .root = root, .device = "/dev/sda" }, &l, &u), 0);
        assert_false(u.ok);
        assert_false(u.classified);
        assert_string_equal(u.reason, "Refusing to format '/dev/sda': it is the Azure OS disk");
        disk_target_done(&u);

        /* A named path that is not there is the target, refused: node names it. */
        assert_int_equal(disk_pick_target(&(DiskTargetRequest) { .root = root, .device = "/dev/sdz" }, &l, &u), 0);
        assert_false(u.ok);
        assert_string_equal(u.node, "/dev/sdz");
        assert_string_equal(u.reason, "Refusing to format '/dev/sdz': it does not exist");

        /* No Azure identity: no candidate at all. */
        enumerate("hyperv-gen2", true, &h, &root2);
        assert_int_equal(disk_pick_target(&(DiskTargetRequest) { .root = root2, .device = "auto" }, &h, &v), 0);
        assert_false(v.ok);
        assert_null(v.node);
        assert_non_null(strstr(v.reason, "no positive Azure identity"));
        (void) state;
}

static int count_mount(dev_t dev, const char *mountpoint, const char *source, void *userdata) {
        (*(unsigned *) userdata)++;
        return 0;
}

static int last_source(dev_t dev, const char *mountpoint, const char *source, void *userdata) {
        snprintf(userdata, 64, "%s", source);
        return 0;
}

static int count_swap(const char *name, bool partition, void *userdata) {
        unsigned *n = userdata;

        n[partition ? 0 : 1]++;
        assert_true(name[0] == '/');
        return 0;
}

static void test_swaps(void **state) {
        unsigned n[2] = {};

        assert_int_equal(disk_swaps_parse("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                                          "/dev/sdb2                               partition\t1048572\t\t0\t\t-2\n"
                                          "/swap\\040file                           file\t\t65532\t\t0\t\t-3\n",
                                          count_swap, n),
                         0);
        assert_int_equal(n[0], 1);
        assert_int_equal(n[1], 1);
        n[0] = n[1] = 0;
        assert_int_equal(disk_swaps_parse("Filename Type Size Used Priority\n", count_swap, n), 0);
        assert_int_equal(n[0] + n[1], 0);
        assert_int_equal(disk_swaps_parse("Filename Type\n/dev/sdb2\n", count_swap, n), -EBADMSG);
        (void) state;
}

static void write_file(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *p = NULL;
        FILE *f;

        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        f = fopen(p, "we");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

static char *mkdir_at(const char *dir, const char *name) {
        char *p;

        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        assert_int_equal(mkdir(p, 0755), 0);
        return p;
}

/* Bounds are refused, never silently truncated: a disk with more partitions than ephroot looks at,
 * and a root stacked on more devices than it collects. */
static void test_use_bounds(void **state) {
        char root[] = "/tmp/test-disk-XXXXXX";
        _cleanup_free_ char *sys = NULL, *cls = NULL, *blk = NULL, *vdx = NULL, *devdir = NULL, *dm = NULL,
                           *slaves = NULL, *proc = NULL, *self = NULL, *cmd = NULL;
        Disk d = { .name = (char *) "vdx", .node = (char *) "/dev/vdx", .major = 252, .minor = 0 };
        DiskUse u;

        assert_non_null(mkdtemp(root));
        sys = mkdir_at(root, "sys");
        cls = mkdir_at(sys, "class");
        blk = mkdir_at(cls, "block");
        vdx = mkdir_at(blk, "vdx");
        write_file(vdx, "dev", "252:0\n");
        proc = mkdir_at(root, "proc");
        self = mkdir_at(proc, "self");
        write_file(self, "mountinfo", "");

        for (unsigned i = 1; i <= DISK_PARTITIONS_MAX + 1; i++) {
                _cleanup_free_ char *name = NULL, *part = NULL, *dev = NULL;

                assert_true(asprintf(&name, "vdx%u", i) > 0);
                assert_true(asprintf(&dev, "252:%u\n", i) > 0);
                part = mkdir_at(vdx, name);
                write_file(part, "partition", "1\n");
                write_file(part, "dev", dev);
                if (i == DISK_PARTITIONS_MAX)
                        assert_int_equal(disk_get_use(root, &d, NULL, &u), 0);
        }
        assert_int_equal(disk_get_use(root, &d, NULL, &u), -E2BIG);

        /* "/" on dm-0 over more devices than a DevSet holds. */
        d.name = (char *) "vdy";
        d.node = (char *) "/dev/vdy";
        d.minor = 200;
        free(vdx);
        vdx = mkdir_at(blk, "vdy");
        write_file(vdx, "dev", "252:200\n");
        write_file(self, "mountinfo", "20 1 253:0 / / rw - ext4 /dev/mapper/root rw\n");
        devdir = mkdir_at(sys, "dev");
        free(blk);
        blk = mkdir_at(devdir, "block");
        dm = mkdir_at(blk, "253:0");
        slaves = mkdir_at(dm, "slaves");
        assert_int_equal(disk_get_use(root, &d, NULL, &u), 0);
        for (unsigned i = 0; i < DISK_DEVSET_MAX; i++) {
                _cleanup_free_ char *name = NULL, *sub = NULL, *dev = NULL;

                assert_true(asprintf(&name, "sd%u", i) > 0);
                assert_true(asprintf(&dev, "8:%u\n", i) > 0);
                sub = mkdir_at(slaves, name);
                write_file(sub, "dev", dev);
        }
        assert_int_equal(disk_get_use(root, &d, NULL, &u), -E2BIG);

        assert_true(asprintf(&cmd, "rm -rf '%s'", root) > 0);
        assert_int_equal(system(cmd), 0);
        (void) state;
}

/* An image file backing a loop device is found through <root>/sys/block/loopN/loop/backing_file. */
static void test_loop_backing(void **state) {
        char root[] = "/tmp/test-disk-XXXXXX";
        _cleanup_free_ char *sys = NULL, *blk = NULL, *loop0 = NULL, *loop0l = NULL, *loop1 = NULL, *loop1l = NULL,
                           *img = NULL, *other = NULL, *real = NULL, *found = NULL, *cmd = NULL;

        assert_non_null(mkdtemp(root));
        write_file(root, "disk.img", "");
        write_file(root, "other.img", "");
        assert_true(asprintf(&img, "%s/disk.img", root) > 0);
        assert_true(asprintf(&other, "%s/other.img", root) > 0);
        real = realpath(img, NULL);
        assert_non_null(real);

        /* No sys/block at all: nothing backs anything. */
        assert_int_equal(disk_find_loop_backing(root, img, &found), 0);

        sys = mkdir_at(root, "sys");
        blk = mkdir_at(sys, "block");
        loop0 = mkdir_at(blk, "loop0");
        loop0l = mkdir_at(loop0, "loop");
        write_file(loop0l, "backing_file", "/somewhere/else.img\n");
        loop1 = mkdir_at(blk, "loop1");
        loop1l = mkdir_at(loop1, "loop");
        write_file(loop1l, "backing_file", real);
        assert_int_equal(disk_find_loop_backing(root, img, &found), 1);
        assert_string_equal(found, "/dev/loop1");
        assert_int_equal(disk_find_loop_backing(root, other, &found), 0);
        assert_int_equal(disk_find_loop_backing(root, "/nonexistent.img", &found), -ENOENT);

        assert_true(asprintf(&cmd, "rm -rf '%s'", root) > 0);
        assert_int_equal(system(cmd), 0);
        (void) state;
}

static void test_mountinfo(void **state) {
        char source[64];
        unsigned n = 0;

        /* The source follows " - <fstype> ", after any number of optional fields. */
        assert_int_equal(disk_mountinfo_parse("25 1 0:35 / /root rw shared:1 master:2 - btrfs /dev/vdf rw\n",
                                              last_source, source),
                         0);
        assert_string_equal(source, "/dev/vdf");
        assert_int_equal(disk_mountinfo_parse("25 1 0:35 / /root rw\n", last_source, source), 0);
        assert_string_equal(source, "");

        assert_int_equal(disk_mountinfo_parse("20 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                                              "21 20 0:22 / /proc rw - proc proc rw\n",
                                              count_mount, &n),
                         0);
        assert_int_equal(n, 2);
        assert_int_equal(disk_mountinfo_parse("20 1 nonsense\n", count_mount, &n), -EBADMSG);

        /* An overlay line with kilobytes of options is still read. */
        {
                size_t sz = 20000;
                char *big = malloc(sz);

                assert_non_null(big);
                strcpy(big, "30 1 0:50 / /var/lib/docker/x rw - overlay overlay rw,lowerdir=");
                memset(big + strlen(big), 'a', sz - strlen(big) - 2);
                big[sz - 2] = '\n';
                big[sz - 1] = '\0';
                n = 0;
                assert_int_equal(disk_mountinfo_parse(big, count_mount, &n), 0);
                assert_int_equal(n, 1);
                free(big);
        }
        (void) state;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_gen1),
                cmocka_unit_test(test_gen2),
                cmocka_unit_test(test_v5_nvme),
                cmocka_unit_test(test_v6),
                cmocka_unit_test(test_v6_metadata_type),
                cmocka_unit_test(test_hyperv_not_azure),
                cmocka_unit_test(test_plain),
                cmocka_unit_test(test_destroyable),
                cmocka_unit_test(test_pick_target),
                cmocka_unit_test(test_nvme_metadata),
                cmocka_unit_test(test_mountinfo),
                cmocka_unit_test(test_swaps),
                cmocka_unit_test(test_use_bounds),
                cmocka_unit_test(test_loop_backing),
        };

        log_set_target(LOG_TARGET_STDERR);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
