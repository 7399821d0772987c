// utimens: utimensat(AT_SYMLINK_NOFOLLOW) with whole nanoseconds. Node's fs.lutimes takes
// seconds as a double, which cannot carry today's times to the nanosecond; restores must.
#include "common.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

namespace foxing {
namespace {

Napi::Value Utimens(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PathArg p = GetPath(info, 0, "path");
  struct timespec ts[2];
  ts[0].tv_sec = static_cast<time_t>(GetInt64(info, 1, "atimeSec"));
  ts[0].tv_nsec = static_cast<long>(GetInt64(info, 2, "atimeNsec"));
  ts[1].tv_sec = static_cast<time_t>(GetInt64(info, 3, "mtimeSec"));
  ts[1].tv_nsec = static_cast<long>(GetInt64(info, 4, "mtimeNsec"));
  // Out-of-range nanoseconds reach the kernel, which answers EINVAL: one error path, Node-shaped.
  if (utimensat(AT_FDCWD, p.bytes.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) {
    throw ErrnoError(env, errno, "utimensat", &p.display);
  }
  return env.Undefined();
}

// futimens: the same on an open file (a restore sets a new file's times before closing it,
// without resolving its path again).
Napi::Value Futimens(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(GetInt64(info, 0, "fd"));
  struct timespec ts[2];
  ts[0].tv_sec = static_cast<time_t>(GetInt64(info, 1, "atimeSec"));
  ts[0].tv_nsec = static_cast<long>(GetInt64(info, 2, "atimeNsec"));
  ts[1].tv_sec = static_cast<time_t>(GetInt64(info, 3, "mtimeSec"));
  ts[1].tv_nsec = static_cast<long>(GetInt64(info, 4, "mtimeNsec"));
  if (futimens(fd, ts) != 0) throw ErrnoError(env, errno, "futimens", nullptr);
  return env.Undefined();
}

}  // namespace

void InitUtimens(Napi::Env env, Napi::Object exports) {
  exports.Set("utimens", Napi::Function::New(env, Utimens, "utimens"));
  exports.Set("futimens", Napi::Function::New(env, Futimens, "futimens"));
}

}  // namespace foxing
