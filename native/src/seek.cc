// seekData / seekHole: lseek with SEEK_DATA / SEEK_HOLE, to copy and archive sparse files
// without reading their holes. Node 20 exposes neither whence value.
#include "common.h"

#include <unistd.h>

#include <cerrno>

namespace foxing {
namespace {

Napi::Value Seek(const Napi::CallbackInfo& info, int whence) {
  Napi::Env env = info.Env();
  int64_t fd = GetInt64(info, 0, "fd");
  int64_t offset = GetInt64(info, 1, "offset");
  if (fd < 0 || fd > 0x7FFFFFFF) throw Napi::RangeError::New(env, "The \"fd\" argument is out of range");
  if (offset < 0) throw Napi::RangeError::New(env, "The \"offset\" argument must be >= 0");
  off_t r = lseek(static_cast<int>(fd), static_cast<off_t>(offset), whence);
  if (r < 0) {
    // ENXIO from SEEK_DATA means "no data at or after offset": the normal end of a scan.
    if (errno == ENXIO && whence == SEEK_DATA) return Napi::Number::New(env, -1);
    throw ErrnoError(env, errno, "lseek", nullptr);
  }
  return Napi::Number::New(env, static_cast<double>(r));
}

Napi::Value SeekData(const Napi::CallbackInfo& info) { return Seek(info, SEEK_DATA); }
Napi::Value SeekHole(const Napi::CallbackInfo& info) { return Seek(info, SEEK_HOLE); }

}  // namespace

void InitSeek(Napi::Env env, Napi::Object exports) {
  exports.Set("seekData", Napi::Function::New(env, SeekData, "seekData"));
  exports.Set("seekHole", Napi::Function::New(env, SeekHole, "seekHole"));
}

}  // namespace foxing
