// fallocate(2): reserve space for a file about to be written ('allocate' grows the size,
// 'keep-size' reserves without changing it) and punch holes ('punch-hole', which implies
// keep-size as the kernel requires). Node 20 has neither. File systems without it answer
// EOPNOTSUPP; callers then skip the reservation (and write zeros or truncate instead of punching).
#include "syscall_async.h"

#include <fcntl.h>
#include <linux/falloc.h>

#include <cerrno>
#include <string>

namespace foxing {
namespace {

Napi::Value Fallocate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = GetFd(info, 0, "fd");
  if (!info[1].IsString()) throw Napi::TypeError::New(env, "The \"mode\" argument must be a string");
  std::string m = info[1].As<Napi::String>().Utf8Value();
  int mode;
  if (m == "allocate") mode = 0;
  else if (m == "keep-size") mode = FALLOC_FL_KEEP_SIZE;
  else if (m == "punch-hole") mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
  else throw Napi::TypeError::New(env, "The \"mode\" argument must be 'allocate', 'keep-size' or 'punch-hole'");
  off_t offset = static_cast<off_t>(GetSize(info, 2, "offset"));
  off_t length = static_cast<off_t>(GetSize(info, 3, "length"));
  int r;
  do {
    r = fallocate(fd, mode, offset, length);
  } while (r != 0 && errno == EINTR);
  if (r != 0) throw ErrnoError(env, errno, "fallocate", nullptr);
  return env.Undefined();
}

}  // namespace

void InitFallocate(Napi::Env env, Napi::Object exports) {
  exports.Set("fallocate", Napi::Function::New(env, Fallocate, "fallocate"));
}

}  // namespace foxing
