// treeBytesAsync(dir, stop): the bytes of the regular files under `dir`, counted on libuv's
// thread pool: the bound a copy's space pre-flight sizes its sources by (lib/copy/source-size.ts).
//
// Done from JavaScript through statDir, each directory was a call into the addon, a packed scan
// copied out and walked entry by entry, and an lstat of every entry; here an entry is stat'ed
// only when getdents says it is a regular file (or cannot say), and nothing crosses into
// JavaScript until the end.
//
// Limits, the same as the JavaScript walk's: a directory that cannot be listed is not counted
// (the copy reports it), symlinks are never followed, hard links count once per name, and
// filters are not applied, so the figure is a bound. Memory: the paths of the directories not
// yet listed (a stack). Two threads list directories at once, the pool's and one started for
// the walk, as the JavaScript walk had the scan-ahead thread beside it (measured at load 9-12
// on the 100,000-file tree: 310-325 ms of CPU against its 382-411; wall times too noisy there
// to rank). `stop` (an Int32Array of one element, set non-zero by the caller on an interrupt)
// is looked at before each directory; a stopped walk resolves with -1.
#include "common.h"
#include "dir_scan.h"
#include "syscall_async.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <cstring>
#include <string>
#include <vector>

namespace foxing {
namespace {

// Adds the sizes of `dir`'s regular files to *bytes and pushes its subdirectories' paths.
void CountDir(const std::string& dir, int64_t* bytes, std::vector<std::string>* stack) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  alignas(8) char buf[32768];
  for (;;) {
    long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (got <= 0) break;
    for (long off = 0; off < got;) {
      const auto* d = reinterpret_cast<const Dirent64*>(buf + off);
      off += d->d_reclen;
      const char* n = d->d_name;
      if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))) continue;
      unsigned char type = d->d_type;
      struct stat st;
      if (type == DT_REG || type == DT_UNKNOWN) {
        if (fstatat(fd, n, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // vanished: the copy says so
        if (S_ISREG(st.st_mode)) *bytes += st.st_size;
        else if (S_ISDIR(st.st_mode)) type = DT_DIR;
      }
      if (type == DT_DIR) stack->push_back(dir + "/" + n);
    }
  }
  close(fd);
}

// The walk's state, shared by its threads: the directories not yet listed, how many are being
// listed now (the walk is over when none are and none wait), and the count.
struct Shared {
  std::mutex mu;
  std::condition_variable more;
  std::vector<std::string> stack;
  int busy = 0;
  int64_t bytes = 0;
  bool stopped = false;
};

void Walk(Shared* s, std::atomic<int32_t>* stop) {
  std::vector<std::string> found;
  int64_t bytes = 0;
  std::unique_lock<std::mutex> lock(s->mu);
  for (;;) {
    s->more.wait(lock, [s] { return !s->stack.empty() || s->busy == 0 || s->stopped; });
    if (s->stopped || s->stack.empty()) break;
    if (stop->load(std::memory_order_relaxed) != 0) {
      s->stopped = true;
      break;
    }
    std::string dir = std::move(s->stack.back());
    s->stack.pop_back();
    s->busy++;
    lock.unlock();
    CountDir(dir, &bytes, &found);
    lock.lock();
    s->busy--;
    for (auto& d : found) s->stack.push_back(std::move(d));
    found.clear();
    // The other thread waits for directories, or for the end.
    if (!s->stack.empty() || s->busy == 0) s->more.notify_all();
  }
  s->bytes += bytes;
  s->more.notify_all();
}

Napi::Value TreeBytesAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PathArg path = GetPath(info, 0, "dir");
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      info[1].As<Napi::TypedArray>().ElementLength() < 1) {
    throw Napi::TypeError::New(env, "treeBytesAsync: stop must be an Int32Array of one element");
  }
  auto stopArr = info[1].As<Napi::Int32Array>();
  // The caller keeps the array until the promise settles; its memory never moves.
  auto* stop = reinterpret_cast<std::atomic<int32_t>*>(stopArr.Data());
  std::string root = path.bytes;
  return RunAsync(env, "scandir", [root, stop](int&) -> int64_t {
    Shared shared;
    shared.stack.push_back(root);
    // The pool's thread and one more: a walk of small directories is all system calls, and two
    // cores make them in about half the time (the JavaScript walk had the scan-ahead thread).
    std::thread helper([&] { Walk(&shared, stop); });
    Walk(&shared, stop);
    helper.join();
    return shared.stopped ? -1 : shared.bytes;
  });
}

}  // namespace

void InitTreeBytes(Napi::Env env, Napi::Object exports) {
  exports.Set("treeBytesAsync", Napi::Function::New(env, TreeBytesAsync, "treeBytesAsync"));
}

}  // namespace foxing
