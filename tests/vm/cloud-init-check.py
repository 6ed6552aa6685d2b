# SPDX-License-Identifier: LGPL-2.1-or-later
# Run inside a Debian 12 chroot with Debian's cloud-init installed (tests/vm/test-vm-cloud-init.sh):
# loads the system configuration as cloud-init does (/etc/cloud/cloud.cfg and cloud.cfg.d), builds
# the Azure datasource from it, gives it the configuration it adds when the resource disk exists
# (BUILTIN_CLOUD_EPHEMERAL_DISK_CONFIG), merges as cloud-init merges, and runs cc_disk_setup with
# every command recorded instead of run (the resource disk's path made to look present). Prints
# one JSON object: the alias of ephemeral0, the merged mounts, and the commands cc_disk_setup ran.
import copy
import json
import logging
import os
from unittest import mock

from cloudinit import distros, helpers, util
from cloudinit.config import cc_disk_setup
from cloudinit.sources import DataSourceAzure as dsaz

logging.basicConfig(level=logging.CRITICAL)
sys_cfg = util.read_conf_with_confd("/etc/cloud/cloud.cfg")
paths = helpers.Paths({"cloud_dir": "/tmp/ci", "run_dir": "/tmp/ci-run"})
distro = distros.fetch("debian")("debian", {}, paths)
ds = dsaz.DataSourceAzure(sys_cfg, distro, paths)
ds.cfg = util.mergemanydict([{}, dsaz.BUILTIN_CLOUD_EPHEMERAL_DISK_CONFIG])
cfg = helpers.ConfigMerger(paths=paths, datasource=ds, base_cfg=sys_cfg).cfg
merged_disk_setup = copy.deepcopy(cfg.get("disk_setup"))  # cc_disk_setup renames its keys in place

calls = []


def fake_subp(cmd, *args, **kwargs):
    c = cmd if isinstance(cmd, str) else " ".join(map(str, cmd))
    calls.append(c)
    if c.startswith("udevadm settle"):
        return ("", "")
    raise RuntimeError("recorded, not run")


real_exists = os.path.exists
cloud = mock.Mock()
cloud.device_name_to_device = ds.device_name_to_device
with mock.patch("cloudinit.subp.subp", side_effect=fake_subp), \
        mock.patch("os.path.exists", side_effect=lambda p: True if "azure_resource" in str(p) else real_exists(p)):
    cc_disk_setup.handle("disk_setup", cfg, cloud, logging.getLogger("cc_disk_setup"), [])

print(json.dumps({
    "ephemeral0": ds.device_name_to_device("ephemeral0"),
    "disk_setup": merged_disk_setup,
    "mounts": cfg.get("mounts"),
    "commands": calls,
}))
