/* SPDX-License-Identifier: LGPL-2.1-or-later */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>

#include "log.h"
#include "net-resolv.h"
#include "util.h"

static int path_compare(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

typedef struct ResolvData {
        char nameservers[RESOLV_NAMESERVERS_MAX][INET6_ADDRSTRLEN];
        size_t n_nameservers;
        char search[RESOLV_SEARCH_MAX][255]; /* 253 characters, a trailing dot, the NUL */
        size_t n_search;
        char sources[256]; /* the files that gave something, for the comment line */
} ResolvData;

/* A host name as resolv.conf's search takes it: labels of letters, digits and '-', 1..63 each,
 * 253 in all, plus one trailing dot allowed. */
static bool domain_is_valid(const char *s) {
        size_t n = strlen(s), label = 0;

        if (n > 1 && s[n - 1] == '.')
                n--; /* one trailing dot: the root */
        if (n == 0 || n > 253)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                           (c == '-' && label > 0)) {
                        if (++label > 63)
                                return false;
                } else
                        return false;
        }
        return label > 0 && s[n - 1] != '-';
}

static void add_nameserver(ResolvData *d, const char *file, const char *key, const char *v) {
        unsigned char buf[sizeof(struct in6_addr)];
        char text[INET6_ADDRSTRLEN];
        int family = strchr(v, ':') ? AF_INET6 : AF_INET;

        if (isempty(v))
                return;
        if (inet_pton(family, v, buf) != 1 || !inet_ntop(family, buf, text, sizeof(text))) {
                log_warning("%s: %s='%s' is not an IP address, ignored.", file, key, v);
                return;
        }
        /* ipconfig writes 0.0.0.0 for "none". */
        if (streq(text, "0.0.0.0") || streq(text, "::"))
                return;
        for (size_t i = 0; i < d->n_nameservers; i++)
                if (streq(d->nameservers[i], text))
                        return;
        if (d->n_nameservers >= RESOLV_NAMESERVERS_MAX) {
                log_debug("%s: %s=%s: already %d name servers, ignored.", file, key, text, RESOLV_NAMESERVERS_MAX);
                return;
        }
        strcpy(d->nameservers[d->n_nameservers++], text);
}

