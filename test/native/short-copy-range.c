/*
 * Test-only LD_PRELOAD shim: copy_file_range copies at most FXCFR_MAX bytes per call (a short
 * count, which the kernel may legally return at any time) and appends one line per call to
 * FXCFR_LOG. test/fs/copy-data.test.ts loads it into a child process to check that the copier
 * continues short copies at the right offsets. The native addon calls glibc's wrapper, which
 * this replaces; calls that bypass the C library are not seen.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*cfr_fn)(int, loff_t *, int, loff_t *, size_t, unsigned int);

ssize_t copy_file_range(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len, unsigned int flags) {
  static cfr_fn real;
  if (!real) real = (cfr_fn)dlsym(RTLD_NEXT, "copy_file_range");
  const char *max = getenv("FXCFR_MAX");
  size_t cap = max ? (size_t)atol(max) : len;
  ssize_t n = real(fd_in, off_in, fd_out, off_out, len < cap ? len : cap, flags);
  const char *log = getenv("FXCFR_LOG");
  if (log) {
    FILE *f = fopen(log, "a");
    if (f) { fprintf(f, "%zu %zd\n", len, n); fclose(f); }
  }
  return n;
}
