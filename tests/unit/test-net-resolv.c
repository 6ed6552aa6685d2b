/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* resolv.conf from initramfs-tools' /run/net-*.conf (src/ephroot/attest/net-resolv.c): the format klibc's ipconfig
 * writes, several interfaces, IPv6, the bounds, and every kind of malformed or hostile value. */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "net-resolv.h"
#include "util.h"

static char dir[] = "/tmp/test-net-resolv.XXXXXX";

static void put(const char *name, const char *text) {
        char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void clean(void) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'/* '%s'/.[!.]*", dir, dir);
        assert_int_equal(system(cmd), 0);
}

static int setup(void **state) {
        (void) state;
        clean();
        return 0;
}

/* What klibc's ipconfig writes after DHCP from QEMU's user network. */
#define IPCONFIG_DHCP                              \
        "DEVICE='enp0s2'\n"                        \
        "PROTO='dhcp'\n"                           \
        "IPV4ADDR='10.0.2.15'\n"                   \
        "IPV4BROADCAST='10.0.2.255'\n"             \
        "IPV4NETMASK='255.255.255.0'\n"            \
        "IPV4GATEWAY='10.0.2.2'\n"                 \
        "IPV4DNS0='10.0.2.3'\n"                    \
        "IPV4DNS1='0.0.0.0'\n"                     \
        "HOSTNAME=''\n"                            \
        "DNSDOMAIN=''\n"                           \
        "NISDOMAIN=''\n"                           \
        "ROOTSERVER='10.0.2.2'\n"                  \
        "ROOTPATH=''\n"                            \
        "filename=''\n"                            \
        "UPTIME='3'\n"                             \
        "DHCPLEASETIME='86400'\n"                  \
        "DOMAINSEARCH=''\n"

static void test_ipconfig(void **state) {
        char *out = NULL;

        (void) state;
        put("net-enp0s2.conf", IPCONFIG_DHCP);
        assert_int_equal(resolv_conf_build(dir, &out), 0);
        assert_non_null(strstr(out, "# Written by ephroot in the initramfs from "));
        assert_non_null(strstr(out, "/net-enp0s2.conf\nnameserver 10.0.2.3\noptions timeout:2 attempts:2\n"));
        assert_null(strstr(out, "0.0.0.0"));
        assert_null(strstr(out, "search"));
        free(out);
}

static void test_azure_like(void **state) {
        char *out = NULL;

        (void) state;
        /* Azure's DHCP: 168.63.129.16, a search domain; a second NIC with another server and the same
         * domain; a file that is not net-*.conf. */
        put("net-eth0.conf", "DEVICE='eth0'\nIPV4DNS0='168.63.129.16'\nIPV4DNS1='0.0.0.0'\n"
                             "DNSDOMAIN='abc.internal.cloudapp.net'\nDOMAINSEARCH='abc.internal.cloudapp.net'\n");
        put("net-eth1.conf", "DEVICE='eth1'\nIPV4DNS0='168.63.129.16'\nIPV4DNS1='10.1.0.4'\n"
                             "DOMAINSEARCH='ABC.internal.cloudapp.net corp.example'\n");
        put("other.conf", "IPV4DNS0='9.9.9.9'\n");
        assert_int_equal(resolv_conf_build(dir, &out), 0);
        assert_non_null(strstr(out, "\nnameserver 168.63.129.16\nnameserver 10.1.0.4\n"
                                    "search abc.internal.cloudapp.net corp.example\n"));
        assert_null(strstr(out, "9.9.9.9"));
        free(out);

        /* DNSDOMAIN is the search list only without DOMAINSEARCH; unquoted values are read too. */
        clean();
        put("net-eth0.conf", "IPV4DNS0=192.0.2.53\nDNSDOMAIN=example.org\n");
        assert_int_equal(resolv_conf_build(dir, &out), 0);
        assert_non_null(strstr(out, "\nnameserver 192.0.2.53\nsearch example.org\n"));
        free(out);
}

