/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "measure.h"
#include "util.h"

static const char *const event_type_names[_MEASURE_EVENT_TYPE_MAX] = {
        [MEASURE_EVENT_KERNEL] = "kernel",
        [MEASURE_EVENT_INITRD] = "initrd",
        [MEASURE_EVENT_CMDLINE] = "cmdline",
        [MEASURE_EVENT_DISK] = "disk",
        [MEASURE_EVENT_VOLUME_KEY] = "volume-key",
        [MEASURE_EVENT_LEAVE_INITRD] = "leave-initrd",
        [MEASURE_EVENT_FAILURE] = "failure",
        [MEASURE_EVENT_HOST_MOUNTS] = "host-mounts",
        [MEASURE_EVENT_VERITY] = "verity",
};

const char *measure_event_type_to_string(MeasureEventType t) {
        return t < _MEASURE_EVENT_TYPE_MAX ? event_type_names[t] : NULL;
}

void measure_cmdline_normalize(char *cmdline) {
        size_t l = strlen(cmdline);

        if (l > 0 && cmdline[l - 1] == '\n')
                cmdline[l - 1] = '\0';
}

void measure_event_done(MeasureEvent *e) {
        if (!e)
                return;
        e->path = mfree(e->path);
        e->string = mfree(e->string);
        e->kernel_release = mfree(e->kernel_release);
        e->kernel_build_id = mfree(e->kernel_build_id);
}

void measure_events_free(MeasureEvent *events, size_t n) {
        for (size_t i = 0; i < n && events; i++)
                measure_event_done(events + i);
        free(events);
}

static int event_from_file(MeasureEventType type, unsigned pcr, const char *root, const char *path, unsigned banks,
                           MeasureEvent *ret) {
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int fd = -EBADF;
        MeasureEvent e = { .type = type, .pcr = pcr, .banks = banks };
        const char *what = measure_event_type_to_string(type);
        struct stat st;
        int r;

        /* The name the log records and the messages use: where the file is, seen from here. */
        if (asprintf(&name, "%s%s%s", root && !streq(root, "/") ? root : "", root && path[0] != '/' ? "/" : "",
                     path) < 0)
                return log_oom();

        /* Not led elsewhere: inside the OS root (never into the initramfs), not through a symlink, and
         * never blocking on a FIFO (it opens at once and is refused below as not a regular file). */
        fd = open_in_root(root, path, O_NOFOLLOW);
        if (fd == -ELOOP)
                return log_error_errno(fd, "Failed to open %s '%s': it is a symbolic link, refusing to follow it.",
                                       what, name);
        if (fd < 0)
                return log_error_errno(fd, "Failed to open %s '%s': %m", what, name);
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Failed to stat %s '%s': %m", what, name);
        if (!S_ISREG(st.st_mode))
                return log_error_errno(SYNTHETIC_ERRNO(EBADFD), "Failed to measure %s '%s': not a regular file.",
                                       what, name);
        if ((uint64_t) st.st_size > MEASURE_FILE_SIZE_MAX)
                return log_error_errno(SYNTHETIC_ERRNO(EFBIG), "Failed to measure %s '%s': larger than %llu bytes.",
                                       what, name, MEASURE_FILE_SIZE_MAX);

        r = hash_fd(fd, MEASURE_FILE_SIZE_MAX, banks, e.digests, &e.size);
        if (r < 0)
                return log_error_errno(r, "Failed to hash %s '%s': %m", what, name);

        e.path = TAKE_PTR(name);
        *ret = e;
        return 0;
}

static int event_from_string(MeasureEventType type, unsigned pcr, const char *s, unsigned banks, MeasureEvent *ret) {
        MeasureEvent e = { .type = type, .pcr = pcr, .banks = banks, .size = strlen(s) };
        int r;

        FOREACH_HASH_ALG(a, banks) {
                r = hash_buffer(a, s, strlen(s), e.digests + a);
                if (r < 0)
                        return log_error_errno(r, "Failed to hash %s: %m", measure_event_type_to_string(type));
        }
        e.string = strdup(s);
        if (!e.string)
                return log_oom();

        *ret = e;
        return 0;
}

int measure_event_build_string(MeasureEventType t, unsigned pcr, unsigned banks, const char *string,
                               MeasureEvent *ret) {
        assert_return(t < _MEASURE_EVENT_TYPE_MAX && string && ret, -EINVAL);
        assert_return(pcr < MEASURE_PCR_COUNT, -EINVAL);
        assert_return(banks != 0 && (banks & ~HASH_ALL) == 0, -EINVAL);

        return event_from_string(t, pcr, string, banks, ret);
}

