// addressOffset: where a buffer's memory sits relative to an alignment. O_DIRECT writes need
// the source address aligned to the device's logical block (4096 covers every common device);
// JavaScript cannot see addresses, so the allocator side (lib/fs/direct-io.ts) asks here and
// takes an aligned view of a slightly larger buffer.
#include "common.h"

#include <cstdint>

namespace foxing {
namespace {

Napi::Value AddressOffset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(env, "The \"buf\" argument must be a Uint8Array");
  }
  const int64_t align = GetInt64(info, 1, "align");
  if (align <= 0 || (align & (align - 1)) != 0) {
    throw Napi::RangeError::New(env, "The \"align\" argument must be a power of two");
  }
  const auto addr = reinterpret_cast<uintptr_t>(info[0].As<Napi::Uint8Array>().Data());
  return Napi::Number::New(env, static_cast<double>(addr & static_cast<uintptr_t>(align - 1)));
}

}  // namespace

void InitAddress(Napi::Env env, Napi::Object exports) {
  exports.Set("addressOffset", Napi::Function::New(env, AddressOffset, "addressOffset"));
}

}  // namespace foxing
