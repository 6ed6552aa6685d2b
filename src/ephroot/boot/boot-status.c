/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* /run/ephroot/status.json: what the boot did, for the booted system and for tests. Written to a
 * temporary file and renamed, 0644: it holds no secret. */

#define _GNU_SOURCE
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot.h"
#include "log.h"
#include "util.h"

static void json_object_putp(json_object **j) {
        json_object_put(*j);
}

static json_object *str_or_null(const char *s) {
        return s ? json_object_new_string(s) : NULL;
}

static int build(const Config *c, const BootStatus *st, json_object **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        json_object *phases, *pcrs, *root;

        if (!o)
                return -ENOMEM;
        phases = json_object_new_array();
        pcrs = json_object_new_object();
        root = json_object_new_object();
        if (!phases || !pcrs || !root) {
                json_object_put(phases);
                json_object_put(pcrs);
                json_object_put(root);
                return -ENOMEM;
        }

        json_object_object_add(o, "result", json_object_new_string(st->failed ? "failed" : "ok"));
        if (st->failed) {
                json_object_object_add(o, "failed_phase", json_object_new_string(boot_phase_to_string(st->phase)));
                json_object_object_add(o, "error", str_or_null(st->error));
        }
        json_object_object_add(o, "device", str_or_null(st->target.node));
        json_object_object_add(o, "identity", str_or_null(st->target.identity));
        json_object_object_add(o, "role", str_or_null(st->target.role));
        json_object_object_add(o, "classification", str_or_null(st->target.classification));
        json_object_object_add(o, "forced", json_object_new_boolean(st->target.forced));
        json_object_object_add(o, "mode", json_object_new_string(root_mode_to_string(c->mode)));
        json_object_object_add(o, "luks_uuid", str_or_null(st->luks_uuid));
        json_object_object_add(o, "dm_node", str_or_null(st->dm_node));
        json_object_object_add(o, "cipher", str_or_null(st->cipher));
        json_object_object_add(o, "sector_size", json_object_new_int64(st->sector_size));
        json_object_object_add(o, "volume_size", json_object_new_int64((int64_t) st->volume_size));
        json_object_object_add(o, "tpm", json_object_new_boolean(st->tpm));
        {
                json_object *at = json_object_new_object();
                if (!at) {
                        json_object_put(phases);
                        json_object_put(pcrs);
                        json_object_put(root);
                        return -ENOMEM;
                }
                json_object_object_add(at, "mode", json_object_new_string(attest_mode_to_string(c->attest)));
                json_object_object_add(at, "tee", str_or_null(c->attest != ATTEST_OFF ? c->attest_tee : NULL));
                json_object_object_add(at, "kbs_url", str_or_null(c->attest != ATTEST_OFF ? c->kbs_url : NULL));
                json_object_object_add(at, "attested", json_object_new_boolean(st->attested));
                json_object_object_add(at, "secrets", json_object_new_int((int) st->attest_secrets));
                json_object_object_add(at, "error", str_or_null(st->attest_error));
                json_object_object_add(o, "attest", at);
        }

        json_object_object_add(pcrs, "kernel", json_object_new_int((int) c->pcr_kernel));
        json_object_object_add(pcrs, "initrd", json_object_new_int((int) c->pcr_initrd));
        json_object_object_add(pcrs, "cmdline", json_object_new_int((int) c->pcr_cmdline));
        json_object_object_add(pcrs, "disk", json_object_new_int((int) c->pcr_disk));
        json_object_object_add(pcrs, "leave", json_object_new_int((int) c->pcr_leave));
        json_object_object_add(o, "pcrs", pcrs);

        json_object_object_add(root, "source", str_or_null(st->root.source_node));
        json_object_object_add(root, "fstype", str_or_null(st->root.fstype));
        if (c->mode == ROOT_MODE_COPY && st->root.copy.copied > 0) {
                _cleanup_free_ char *hex = hexmem(st->root.copy.hash.bytes, st->root.copy.hash.size);
                _cleanup_free_ char *h = NULL;

                if (!hex || asprintf(&h, "sha256:%s", hex) < 0) {
                        json_object_put(phases);
                        return -ENOMEM;
                }
                json_object_object_add(root, "root_hash", json_object_new_string(h));
                json_object_object_add(root, "copied", json_object_new_int64((int64_t) st->root.copy.copied));
                json_object_object_add(root, "used_blocks_only", json_object_new_boolean(st->root.copy.ext4));
                json_object_object_add(root, "grown_to", json_object_new_int64((int64_t) st->root.grown_to));
        }
        json_object_object_add(o, "root", root);

        for (BootPhase p = 0; p < _BOOT_PHASE_MAX; p++) {
                json_object *ph;

                if (!st->phase_done[p])
                        continue;
                ph = json_object_new_object();
                if (!ph) {
                        json_object_put(phases);
                        return -ENOMEM;
                }
                json_object_object_add(ph, "name", json_object_new_string(boot_phase_to_string(p)));
                json_object_object_add(ph, "ms", json_object_new_double((double) st->phase_usec[p] / 1000.0));
                json_object_array_add(phases, ph);
        }
        json_object_object_add(o, "phases", phases);
        json_object_object_add(o, "total_ms", json_object_new_double((double) st->total_usec / 1000.0));

        *ret = TAKE_PTR(o);
        return 0;
}

int boot_status_write(const Config *c, const BootStatus *st, const char *path) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *tmp = NULL, *dir = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *text, *slash;
        int r;

        r = build(c, st, &o);
        if (r < 0)
                return r;
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);

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