static void add_search(ResolvData *d, const char *file, const char *key, const char *v) {
        _cleanup_free_ char *copy = strdup(v);
        char *save = NULL;

        if (!copy)
                return;
        for (char *w = strtok_r(copy, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
                bool dup = false;
                if (!domain_is_valid(w)) {
                        log_warning("%s: %s: '%s' is not a domain name, ignored.", file, key, w);
                        continue;
                }
                for (size_t i = 0; i < d->n_search; i++)
                        dup = dup || strcasecmp(d->search[i], w) == 0;
                if (dup || d->n_search >= RESOLV_SEARCH_MAX)
                        continue;
                strcpy(d->search[d->n_search++], w);
        }
}

/* One NAME='value' (or NAME=value) line; values with a quote, a backslash, a control or a non-ASCII
 * character inside are refused rather than unquoted. */
static void parse_line(ResolvData *d, const char *file, char *line, bool *got_domainsearch, char **dnsdomain) {
        char *eq = strchr(line, '='), *v;
        size_t n;

        if (!eq)
                return;
        *eq = 0;
        v = eq + 1;
        n = strlen(v);
        if (n >= 2 && v[0] == '\'' && v[n - 1] == '\'') {
                v[n - 1] = 0;
                v++;
        }
        for (const char *p = v; *p; p++)
                if (*p == '\'' || *p == '"' || *p == '\\' || (unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f) {
                        if (STR_IN_SET(line, "IPV4DNS0", "IPV4DNS1", "IPV6DNS0", "IPV6DNS1", "DOMAINSEARCH",
                                       "IPV6DOMAINSEARCH", "DNSDOMAIN"))
                                log_warning("%s: %s has a quote, a backslash, a control or a non-ASCII character, ignored.",
                                            file, line);
                        return;
                }

        if (STR_IN_SET(line, "IPV4DNS0", "IPV4DNS1", "IPV6DNS0", "IPV6DNS1"))
                add_nameserver(d, file, line, v);
        else if (STR_IN_SET(line, "DOMAINSEARCH", "IPV6DOMAINSEARCH") && !isempty(v)) {
                add_search(d, file, line, v);
                *got_domainsearch = true;
        } else if (streq(line, "DNSDOMAIN") && !isempty(v))
                (void) free_and_strdup(dnsdomain, v);
}

static int parse_file(ResolvData *d, const char *path) {
        _cleanup_free_ char *text = NULL, *dnsdomain = NULL;
        bool got_domainsearch = false;
        size_t before = d->n_nameservers + d->n_search;
        char *save = NULL;
        int r;

        r = read_full_file_bounded(path, RESOLV_NETCONF_SIZE_MAX, &text, NULL);
        if (r < 0)
                return log_warning_errno(r, "Failed to read %s, ignored: %m", path);
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                parse_line(d, path, line, &got_domainsearch, &dnsdomain);
        /* DOMAINSEARCH is the search list; DNSDOMAIN only when there is none. */
        if (!got_domainsearch && dnsdomain)
                add_search(d, path, "DNSDOMAIN", dnsdomain);

        if (d->n_nameservers + d->n_search > before) {
                size_t l = strlen(d->sources);
                snprintf(d->sources + l, sizeof(d->sources) - l, "%s%s", l ? " " : "", path);
        }
        return 0;
}

int resolv_conf_build(const char *netconf_dir, char **ret) {
        _cleanup_free_ char *pattern = NULL, *pattern6 = NULL;
        _cleanup_free_ char *out = NULL;
        _cleanup_(globfree) glob_t g = {};
        ResolvData d = {};
        size_t size = 0;
        FILE *f;
        int r;

        /* net-<dev>.conf from DHCP or ip=, net6-<dev>.conf from DHCPv6. */
        if (asprintf(&pattern, "%s/net-*.conf", netconf_dir) < 0 ||
            asprintf(&pattern6, "%s/net6-*.conf", netconf_dir) < 0)
                return log_oom();
        r = glob(pattern, GLOB_NOSORT | GLOB_ERR, NULL, &g);
        if (IN_SET(r, 0, GLOB_NOMATCH))
                r = glob(pattern6, GLOB_NOSORT | GLOB_ERR | (r == 0 ? GLOB_APPEND : 0), NULL, &g);
        if (r == GLOB_NOMATCH && g.gl_pathc == 0)
                return log_debug_errno(SYNTHETIC_ERRNO(ENOENT), "No %s: no network configured by initramfs-tools.", pattern);
        if (!IN_SET(r, 0, GLOB_NOMATCH))
                return log_warning_errno(SYNTHETIC_ERRNO(EIO), "Failed to list %s.", pattern);
        qsort(g.gl_pathv, g.gl_pathc, sizeof(char *), path_compare);
        if (g.gl_pathc > RESOLV_NETCONF_FILES_MAX)
                log_warning("%zu files match %s, reading the first %d.", g.gl_pathc, pattern, RESOLV_NETCONF_FILES_MAX);

        for (size_t i = 0; i < MIN(g.gl_pathc, (size_t) RESOLV_NETCONF_FILES_MAX); i++)
                (void) parse_file(&d, g.gl_pathv[i]);

        if (d.n_nameservers == 0)
                return log_debug_errno(SYNTHETIC_ERRNO(ENOENT), "No name server in %s.", pattern);

        f = open_memstream(&out, &size);
        if (!f)
                return log_oom();
        fprintf(f, "# Written by ephroot in the initramfs from %s\n", d.sources);
        for (size_t i = 0; i < d.n_nameservers; i++)
                fprintf(f, "nameserver %s\n", d.nameservers[i]);
        if (d.n_search > 0) {
                fputs("search", f);
                for (size_t i = 0; i < d.n_search; i++)
                        fprintf(f, " %s", d.search[i]);
                fputc('\n', f);
        }
        /* The attestation has its own deadline; fail over between servers within it. */
        fputs("options timeout:2 attempts:2\n", f);
        if (fclose(f) != 0)
                return log_oom();

        *ret = TAKE_PTR(out);
        return 0;
}

int resolv_conf_ensure(const char *netconf_dir, const char *path) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (lstat(path, &st) == 0) {
                log_debug("%s exists, left as it is.", path);
                return 0;
        }
        if (errno != ENOENT)
                return log_warning_errno(errno, "Failed to check %s: %m", path);

        r = resolv_conf_build(netconf_dir, &text);
        if (r < 0)
                return r;

        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return log_warning_errno(errno, "Failed to create %s: %m", path);
        r = loop_write(fd, text, strlen(text));
        if (r < 0) {
                (void) unlink(path);
                return log_warning_errno(r, "Failed to write %s: %m", path);
        }
        /* One line for the log: the settings after the comment, joined. */
        {
                char *body = strchr(text, '\n');
                body = body ? body + 1 : text;
                for (char *p = body; *p; p++)
                        if (*p == '\n')
                                *p = p[1] ? ';' : 0;
                log_info("Wrote %s from initramfs-tools' network configuration: %s", path, body);
        }
        return 1;
}
