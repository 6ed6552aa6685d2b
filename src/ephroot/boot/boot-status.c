/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* /run/ephroot/status.json: what the boot did, for the booted system and for tests. Written to a
 * temporary file and renamed, 0644: it holds no secret. */

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot.h"
#include "json-util.h"
#include "log.h"
#include "util.h"

static int build_attest(const Config *c, const BootStatus *st, json_object **ret) {
        _cleanup_json_ json_object *at = json_object_new_object();
        bool on = c->attest != ATTEST_OFF;

        if (!at || json_add_string(at, "mode", attest_mode_to_string(c->attest)) < 0 ||
            json_add_string(at, "tee", on ? c->attest_tee : NULL) < 0 ||
            json_add_string(at, "kbs_url", on ? c->kbs_url : NULL) < 0 ||
            json_add_bool(at, "attested", st->attested) < 0 || json_add_int(at, "secrets", st->attest_secrets) < 0 ||
            json_add_string(at, "error", st->attest_error) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(at);
        return 0;
}

static int build_pcrs(const Config *c, json_object **ret) {
        _cleanup_json_ json_object *pcrs = json_object_new_object();

        if (!pcrs || json_add_int(pcrs, "kernel", c->pcr_kernel) < 0 || json_add_int(pcrs, "initrd", c->pcr_initrd) < 0 ||
            json_add_int(pcrs, "cmdline", c->pcr_cmdline) < 0 || json_add_int(pcrs, "disk", c->pcr_disk) < 0 ||
            json_add_int(pcrs, "leave", c->pcr_leave) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(pcrs);
        return 0;
}

static int build_root(const Config *c, const BootStatus *st, json_object **ret) {
        _cleanup_json_ json_object *root = json_object_new_object();

        if (!root || json_add_string(root, "source", st->root.source_node) < 0 ||
            json_add_string(root, "fstype", st->root.fstype) < 0)
                return -ENOMEM;
        if (c->verity_root_hash.set) {
                _cleanup_free_ char *hex = hexmem(c->verity_root_hash.bytes, sizeof(c->verity_root_hash.bytes));

                if (!hex || json_add_string(root, "verity_root_hash", hex) < 0 ||
                    json_add_string(root, "verity_device", st->root.verity_node) < 0 ||
                    json_add_string(root, "verity_error", verity_error_to_string(c->verity_error)) < 0 ||
                    json_add_int(root, "verity_open_ms", (int64_t) (st->root.verity_usec / 1000)) < 0)
                        return -ENOMEM;
        }
        if (c->mode == ROOT_MODE_COPY && st->root.copy.copied > 0) {
                _cleanup_free_ char *hex = hexmem(st->root.copy.hash.bytes, st->root.copy.hash.size);
                _cleanup_free_ char *h = NULL;

                if (!hex || asprintf(&h, "sha256:%s", hex) < 0 || json_add_string(root, "root_hash", h) < 0 ||
                    json_add_int(root, "copied", (int64_t) st->root.copy.copied) < 0 ||
                    json_add_bool(root, "used_blocks_only", st->root.copy.ext4) < 0 ||
                    json_add_int(root, "grown_to", (int64_t) st->root.grown_to) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(root);
        return 0;
}

static int build_phases(const BootStatus *st, json_object **ret) {
        _cleanup_json_ json_object *phases = json_object_new_array();

        if (!phases)
                return -ENOMEM;
        for (BootPhase p = 0; p < _BOOT_PHASE_MAX; p++) {
                _cleanup_json_ json_object *ph = NULL;

                if (!st->phase_done[p])
                        continue;
                ph = json_object_new_object();
                if (!ph || json_add_string(ph, "name", boot_phase_to_string(p)) < 0 ||
                    json_add(ph, "ms", json_object_new_double((double) st->phase_usec[p] / 1000.0)) < 0 ||
                    json_append(phases, TAKE_PTR(ph)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(phases);
        return 0;
}

static int build(const Config *c, const BootStatus *st, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object(), *at = NULL, *pcrs = NULL, *root = NULL,
                                   *phases = NULL;

        if (!o || build_attest(c, st, &at) < 0 || build_pcrs(c, &pcrs) < 0 || build_root(c, st, &root) < 0 ||
            build_phases(st, &phases) < 0)
                return -ENOMEM;

        if (json_add_string(o, "result", st->failed ? "failed" : "ok") < 0)
                return -ENOMEM;
        if (st->failed && (json_add_string(o, "failed_phase", boot_phase_to_string(st->phase)) < 0 ||
                           json_add_string(o, "error", st->error) < 0))
                return -ENOMEM;
        if (json_add_string(o, "device", st->target.node) < 0 ||
            json_add_string(o, "identity", st->target.identity) < 0 ||
            json_add_string(o, "role", st->target.role) < 0 ||
            json_add_string(o, "classification", st->target.classification) < 0 ||
            json_add_bool(o, "forced", st->target.forced) < 0 ||
            json_add_string(o, "mode", root_mode_to_string(c->mode)) < 0 ||
            json_add_string(o, "luks_uuid", st->luks_uuid) < 0 || json_add_string(o, "dm_node", st->dm_node) < 0 ||
            json_add_string(o, "cipher", st->cipher) < 0 || json_add_int(o, "sector_size", st->sector_size) < 0 ||
            json_add_int(o, "volume_size", (int64_t) st->volume_size) < 0 || json_add_bool(o, "tpm", st->tpm) < 0 ||
            json_add(o, "attest", TAKE_PTR(at)) < 0 || json_add(o, "pcrs", TAKE_PTR(pcrs)) < 0 ||
            json_add(o, "root", TAKE_PTR(root)) < 0 || json_add(o, "phases", TAKE_PTR(phases)) < 0 ||
            json_add(o, "total_ms", json_object_new_double((double) st->total_usec / 1000.0)) < 0)
                return -ENOMEM;

        *ret = TAKE_PTR(o);
        return 0;
}

int boot_status_write(const Config *c, const BootStatus *st, const char *path) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_free_ char *tmp = NULL, *dir = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *text, *slash;
        int r;

        r = build(c, st, &o);
        if (r < 0)
                return r;
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;

        slash = strrchr(path, '/');
        if (slash && slash != path) {
                dir = strndup(path, (size_t) (slash - path));
                if (!dir)
                        return -ENOMEM;
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return -errno;
        }
        if (asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, text, strlen(text));
        if (r >= 0)
                r = loop_write(fd, "\n", 1);
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}
