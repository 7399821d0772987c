/*
 * Test-only fault injection at the C library boundary, loaded with LD_PRELOAD into a real
 * fxcp process (and with it every thread: Node's thread pool, our workers, LMDB). It makes
 * the Nth matching call fail the way a full disk, a failing disk or a refusing file system
 * does, so the tests see what users see. Nothing in lib/ knows about it.
 *
 *   FXFAULT_OP     write | read | fsync | rename | open | mkdir
 *   FXFAULT_PATH   the call matches when the file's path contains this (an fd's via /proc/self/fd;
 *                  an *at call's relative name joined to its directory fd's path)
 *   FXFAULT_NTH    the first matching call that fails (1 = the first; default 1)
 *   FXFAULT_ERRNO  the errno it fails with (a number; default ENOSPC for write, EIO otherwise)
 *   FXFAULT_STICKY 1: every matching call from the Nth on fails (a disk stays full)
 *   FXFAULT_SHORT  1: reads and writes do not fail but transfer at most half of what was asked
 *                  (at least one byte): legal behaviour every caller must loop over
 *   FXFAULT_LOG    a file to which one line is appended per injected fault
 *
 * Limits: calls that bypass the C library (raw syscall(2), io_uring) are not seen; the tests
 * set UV_USE_IO_URING=0 so Node's thread pool uses the C library. Built by the test itself
 * (test/helpers/fault-inject.ts) with the C compiler that builds the native addon.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum op { OP_NONE, OP_WRITE, OP_READ, OP_FSYNC, OP_RENAME, OP_OPEN, OP_MKDIR };

static enum op fault_op = OP_NONE;
static const char *fault_path;
static long fault_nth = 1;
static int fault_errno;
static int fault_sticky;
static int fault_short;
static const char *fault_log;
static long matched;
static __thread int inside; /* our own calls (readlink, the log) are never faulted */

__attribute__((constructor)) static void init(void) {
  const char *op = getenv("FXFAULT_OP");
  fault_path = getenv("FXFAULT_PATH");
  if (!op || !fault_path) return;
  if (!strcmp(op, "write")) fault_op = OP_WRITE;
  else if (!strcmp(op, "read")) fault_op = OP_READ;
  else if (!strcmp(op, "fsync")) fault_op = OP_FSYNC;
  else if (!strcmp(op, "rename")) fault_op = OP_RENAME;
  else if (!strcmp(op, "open")) fault_op = OP_OPEN;
  else if (!strcmp(op, "mkdir")) fault_op = OP_MKDIR;
  const char *v;
  if ((v = getenv("FXFAULT_NTH"))) fault_nth = atol(v);
  fault_errno = (v = getenv("FXFAULT_ERRNO")) ? atoi(v) : (fault_op == OP_WRITE ? ENOSPC : EIO);
  fault_sticky = (v = getenv("FXFAULT_STICKY")) && !strcmp(v, "1");
  fault_short = (v = getenv("FXFAULT_SHORT")) && !strcmp(v, "1");
  fault_log = getenv("FXFAULT_LOG");
}

static void note(const char *what, const char *path) {
  if (!fault_log) return;
  inside++;
  FILE *f = fopen(fault_log, "a");
  if (f) { fprintf(f, "%s %s\n", what, path); fclose(f); }
  inside--;
}

static int path_matches(const char *path) {
  return path && strstr(path, fault_path) != NULL;
}

static int fd_matches(int fd) {
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  inside++;
  ssize_t n = readlink(link, path, sizeof path - 1);
  inside--;
  if (n <= 0) return 0;
  path[n] = 0;
  if (!path_matches(path)) return 0;
  return 1;
}

/*
 * The path an *at call for `op` names: `path` itself when absolute or relative to the working
 * directory, else the directory fd's path (via /proc/self/fd) joined with it, in `buf` (looked
 * up only when faults of `op` are asked for).
 */
static const char *at_path(enum op op, int dir, const char *path, char *buf, size_t size) {
  if (fault_op != op || inside || !path || path[0] == '/' || dir == AT_FDCWD) return path;
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", dir);
  inside++;
  ssize_t n = readlink(link, buf, size - 1);
  inside--;
  if (n <= 0) return path;
  snprintf(buf + n, size - (size_t)n, "/%s", path);
  return buf;
}

/* 1 when this call must fail (errno is then set); counts matching calls. */
static int should_fail(enum op op, int fd, const char *path, const char *what) {
  if (fault_op != op || inside || fault_short) return 0;
  if (path ? !path_matches(path) : !fd_matches(fd)) return 0;
  long n = __atomic_add_fetch(&matched, 1, __ATOMIC_SEQ_CST);
  if (n < fault_nth || (!fault_sticky && n != fault_nth)) return 0;
  note(what, path ? path : fault_path);
  errno = fault_errno;
  return 1;
}

/* For FXFAULT_SHORT: the count a read or write of `len` bytes on `fd` may transfer. */
static size_t shortened(enum op op, int fd, size_t len) {
  if (!fault_short || fault_op != op || inside || len < 2 || !fd_matches(fd)) return len;
  return len / 2;
}

