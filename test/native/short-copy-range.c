/*
 * Test-only LD_PRELOAD shim for the copier's kernel routes. copy_file_range copies at most
 * FXCFR_MAX bytes per call (a short count, which the kernel may legally return at any time) and
 * appends one line per call to FXCFR_LOG. sendfile fails with errno FXSEND_ERRNO when that is
 * set (a file system that refuses it). test/fs/copy-data.test.ts loads it into a child process.
 * The native addon calls glibc's wrappers, which these replace; calls that bypass the C library
 * are not seen.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sendfile.h>
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

typedef ssize_t (*sendfile_fn)(int, int, off_t *, size_t);

static ssize_t refuse_or(const char *name, int out_fd, int in_fd, off_t *offset, size_t count) {
  const char *e = getenv("FXSEND_ERRNO");
  if (e) {
    errno = atoi(e);
    return -1;
  }
  sendfile_fn real = (sendfile_fn)dlsym(RTLD_NEXT, name);
  return real(out_fd, in_fd, offset, count);
}

/* The addon is built with _FILE_OFFSET_BITS=64, so it calls sendfile64; both are covered. */
ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count) { return refuse_or("sendfile", out_fd, in_fd, offset, count); }
ssize_t sendfile64(int out_fd, int in_fd, off_t *offset, size_t count) { return refuse_or("sendfile64", out_fd, in_fd, offset, count); }
