/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* DNS in the initramfs. initramfs-tools' ipconfig records what DHCP (or ip=) gave in
 * /run/net-<device>.conf, and DHCPv6 in /run/net6-<device>.conf, as NAME='value' lines (IPV4DNS0,
 * IPV4DNS1, IPV6DNS0, IPV6DNS1, DNSDOMAIN, DOMAINSEARCH, IPV6DOMAINSEARCH), but glibc's resolver
 * reads only /etc/resolv.conf, which the initramfs does not have: without it a broker named by a
 * host name cannot be reached. Those values come from the network (the host), so only well-formed
 * addresses and domain names are written, never anything else; the broker is authenticated by TLS,
 * not by its address. */

#define RESOLV_NETCONF_FILES_MAX 16
#define RESOLV_NETCONF_SIZE_MAX (64U * 1024U)
#define RESOLV_NAMESERVERS_MAX 3 /* glibc's MAXNS */
#define RESOLV_SEARCH_MAX 6

/* The text of a resolv.conf from DIR/net-*.conf and DIR/net6-*.conf: at most 3 name servers and 6
 * search domains, in file order, without duplicates; malformed values are skipped with a warning naming file and key.
 * -ENOENT: no name server was learnt. */
int resolv_conf_build(const char *netconf_dir, char **ret);

/* Writes PATH from resolv_conf_build() unless PATH exists (then it is left alone: 0). 1: written
 * (0644, never following a symlink); -ENOENT: no name server learnt, nothing written. */
int resolv_conf_ensure(const char *netconf_dir, const char *path);