#define REAL(name) static __typeof__(&name) real_##name; if (!real_##name) real_##name = dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t len) {
  REAL(write);
  if (should_fail(OP_WRITE, fd, NULL, "write")) return -1;
  return real_write(fd, buf, shortened(OP_WRITE, fd, len));
}
ssize_t pwrite(int fd, const void *buf, size_t len, off_t off) {
  REAL(pwrite);
  if (should_fail(OP_WRITE, fd, NULL, "pwrite")) return -1;
  return real_pwrite(fd, buf, shortened(OP_WRITE, fd, len), off);
}
ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off) {
  REAL(pwrite64);
  if (should_fail(OP_WRITE, fd, NULL, "pwrite64")) return -1;
  return real_pwrite64(fd, buf, shortened(OP_WRITE, fd, len), off);
}
ssize_t writev(int fd, const struct iovec *iov, int cnt) {
  REAL(writev);
  if (should_fail(OP_WRITE, fd, NULL, "writev")) return -1;
  return real_writev(fd, iov, cnt);
}
ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off) {
  REAL(pwritev);
  if (should_fail(OP_WRITE, fd, NULL, "pwritev")) return -1;
  return real_pwritev(fd, iov, cnt, off);
}
ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off) {
  REAL(pwritev64);
  if (should_fail(OP_WRITE, fd, NULL, "pwritev64")) return -1;
  return real_pwritev64(fd, iov, cnt, off);
}
ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags) {
  REAL(pwritev2);
  if (should_fail(OP_WRITE, fd, NULL, "pwritev2")) return -1;
  return real_pwritev2(fd, iov, cnt, off, flags);
}
ssize_t read(int fd, void *buf, size_t len) {
  REAL(read);
  if (should_fail(OP_READ, fd, NULL, "read")) return -1;
  return real_read(fd, buf, shortened(OP_READ, fd, len));
}
ssize_t pread(int fd, void *buf, size_t len, off_t off) {
  REAL(pread);
  if (should_fail(OP_READ, fd, NULL, "pread")) return -1;
  return real_pread(fd, buf, shortened(OP_READ, fd, len), off);
}
ssize_t pread64(int fd, void *buf, size_t len, off_t off) {
  REAL(pread64);
  if (should_fail(OP_READ, fd, NULL, "pread64")) return -1;
  return real_pread64(fd, buf, shortened(OP_READ, fd, len), off);
}
/* Vector reads: a short read keeps only the first buffer (and at most half of it). */
static ssize_t short_readv(ssize_t (*fn)(int, const struct iovec *, int, off_t), int fd, const struct iovec *iov, int cnt, off_t off) {
  if (cnt > 0 && fault_short && fault_op == OP_READ && !inside && fd_matches(fd)) {
    struct iovec one = iov[0];
    if (one.iov_len >= 2) one.iov_len /= 2;
    return fn(fd, &one, 1, off);
  }
  return fn(fd, iov, cnt, off);
}
ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off) {
  REAL(preadv);
  if (should_fail(OP_READ, fd, NULL, "preadv")) return -1;
  return short_readv(real_preadv, fd, iov, cnt, off);
}
ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off_t off) {
  REAL(preadv64);
  if (should_fail(OP_READ, fd, NULL, "preadv64")) return -1;
  return short_readv(real_preadv64, fd, iov, cnt, off);
}
ssize_t readv(int fd, const struct iovec *iov, int cnt) {
  REAL(readv);
  if (should_fail(OP_READ, fd, NULL, "readv")) return -1;
  return real_readv(fd, iov, cnt);
}
int fsync(int fd) {
  REAL(fsync);
  if (should_fail(OP_FSYNC, fd, NULL, "fsync")) return -1;
  return real_fsync(fd);
}
int fdatasync(int fd) {
  REAL(fdatasync);
  if (should_fail(OP_FSYNC, fd, NULL, "fdatasync")) return -1;
  return real_fdatasync(fd);
}
int rename(const char *from, const char *to) {
  REAL(rename);
  if (should_fail(OP_RENAME, -1, from, "rename")) return -1;
  return real_rename(from, to);
}
int renameat(int dfrom, const char *from, int dto, const char *to) {
  REAL(renameat);
  char buf[8192];
  if (should_fail(OP_RENAME, -1, at_path(OP_RENAME, dfrom, from, buf, sizeof buf), "renameat")) return -1;
  return real_renameat(dfrom, from, dto, to);
}
int renameat2(int dfrom, const char *from, int dto, const char *to, unsigned flags) {
  REAL(renameat2);
  char buf[8192];
  if (should_fail(OP_RENAME, -1, at_path(OP_RENAME, dfrom, from, buf, sizeof buf), "renameat2")) return -1;
  return real_renameat2(dfrom, from, dto, to, flags);
}
int mkdir(const char *path, mode_t mode) {
  REAL(mkdir);
  if (should_fail(OP_MKDIR, -1, path, "mkdir")) return -1;
  return real_mkdir(path, mode);
}
int mkdirat(int dir, const char *path, mode_t mode) {
  REAL(mkdirat);
  char buf[8192];
  if (should_fail(OP_MKDIR, -1, at_path(OP_MKDIR, dir, path, buf, sizeof buf), "mkdirat")) return -1;
  return real_mkdirat(dir, path, mode);
}
int open(const char *path, int flags, ...) {
  REAL(open);
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
  if (should_fail(OP_OPEN, -1, path, "open")) return -1;
  return real_open(path, flags, mode);
}
int open64(const char *path, int flags, ...) {
  REAL(open64);
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
  if (should_fail(OP_OPEN, -1, path, "open64")) return -1;
  return real_open64(path, flags, mode);
}
int openat(int dir, const char *path, int flags, ...) {
  REAL(openat);
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
  char buf[8192];
  if (should_fail(OP_OPEN, -1, at_path(OP_OPEN, dir, path, buf, sizeof buf), "openat")) return -1;
  return real_openat(dir, path, flags, mode);
}
int openat64(int dir, const char *path, int flags, ...) {
  REAL(openat64);
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
  char buf[8192];
  if (should_fail(OP_OPEN, -1, at_path(OP_OPEN, dir, path, buf, sizeof buf), "openat64")) return -1;
  return real_openat64(dir, path, flags, mode);
}
