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
// or root); EPERM retries without it, as openForRead does. When `results` has a slot past the
// 2n, results[2n] is how many files were not wholly in the page cache (had to wait for the disk).
//
// Cold files are read side by side, not one after the other. The first pass reads each file
// with RWF_NOWAIT: a file in the page cache is read then and there (warm, this is the same
// system calls as a plain read), and a file that is not makes the kernel start its readahead
// and return EAGAIN at once. The second pass reads the files left, now in flight together. On
// the bench VM's virtio disk, the real set's 29,784 files read cold by one thread took 2.1 s one
// at a time and 1.1 s in batches of 64 this way (2 threads: 1.3 s and 0.8 s). Descriptors held
// open between the passes: at most kMaxOpen, past which a file is read whole at once.
//
// prefetchFiles(paths, pathEnds, sizes): readahead(2) of the first sizes[i] bytes of each file
// (a job a chunk worker has queued: a batch's files, or the start of a large file), so its disk
// reads run while the worker reads and compresses the jobs ahead of it. It returns without
// waiting for the reads. Only for a worker whose last batch was cold: in the page cache it
// would only cost system calls.
#include "common.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/uio.h>
#include <unistd.h>
#include <vector>

namespace foxing {
namespace {

constexpr size_t kMaxOpen = 256;

int OpenForRead(int dirFd, const char* name) {
  int fd = openat(dirFd, name, O_RDONLY | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = openat(dirFd, name, O_RDONLY | O_CLOEXEC);
  return fd;
}

// Opens the files of a batch in turn, each relative to its directory, which stays open (O_PATH)
// while the next files are in it.
class BatchOpener {
 public:
  BatchOpener(const char* bytes, const Napi::Uint32Array& ends) : bytes_(bytes), ends_(ends) {}
  ~BatchOpener() { if (dirFd_ >= 0) close(dirFd_); }

  // Opens file i (called for i = 0, 1, ... in order); -1 with errno set when it cannot be.
  int Open(size_t i) {
    const size_t from = i == 0 ? 0 : ends_[i - 1];
    full_.assign(bytes_ + from, ends_[i] - from);
    size_t slash = full_.rfind('/');
    if (full_.find('\0') != std::string::npos) {
      errno = EINVAL;
      return -1;
    }
    if (slash == std::string::npos || slash + 1 >= full_.size()) return OpenForRead(AT_FDCWD, full_.c_str());
    std::string d = slash == 0 ? "/" : full_.substr(0, slash);
    if (d != dir_ || dirFd_ < 0) {
      if (dirFd_ >= 0) close(dirFd_);
      dir_ = d;
      dirFd_ = open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
    name_.assign(full_, slash + 1, std::string::npos);
    return dirFd_ >= 0 ? OpenForRead(dirFd_, name_.c_str()) : OpenForRead(AT_FDCWD, full_.c_str());
  }

 private:
  const char* bytes_;
  const Napi::Uint32Array& ends_;
  std::string dir_, name_, full_;
  int dirFd_ = -1;
};

// Both reads below ask for one byte past `size` too, into `probe` (a second iovec): a file that
// grew since its stat fills it, and one that did not stops short of it, at its end, so the
// growth check costs no system call of its own. It was a one-byte pread at `size` after every
// file: 30,231 of the real set's first snapshot's system calls, a third of its reads (strace,
// 2026-12-07). A read of a regular file stops short only at its end, or, with RWF_NOWAIT, at
// pages not cached (ReadCached then leaves the rest to ReadWhole).

// Reads what is in the page cache of [got, size) of `fd` into `into` without waiting for the
// disk; a miss starts the kernel's readahead of the range. Returns the new `got`, or -errno on
// an error; *done when the read reached the file's end or found it grew (*changed), *waits when
// the rest is not cached yet.
const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));

int64_t ReadCached(int fd, uint8_t* into, size_t size, size_t got, bool* done, bool* changed, bool* waits) {
  uint8_t probe;
  for (;;) {
    struct iovec v[2] = {{into + got, size - got}, {&probe, 1}};
    ssize_t n = preadv2(fd, v, 2, static_cast<off_t>(got), RWF_NOWAIT);
    if (n >= 0) {
      const size_t want = size - got;
      if (static_cast<size_t>(n) > want) { *changed = true; *done = true; return static_cast<int64_t>(size); }
      got += static_cast<size_t>(n);
      // Short of the probe: the end, unless the read stopped at pages not cached yet. At 0 bytes
      // it is the end (shorter than its stat: changed). At `size`, the probe's byte shares a
      // page with the last byte read, so it would have come had the file grown, unless `size` is
      // a page boundary: those few files are left to ReadWhole, which waits for the next page.
      if (n == 0 || (got == size && size % kPage != 0)) { *done = true; *changed = got < size; return static_cast<int64_t>(got); }
      if (got == size) return static_cast<int64_t>(got);
      continue;
    }
    if (errno == EINTR) continue;
    // EAGAIN: not cached (its read has started). EOPNOTSUPP: a file system without RWF_NOWAIT
    // reads, read the plain way by the caller.
    if (errno == EAGAIN) *waits = true;
    if (errno == EAGAIN || errno == EOPNOTSUPP) return static_cast<int64_t>(got);
    return -errno;
  }
}

// Reads [got, size) of `fd` into `into` (waiting for the disk); *changed when fewer came or more exist.
int64_t ReadWhole(int fd, uint8_t* into, size_t size, size_t got, bool* changed) {
  uint8_t probe;
  for (;;) {
    struct iovec v[2] = {{into + got, size - got}, {&probe, 1}};
    ssize_t n = preadv(fd, v, 2, static_cast<off_t>(got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (static_cast<size_t>(n) > size - got) { *changed = true; return static_cast<int64_t>(size); }
    got += static_cast<size_t>(n);
    if (n == 0 || got == size) break;
  }
  *changed = got < size;
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

  BatchOpener opener(reinterpret_cast<const char*>(paths.Data()), ends);
  struct Waiting { int fd; size_t i, at, got; };
  std::vector<Waiting> waiting;
  size_t at = 0;
  int32_t cold = 0;
  // First pass: what is cached is read; the rest is started and waits for the second.
  for (size_t i = 0; i < n; at += sizes[i], i++) {
    int fd = opener.Open(i);
    if (fd < 0) {
      results[2 * i] = -errno;
      results[2 * i + 1] = 0;
      continue;
    }
    bool done = false, waits = false, changed = false;
    int64_t got = ReadCached(fd, out.Data() + at, sizes[i], 0, &done, &changed, &waits);
    if (waits) {
      cold++;
      if (waiting.size() < kMaxOpen) {
        waiting.push_back(Waiting{fd, i, at, static_cast<size_t>(got)});
        continue;
      }
    }
    if (got >= 0 && !done) got = ReadWhole(fd, out.Data() + at, sizes[i], static_cast<size_t>(got), &changed);
    close(fd);
    results[2 * i] = static_cast<int32_t>(got);
    results[2 * i + 1] = changed ? 1 : 0;
  }
  for (const Waiting& w : waiting) {
    bool changed = false;
    int64_t got = ReadWhole(w.fd, out.Data() + w.at, sizes[w.i], w.got, &changed);
    close(w.fd);
    results[2 * w.i] = static_cast<int32_t>(got);
    results[2 * w.i + 1] = changed ? 1 : 0;
  }
  if (results.ElementLength() > 2 * n) results[2 * n] = cold;
  return Napi::Number::New(env, static_cast<double>(total));
}

Napi::Value PrefetchFiles(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsTypedArray()) {
    throw Napi::TypeError::New(env, "prefetchFiles: expected (paths, pathEnds, sizes)");
  }
  Napi::Uint8Array paths = info[0].As<Napi::Uint8Array>();
  Napi::Uint32Array ends = info[1].As<Napi::Uint32Array>();
  Napi::Uint32Array sizes = info[2].As<Napi::Uint32Array>();
  const size_t n = ends.ElementLength();
  if (sizes.ElementLength() != n) throw Napi::RangeError::New(env, "prefetchFiles: array lengths differ");
  for (size_t i = 0; i < n; i++) {
    if (ends[i] > paths.ElementLength() || (i > 0 && ends[i] < ends[i - 1])) throw Napi::RangeError::New(env, "prefetchFiles: bad path ends");
  }
  BatchOpener opener(reinterpret_cast<const char*>(paths.Data()), ends);
  uint32_t started = 0;
  for (size_t i = 0; i < n; i++) {
    // A file that cannot be opened now is left to readFiles, which reports it.
    int fd = opener.Open(i);
    if (fd < 0) continue;
    if (sizes[i] > 0 && readahead(fd, 0, sizes[i]) == 0) started++;
    close(fd);
  }
  return Napi::Number::New(env, started);
}

}  // namespace

void InitReadFiles(Napi::Env env, Napi::Object exports) {
  exports.Set("readFiles", Napi::Function::New(env, ReadFiles, "readFiles"));
  exports.Set("prefetchFiles", Napi::Function::New(env, PrefetchFiles, "prefetchFiles"));
}

}  // namespace foxing
