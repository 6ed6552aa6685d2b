/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The one NVMe admin command ephroot sends: Identify Namespace (read-only), to read the metadata that
 * Azure's v2 local disks carry in the vendor-specific area. */

#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/nvme_ioctl.h>
#include <stdio.h>
#include <sys/ioctl.h>

#include "disk.h"

#define NVME_ADMIN_IDENTIFY 0x06
#define NVME_IDENTIFY_SIZE 4096U
#define NVME_IDENTIFY_NS_VS_OFFSET 384U

int disk_nvme_read_vs(const char *name, unsigned nsid, void *userdata, char **ret) {
        _cleanup_free_ char *node = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct nvme_admin_cmd cmd = {};
        char *s;

        if (asprintf(&node, "/dev/%s", name) < 0)
                return -ENOMEM;
        buf = calloc(1, NVME_IDENTIFY_SIZE);
        if (!buf)
                return -ENOMEM;
        fd = open(node, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;

        cmd.opcode = NVME_ADMIN_IDENTIFY;
        cmd.nsid = nsid;
        cmd.addr = (uint64_t) (uintptr_t) buf;
        cmd.data_len = NVME_IDENTIFY_SIZE;
        cmd.cdw10 = 0; /* CNS 0: Identify Namespace */
        cmd.timeout_ms = 5000;
        if (ioctl(fd, NVME_IOCTL_ADMIN_CMD, &cmd) < 0)
                return -errno;

        s = strndup((const char *) buf + NVME_IDENTIFY_NS_VS_OFFSET, NVME_IDENTIFY_SIZE - NVME_IDENTIFY_NS_VS_OFFSET);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}