int measure_event_build_hmac(MeasureEventType t, unsigned pcr, unsigned banks, const char *string, const Secret *key,
                             MeasureEvent *ret) {
        MeasureEvent e = { .type = t, .pcr = pcr, .banks = banks, .size = 0 };
        int r;

        assert_return(t < _MEASURE_EVENT_TYPE_MAX && string && key && ret, -EINVAL);
        assert_return(pcr < MEASURE_PCR_COUNT, -EINVAL);
        assert_return(banks != 0 && (banks & ~HASH_ALL) == 0, -EINVAL);

        e.size = strlen(string);
        FOREACH_HASH_ALG(a, banks) {
                r = hash_hmac(a, key->data, key->size, string, e.size, e.digests + a);
                if (r < 0)
                        return log_error_errno(r, "Failed to compute the HMAC for the %s event: %m",
                                               measure_event_type_to_string(t));
        }
        e.string = strdup(string);
        if (!e.string)
                return log_oom();

        *ret = e;
        return 0;
}

int measure_events_build(const Config *c, const MeasureInputs *in, unsigned banks, MeasureEvent **ret,
                         size_t *ret_n) {
        MeasureEvent *events;
        size_t n = 0;
        int r;

        assert_return(c && in && ret && ret_n, -EINVAL);
        assert_return(in->kernel && in->initrd && in->cmdline, -EINVAL);
        assert_return(banks != 0 && (banks & ~HASH_ALL) == 0, -EINVAL);

        events = calloc(_MEASURE_EVENT_TYPE_MAX, sizeof(MeasureEvent));
        if (!events)
                return log_oom();

        r = event_from_file(MEASURE_EVENT_KERNEL, c->pcr_kernel, in->root, in->kernel, banks, events + n);
        if (r < 0)
                goto fail;
        n++;

        r = event_from_file(MEASURE_EVENT_INITRD, c->pcr_initrd, in->root, in->initrd, banks, events + n);
        if (r < 0)
                goto fail;
        n++;

        r = event_from_string(MEASURE_EVENT_CMDLINE, c->pcr_cmdline, in->cmdline, banks, events + n);
        if (r < 0)
                goto fail;
        n++;

        *ret = events;
        *ret_n = n;
        return 0;

fail:
        measure_events_free(events, n);
        return r;
}

int measure_replay_onto(const MeasureEvent *events, size_t n, PcrValues *v) {
        int r;

        assert_return(v && (events || n == 0), -EINVAL);

        for (size_t i = 0; i < n; i++) {
                const MeasureEvent *e = events + i;

                if (e->pcr >= MEASURE_PCR_COUNT || (e->banks & v->banks) != v->banks)
                        return -EINVAL;
                FOREACH_HASH_ALG(a, v->banks) {
                        r = hash_extend(&v->values[e->pcr][a], e->digests + a);
                        if (r < 0)
                                return r;
                }
                v->pcr_mask |= 1U << e->pcr;
        }
        return 0;
}

int measure_replay(const MeasureEvent *events, size_t n, unsigned banks, PcrValues *ret) {
        PcrValues v = { .banks = banks };
        int r;

        assert_return(ret && (events || n == 0), -EINVAL);

        for (unsigned p = 0; p < MEASURE_PCR_COUNT; p++)
                FOREACH_HASH_ALG(a, banks)
                        hash_zero(a, &v.values[p][a]);
        r = measure_replay_onto(events, n, &v);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

int measure_event_set_kernel_info(MeasureEvent *e, const char *release, const char *build_id) {
        assert_return(e, -EINVAL);

        if (free_and_strdup(&e->kernel_release, release) < 0 || free_and_strdup(&e->kernel_build_id, build_id) < 0)
                return -ENOMEM;
        return 0;
}

#define ALIGN4(x) (((x) + 3U) & ~(size_t) 3U)
#define NT_GNU_BUILD_ID 3U
#define BUILD_ID_SIZE_MAX 64U

int elf_notes_find_build_id(const void *notes, size_t size, char **ret_hex) {
        const uint8_t *p = notes;
        size_t off = 0;

        assert_return(notes || size == 0, -EINVAL);
        assert_return(ret_hex, -EINVAL);

        /* Each note: u32 namesz, u32 descsz, u32 type, name (padded to 4), desc (padded to 4). Every size
         * is checked against what is left before it is used. */
        while (size - off >= 12) {
                uint32_t namesz, descsz, type;
                size_t name_len, desc_len;

                memcpy(&namesz, p + off, 4);
                memcpy(&descsz, p + off + 4, 4);
                memcpy(&type, p + off + 8, 4);
                off += 12;

                name_len = ALIGN4((size_t) namesz);
                desc_len = ALIGN4((size_t) descsz);
                if (namesz > size || descsz > size || name_len > size - off || desc_len > size - off - name_len)
                        return -EBADMSG;

                if (type == NT_GNU_BUILD_ID && namesz == 4 && memcmp(p + off, "GNU", 4) == 0) {
                        char *hex;

                        if (descsz == 0 || descsz > BUILD_ID_SIZE_MAX)
                                return -EBADMSG;
                        hex = hexmem(p + off + name_len, descsz);
                        if (!hex)
                                return -ENOMEM;
                        *ret_hex = hex;
                        return 0;
                }
                off += name_len + desc_len;
        }

        return off == size ? -ENOENT : -EBADMSG;
}
