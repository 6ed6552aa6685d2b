/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "config.h"

/* The I/O around the parsers: reads the configuration file (bounded; a missing file is fine unless
 * `required`) and then applies the kernel command line text, in that order. Logs failures. */
int config_load(Config *c, const char *path, bool required, const char *cmdline);

/* Reads a kernel command line file such as /proc/cmdline, bounded, with procfs's newline removed. */
int cmdline_read(const char *path, char **ret);
