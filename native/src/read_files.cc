// readFiles(paths, pathEnds, sizes, out, results): a chunk worker's batch of small files
// (lib/store/chunk-worker.ts, 'files' jobs) read whole, one after the other, in one call.
//
// Why: read from JavaScript, each file was four fs calls (openSync, readSync, a one-byte probe
// for growth, closeSync), each with Node's argument checks and error wrapping, and an open by
// absolute path, which the kernel resolves component by component (__d_lookup_rcu was ~5 % of
// a chunk worker's CPU on the real bench set, whose paths are ~10 deep). Here consecutive files
// of one directory are opened with openat relative to that directory (opened once, O_PATH),
// and nothing crosses into JavaScript until the batch is read.
//
// File i is read into `out` at the sum of the sizes before it, at most sizes[i] bytes (its size
// at stat time), as the per-file read does: results[2i] is the bytes read, or -errno when it
// could not be opened or read (the caller reads that file again its own way, which reports the
// error as Node words it); results[2i+1] is 1 when the file changed size since stat (shorter, or
// a byte past sizes[i] exists), else 0. O_NOATIME is used where the kernel allows it (the owner
// or root); EPERM retries without it, as openForRead does.
#include "common.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace foxing {
namespace {

int OpenForRead(int dirFd, const char* name) {
  int fd = openat(dirFd, name, O_RDONLY | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = openat(dirFd, name, O_RDONLY | O_CLOEXEC);
  return fd;
}

// Reads up to `size` bytes of `fd` from offset 0 into `into`; *changed when fewer came or more exist.
int64_t ReadWhole(int fd, uint8_t* into, size_t size, bool* changed) {
  size_t got = 0;
  while (got < size) {
    ssize_t n = pread(fd, into + got, size - got, static_cast<off_t>(got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got < size) {
    *changed = true;
  } else {
    uint8_t probe;
    ssize_t n;
    do n = pread(fd, &probe, 1, static_cast<off_t>(size)); while (n < 0 && errno == EINTR);
    *changed = n > 0;
  }
  return static_cast<int64_t>(got);
}

Napi::Value ReadFiles(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsTypedArray() ||
      !info[3].IsTypedArray() || !info[4].IsTypedArray()) {
    throw Napi::TypeError::New(env, "readFiles: expected (paths, pathEnds, sizes, out, results)");
  }
  Napi::Uint8Array paths = info[0].As<Napi::Uint8Array>();
  Napi::Uint32Array ends = info[1].As<Napi::Uint32Array>();
  Napi::Uint32Array sizes = info[2].As<Napi::Uint32Array>();
  Napi::Uint8Array out = info[3].As<Napi::Uint8Array>();
  Napi::Int32Array results = info[4].As<Napi::Int32Array>();
  const size_t n = ends.ElementLength();
  if (sizes.ElementLength() != n || results.ElementLength() < 2 * n) throw Napi::RangeError::New(env, "readFiles: array lengths differ");
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    total += sizes[i];
    if (ends[i] > paths.ElementLength() || (i > 0 && ends[i] < ends[i - 1])) throw Napi::RangeError::New(env, "readFiles: bad path ends");
  }
  if (total > out.ElementLength()) throw Napi::RangeError::New(env, "readFiles: out is smaller than the sizes");

  const char* bytes = reinterpret_cast<const char*>(paths.Data());
  std::string dir, name, full;
  int dirFd = -1;
  size_t at = 0, from = 0;
  for (size_t i = 0; i < n; i++) {
    full.assign(bytes + from, ends[i] - from);
    from = ends[i];
    int fd = -1;
    size_t slash = full.rfind('/');
    if (full.find('\0') != std::string::npos) {
      errno = EINVAL;
    } else if (slash != std::string::npos && slash + 1 < full.size()) {
      std::string d = slash == 0 ? "/" : full.substr(0, slash);
      if (d != dir || dirFd < 0) {
        if (dirFd >= 0) close(dirFd);
        dir = d;
        dirFd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
      }
      name.assign(full, slash + 1, std::string::npos);
      fd = dirFd >= 0 ? OpenForRead(dirFd, name.c_str()) : OpenForRead(AT_FDCWD, full.c_str());
    } else {
      fd = OpenForRead(AT_FDCWD, full.c_str());
    }
    bool changed = false;
    int64_t got = fd < 0 ? -errno : ReadWhole(fd, out.Data() + at, sizes[i], &changed);
    if (fd >= 0) close(fd);
    results[2 * i] = static_cast<int32_t>(got);
    results[2 * i + 1] = changed ? 1 : 0;
    at += sizes[i];
  }
  if (dirFd >= 0) close(dirFd);
  return Napi::Number::New(env, static_cast<double>(total));
}

}  // namespace

void InitReadFiles(Napi::Env env, Napi::Object exports) {
  exports.Set("readFiles", Napi::Function::New(env, ReadFiles, "readFiles"));
}

}  // namespace foxing