static void test_ipv6_and_bounds(void **state) {
        char *out = NULL, text[4096] = "";

        (void) state;
        put("net-a.conf", "IPV6DNS0='2001:db8::53'\nIPV6DNS1='::'\nIPV4DNS0='192.0.2.1'\n");
        put("net-b.conf", "IPV4DNS0='192.0.2.2'\nIPV4DNS1='192.0.2.3'\n");
        put("net-c.conf", "IPV4DNS0='192.0.2.4'\n");
        assert_int_equal(resolv_conf_build(dir, &out), 0);
        /* three at most (glibc's MAXNS), in file order */
        assert_non_null(strstr(out, "\nnameserver 2001:db8::53\nnameserver 192.0.2.1\nnameserver 192.0.2.2\noptions"));
        assert_null(strstr(out, "192.0.2.3"));
        free(out);

        /* DHCPv6: net6-<dev>.conf, after the IPv4 files */
        clean();
        put("net6-eth0.conf", "DEVICE6='eth0'\nIPV6DNS0='2001:db8::1'\nIPV6DOMAINSEARCH='v6.example'\n");
        put("net-eth0.conf", "IPV4DNS0='192.0.2.1'\n");
        assert_int_equal(resolv_conf_build(dir, &out), 0);
        assert_non_null(strstr(out, "\nnameserver 192.0.2.1\nnameserver 2001:db8::1\nsearch v6.example\n"));
        free(out);
        clean();
        put("net6-eth0.conf", "IPV6DNS0='2001:db8::2'\n");
        assert_int_equal(resolv_conf_build(dir, &out), 0);
        assert_non_null(strstr(out, "\nnameserver 2001:db8::2\n"));
        free(out);

        /* the longest domain (253 characters) with its trailing dot, six times: it fits, whole */
        clean();
        {
                char label[64], dom[256];
                memset(label, 'a', 63);
                label[63] = 0;
                snprintf(dom, sizeof(dom), "%s.%s.%s.%.61s.", label, label, label, label);
                assert_int_equal(strlen(dom), 254);
                strcpy(text, "IPV4DNS0='192.0.2.1'\nDOMAINSEARCH='");
                for (int i = 0; i < 6; i++) {
                        dom[0] = (char) ('a' + i);
                        sprintf(text + strlen(text), "%s ", dom);
                }
                strcat(text, "'\n");
                put("net-eth0.conf", text);
                assert_int_equal(resolv_conf_build(dir, &out), 0);
                assert_non_null(strstr(out, dom)); /* the sixth, whole */
                dom[0] = 'a';
                assert_non_null(strstr(out, dom));
                free(out);
                /* one character more is refused */
                strcpy(text, "IPV4DNS0='192.0.2.1'\nDOMAINSEARCH='b");
                strcat(text, dom);
                strcat(text, "'\n");
                put("net-eth0.conf", text);
                assert_int_equal(resolv_conf_build(dir, &out), 0);
                assert_null(strstr(out, "search"));
                free(out);
                text[0] = 0;
        }

        /* six search domains at most */
        clean();
        strcat(text, "IPV4DNS0='192.0.2.1'\nDOMAINSEARCH='");
        for (int i = 0; i < 9; i++)
                sprintf(text + strlen(text), "d%d.example ", i);
        strcat(text, "'\n");
        put("net-eth0.conf", text);
        assert_int_equal(resolv_conf_build(dir, &out), 0);
        assert_non_null(strstr(out, "search d0.example d1.example d2.example d3.example d4.example d5.example\n"));
        assert_null(strstr(out, "d6.example"));
        free(out);
}

