// writeNewFiles(paths, pathEnds, data, dataEnds, nums, results): a restore worker's batch of
// small files (lib/snapshot/restore-worker.ts) made in one call, each at its name in a
// directory the restore made under a temporary name (lib/fs/materialize.ts, FileHow.fresh),
// with its data, mode and times; the restore-side twin of read_files.cc.
//
// Why: from JavaScript each file was five fs calls (open, write, fchmod, futimens, close), each
// with Node's argument checks, error wrapping and garbage, and an open by absolute path, which
// the kernel resolves component by component. Here consecutive files of one directory are
// made with openat relative to that directory (opened once, O_PATH), and nothing crosses into
// JavaScript until the batch is done.
//
// File i: its path is paths[pathEnds[i-1]..pathEnds[i]) (absolute); its data is
// data[dataEnds[i-1]..dataEnds[i]), written at offset 0, then truncated to its size when that
// differs (a file the caller writes whole: no holes); nums[6i..6i+6) are its size, its mode
// (fchmod, all 12 bits), its atime and mtime as seconds and nanoseconds (futimens). Per file,
// in this order: openat O_WRONLY|O_CREAT|O_EXCL (with its permission bits), pwrite, ftruncate,
// fchmod (unless fstat finds the bits right already), futimens, close. results[2i] is 0, or -errno of the first call that failed
// (its stage in results[2i+1]: 1 create, 2 write, 3 truncate, 4 chmod, 5 times, 6 close); a
// file that fails after its create is unlinked, so nothing torn keeps its name. No chown (the
// caller sends only files this user makes for this user and group) and no xattrs (the caller
// writes files with any its own way).
#include "common.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace foxing {
namespace {

enum Stage { kOk = 0, kCreate, kWrite, kTruncate, kChmod, kTimes, kClose };

struct timespec Time(double sec, double nsec) {
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(sec);
  ts.tv_nsec = static_cast<long>(nsec);
  return ts;
}

// Writes one file under dirFd; returns its stage of failure (errno in *err) or kOk.
// f: the file's nums (size, mode, atime s, ns, mtime s, ns).
int WriteOne(int dirFd, const char* name, const uint8_t* data, size_t length, const double* f, int* err) {
  const mode_t mode = static_cast<mode_t>(f[1]) & 07777;
  // Made with its permission bits (its directory is private until its own metadata is set);
  // fchmod only where the umask, a default ACL or setuid/setgid/sticky left it different: an
  // fstat reads, an fchmod is a journalled inode update.
  int fd = openat(dirFd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777);
  if (fd < 0) {
    *err = errno;
    return kCreate;
  }
  int stage = kOk;
  size_t done = 0;
  while (stage == kOk && done < length) {
    ssize_t n = pwrite(fd, data + done, length - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) stage = kWrite;
    else done += static_cast<size_t>(n);
  }
  if (stage == kOk && static_cast<double>(length) != f[0] && ftruncate(fd, static_cast<off_t>(f[0])) != 0) stage = kTruncate;
  struct stat st;
  if (stage == kOk && (fstat(fd, &st) != 0 || (st.st_mode & 07777) != mode) && fchmod(fd, mode) != 0) stage = kChmod;
  struct timespec ts[2] = {Time(f[2], f[3]), Time(f[4], f[5])};
  if (stage == kOk && futimens(fd, ts) != 0) stage = kTimes;
  if (stage != kOk) *err = errno == 0 ? EIO : errno;  // a write of 0 bytes sets no errno
  if (close(fd) != 0 && stage == kOk) {
    stage = kClose;
    *err = errno;
  }
  if (stage != kOk) unlinkat(dirFd, name, 0);
  return stage;
}

constexpr size_t kNums = 6;

Napi::Value WriteNewFiles(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsTypedArray() ||
      !info[3].IsTypedArray() || !info[4].IsTypedArray() || !info[5].IsTypedArray()) {
    throw Napi::TypeError::New(env, "writeNewFiles: expected (paths, pathEnds, data, dataEnds, nums, results)");
  }
  Napi::Uint8Array paths = info[0].As<Napi::Uint8Array>();
  Napi::Uint32Array pathEnds = info[1].As<Napi::Uint32Array>();
  Napi::Uint8Array data = info[2].As<Napi::Uint8Array>();
  Napi::Uint32Array dataEnds = info[3].As<Napi::Uint32Array>();
  Napi::Float64Array nums = info[4].As<Napi::Float64Array>();
  Napi::Int32Array results = info[5].As<Napi::Int32Array>();
  const size_t n = pathEnds.ElementLength();
  if (dataEnds.ElementLength() != n || nums.ElementLength() < kNums * n || results.ElementLength() < 2 * n) {
    throw Napi::RangeError::New(env, "writeNewFiles: array lengths differ");
  }
  for (size_t i = 0; i < n; i++) {
    if (pathEnds[i] > paths.ElementLength() || (i > 0 && pathEnds[i] < pathEnds[i - 1])) throw Napi::RangeError::New(env, "writeNewFiles: bad path ends");
    if (dataEnds[i] > data.ElementLength() || (i > 0 && dataEnds[i] < dataEnds[i - 1])) throw Napi::RangeError::New(env, "writeNewFiles: bad data ends");
  }
  const char* bytes = reinterpret_cast<const char*>(paths.Data());
  std::string dir, name, full;
  int dirFd = -1;
  size_t from = 0, at = 0;
  for (size_t i = 0; i < n; i++) {
    full.assign(bytes + from, pathEnds[i] - from);
    from = pathEnds[i];
    size_t slash = full.rfind('/');
    int err = 0, stage = kCreate;
    if (full.find('\0') != std::string::npos || slash == std::string::npos || slash == 0 || slash + 1 == full.size()) {
      err = EINVAL;
    } else {
      std::string d = full.substr(0, slash);
      if (d != dir || dirFd < 0) {
        if (dirFd >= 0) close(dirFd);
        dir = d;
        dirFd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
      }
      name.assign(full, slash + 1, std::string::npos);
      if (dirFd < 0) err = errno;
      else stage = WriteOne(dirFd, name.c_str(), data.Data() + at, dataEnds[i] - at, nums.Data() + kNums * i, &err);
    }
    at = dataEnds[i];
    results[2 * i] = err == 0 ? 0 : -err;
    results[2 * i + 1] = err == 0 ? kOk : stage;
  }
  if (dirFd >= 0) close(dirFd);
  return env.Undefined();
}

}  // namespace

void InitWriteFiles(Napi::Env env, Napi::Object exports) {
  exports.Set("writeNewFiles", Napi::Function::New(env, WriteNewFiles, "writeNewFiles"));
}

}  // namespace foxing
