/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Without libFuzzer: feeds each file named on the command line (or each file in each directory)
 * to the harness once, so the corpus runs as an ordinary test, under valgrind too. */

#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
        char *buf = NULL;
        size_t n;
        int r;

        r = read_full_file_bounded(path, 1024 * 1024, &buf, &n);
        if (r < 0) {
                fprintf(stderr, "Failed to read '%s': %s\n", path, strerror(-r));
                return r;
        }
        (void) LLVMFuzzerTestOneInput((const uint8_t *) buf, n);
        free(buf);
        return 0;
}

int main(int argc, char **argv) {
        unsigned count = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        perror(argv[i]);
                        return EXIT_FAILURE;
                }
                if (S_ISDIR(st.st_mode)) {
                        struct dirent **names;
                        int n = scandir(argv[i], &names, NULL, alphasort);
                        if (n < 0)
                                return EXIT_FAILURE;
                        for (int j = 0; j < n; j++) {
                                char *p;
                                if (names[j]->d_name[0] != '.' && asprintf(&p, "%s/%s", argv[i], names[j]->d_name) >= 0) {
                                        if (run_file(p) < 0)
                                                return EXIT_FAILURE;
                                        count++;
                                        free(p);
                                }
                                free(names[j]);
                        }
                        free(names);
                } else {
                        if (run_file(argv[i]) < 0)
                                return EXIT_FAILURE;
                        count++;
                }
        }
        printf("replayed %u inputs\n", count);
        return count > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