static void test_hostile(void **state) {
        char *out = NULL, big[RESOLV_NETCONF_SIZE_MAX + 64];

        (void) state;
        /* Values that would inject lines or options into resolv.conf, or that are not addresses. */
        put("net-eth0.conf", "IPV4DNS0='10.0.0.1\noptions ndots:15'\n"
                             "IPV4DNS1='10.0.0.2 options'\n"
                             "IPV6DNS0='not-an-address'\n"
                             "IPV6DNS1='1.2.3.4.5'\n"
                             "DOMAINSEARCH='good.example bad..example -bad.example bad-.example last- root.example. x.'\n"
                             "DNSDOMAIN='ignored.example'\n");
        put("net-eth1.conf", "IPV4DNS0='192.0.2.9'\nIPV4DNS1='\"192.0.2.8\"'\nIPV4DNS0='192.0.2.7'\x01\n"
                             "DOMAINSEARCH='x\\y.example'\n"
                             "DNSDOMAIN='c1\x9b[2J.example'\n");
        assert_int_equal(resolv_conf_build(dir, &out), 0);
        /* '10.0.0.1 lacks its closing quote (refused); the next line is no NAME=value */
        assert_null(strstr(out, "10.0.0.1"));
        assert_non_null(strstr(out, "\nnameserver 192.0.2.9\n"));
        assert_null(strstr(out, "ndots"));
        assert_null(strstr(out, "10.0.0.2"));
        assert_null(strstr(out, "not-an"));
        assert_null(strstr(out, "1.2.3.4.5"));
        assert_null(strstr(out, "192.0.2.8"));
        assert_null(strstr(out, "192.0.2.7"));
        assert_non_null(strstr(out, "search good.example root.example. x.\n"));
        assert_null(strstr(out, "last-"));
        assert_null(strstr(out, "c1"));
        assert_null(strstr(out, "bad"));
        assert_null(strstr(out, "ignored"));
        assert_null(strstr(out, "y.example"));
        for (const char *p = out; *p; p++)
                assert_true(*p == '\n' || (*p >= 0x20 && *p < 0x7f));
        free(out);

        /* Nothing learnt: no file, only 0.0.0.0, an oversized file. */
        clean();
        assert_int_equal(resolv_conf_build(dir, &out), -ENOENT);
        put("net-eth0.conf", IPCONFIG_DHCP);
        put("net-eth0.conf", "IPV4DNS0='0.0.0.0'\nIPV4DNS1='0.0.0.0'\n");
        assert_int_equal(resolv_conf_build(dir, &out), -ENOENT);
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        memcpy(big, "IPV4DNS0='192.0.2.1'\n", 21);
        put("net-eth0.conf", big);
        assert_int_equal(resolv_conf_build(dir, &out), -ENOENT);
}

static void test_ensure(void **state) {
        char path[256], link[256], *text = NULL;
        struct stat st;

        (void) state;
        snprintf(path, sizeof(path), "%s/resolv.conf", dir);
        put("net-eth0.conf", IPCONFIG_DHCP);
        assert_int_equal(resolv_conf_ensure(dir, path), 1);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        assert_int_equal(read_full_file_bounded(path, 4096, &text, NULL), 0);
        assert_non_null(strstr(text, "\nnameserver 10.0.2.3\n"));
        free(text);

        /* an existing file (the image's own, or one initramfs-tools wrote) is left alone */
        put("resolv.conf", "nameserver 192.0.2.200\n");
        assert_int_equal(resolv_conf_ensure(dir, path), 0);
        assert_int_equal(read_full_file_bounded(path, 4096, &text, NULL), 0);
        assert_string_equal(text, "nameserver 192.0.2.200\n");
        free(text);

        /* a dangling symlink is not followed (its target is not created) */
        assert_int_equal(unlink(path), 0);
        snprintf(link, sizeof(link), "%s/elsewhere", dir);
        assert_int_equal(symlink(link, path), 0);
        assert_int_equal(resolv_conf_ensure(dir, path), 0);
        assert_int_equal(access(link, F_OK), -1);

        /* nothing learnt: nothing written */
        assert_int_equal(unlink(path), 0);
        put("net-eth0.conf", "IPV4DNS0='0.0.0.0'\n");
        assert_int_equal(resolv_conf_ensure(dir, path), -ENOENT);
        assert_int_equal(access(path, F_OK), -1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_ipconfig, setup),
                cmocka_unit_test_setup(test_azure_like, setup),
                cmocka_unit_test_setup(test_ipv6_and_bounds, setup),
                cmocka_unit_test_setup(test_hostile, setup),
                cmocka_unit_test_setup(test_ensure, setup),
        };
        int r;

        log_set_target(LOG_TARGET_STDERR);
        if (!mkdtemp(dir))
                return 1;
        r = cmocka_run_group_tests(tests, NULL, NULL);
        clean();
        (void) rmdir(dir);
        return r;
}
