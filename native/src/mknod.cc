// mknod: fifos and device nodes on restore (Node has no mknod/mkfifo).
#include "common.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <cerrno>

namespace foxing {
namespace {

Napi::Value Mknod(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PathArg p = GetPath(info, 0, "path");
  int64_t mode = GetInt64(info, 1, "mode");
  int64_t dev = GetInt64(info, 2, "dev");
  if (mode < 0 || mode > 0xFFFFFFFFLL) throw Napi::RangeError::New(env, "The \"mode\" argument is out of range");
  if (dev < 0) throw Napi::RangeError::New(env, "The \"dev\" argument must be >= 0");
  // The process umask applies, as with mkfifo(1); callers restoring exact modes chmod afterwards.
  if (mknod(p.bytes.c_str(), static_cast<mode_t>(mode), static_cast<dev_t>(dev)) != 0) {
    throw ErrnoError(env, errno, "mknod", &p.display);
  }
  return env.Undefined();
}

}  // namespace

void InitMknod(Napi::Env env, Napi::Object exports) {
  exports.Set("mknod", Napi::Function::New(env, Mknod, "mknod"));
}

}  // namespace foxing
