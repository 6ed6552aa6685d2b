/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* `ephroot root-hash IMAGE [--copy-to FILE] [--json]`: the root hash copy mode will compute for an
 * OS root image (to put into root-hash= at image build time), and optionally the copy itself into a
 * file or device, exactly as the boot makes it, to check an image fits and copies correctly. */

#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "json-util.h"
#include "log.h"
#include "root-copy.h"
#include "util.h"
#include "verbs.h"

static struct {
        const char *image;
        const char *copy_to;
        bool json;
} arg;

enum {
        ARG_COPY_TO = 0x100,
        ARG_JSON,
};

static VerbResult parse_option(VerbContext *ctx, int c, const char *value) {
        switch (c) {
        case ARG_COPY_TO:
                arg.copy_to = value;
                return VERB_OK;
        case ARG_JSON:
                arg.json = true;
                return VERB_OK;
        default:
                return VERB_USAGE;
        }
}

static VerbResult parse_args(VerbContext *ctx, int argc, char **argv) {
        if (argc != 1)
                return verb_usage("Usage: ephroot root-hash IMAGE [--copy-to FILE] [--json]");
        arg.image = argv[0];
        return VERB_OK;
}

static int print_json(const char *hex, const RootCopyResult *res) {
        _cleanup_json_ json_object *o = json_object_new_object();
        _cleanup_free_ char *h = NULL, *text = NULL;

        if (!o || asprintf(&h, "sha256:%s", hex) < 0 || json_add_string(o, "root_hash", h) < 0 ||
            json_add_string(o, "layout", res->ext4 ? "ext4-used-blocks" : "whole") < 0 ||
            json_add_int(o, "block_size", res->block_size) < 0 || json_add_uint(o, "source_size", res->source_size) < 0 ||
            json_add_uint(o, "needed", res->needed) < 0 || json_add_uint(o, "copied", res->copied) < 0 ||
            json_to_string(o, JSON_C_TO_STRING_PLAIN, &text) < 0)
                return log_oom();
        puts(text);
        return 0;
}

static int run(VerbContext *ctx) {
        _cleanup_close_ int src = -EBADF, dst = -EBADF;
        _cleanup_free_ char *hex = NULL;
        const char *image = arg.image, *copy_to = arg.copy_to;
        uint64_t dst_size = 0;
        RootCopyResult res;
        int r;

        src = open(image, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (src < 0)
                return log_error_errno(errno, "Failed to open '%s': %m", image);

        if (copy_to) {
                /* Never create or truncate: the destination is an existing file or device, as at boot. */
                dst = open(copy_to, O_WRONLY | O_CLOEXEC | O_NOCTTY);
                if (dst < 0)
                        return log_error_errno(errno, "Failed to open '%s' for writing: %m", copy_to);
                r = fd_get_size(dst, &dst_size);
                if (r < 0)
                        return log_error_errno(r, "Failed to get the size of '%s': %m", copy_to);
        }

        r = root_copy(src, dst, dst_size, &res);
        if (r == -ENOSPC)
                return log_error_errno(r, "Failed to copy '%s' to '%s': the copy needs %" PRIu64 " bytes, the destination has %" PRIu64 ".",
                                       image, strempty(copy_to), res.needed, dst_size);
        if (r < 0)
                return log_error_errno(r, "Failed to %s '%s': %m", copy_to ? "copy" : "hash", image);

        hex = hexmem(res.hash.bytes, res.hash.size);
        if (!hex)
                return log_oom();
        if (!arg.json) {
                printf("sha256:%s\n", hex);
                return 0;
        }
        return print_json(hex, &res);
}

static const struct option options[] = {
        { "copy-to", required_argument, NULL, ARG_COPY_TO },
        { "json", no_argument, NULL, ARG_JSON },
        {},
};

const Verb verb_root_hash = {
        .name = "root-hash",
        .synopsis = "IMAGE [--copy-to FILE] [--json]",
        .help = "Print the root hash copy mode computes for an OS root image (for root-hash=),\n"
                "and with --copy-to copy it into an existing file or device as the boot does.",
        .options = options,
        .parse_option = parse_option,
        .parse_args = parse_args,
        .run = run,
};
