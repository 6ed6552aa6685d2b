/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE

#include "config-load.h"
#include "log.h"
#include "measure.h"
#include "util.h"

int config_load(Config *c, const char *path, bool required, const char *cmdline) {
        int r;

        assert_return(c, -EINVAL);

        if (path) {
                _cleanup_free_ char *text = NULL;
                size_t size;

                r = read_full_file_bounded(path, CONFIG_FILE_SIZE_MAX, &text, &size);
                if (r == -ENOENT && !required)
                        log_debug("No configuration file '%s', using built-in defaults.", path);
                else if (r == -EFBIG)
                        return log_error_errno(r, "Failed to read configuration '%s': larger than %u bytes.", path,
                                               CONFIG_FILE_SIZE_MAX);
                else if (r < 0)
                        return log_error_errno(r, "Failed to read configuration '%s': %m", path);
                else if (memchr(text, '\0', size))
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                               "Failed to read configuration '%s': contains a NUL byte.", path);
                else {
                        r = config_parse_text(c, text, path);
                        if (r < 0)
                                return r;
                }
        }

        if (cmdline) {
                r = config_parse_cmdline(c, cmdline);
                if (r < 0)
                        return r;
        }

        return 0;
}

int cmdline_read(const char *path, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_full_file_bounded(path, CMDLINE_SIZE_MAX, &text, &size);
        if (r == -EFBIG)
                return log_error_errno(r, "Failed to read command line '%s': larger than %u bytes.", path,
                                       CMDLINE_SIZE_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to read command line '%s': %m", path);
        if (memchr(text, '\0', size))
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Failed to read command line '%s': contains a NUL byte.",
                                       path);
        measure_cmdline_normalize(text);
        *ret = TAKE_PTR(text);
        return 0;
}
