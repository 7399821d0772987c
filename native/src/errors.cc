// Node-style errors and argument parsing shared by all units.
#include "common.h"

#include <uv.h>  // uv_err_name_r / uv_strerror_r: the exact code names and messages Node uses

#include <cmath>
#include <cstring>

namespace foxing {

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string* path) {
  // On Unix libuv error codes are the negated errno values, so libuv gives us the same
  // "ENOENT" / "no such file or directory" strings that fs errors carry.
  char name[64];
  char desc[256];
  uv_err_name_r(-err, name, sizeof name);
  uv_strerror_r(-err, desc, sizeof desc);
  std::string message = std::string(name) + ": " + desc + ", " + syscall;
  if (path != nullptr) message += " '" + *path + "'";
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("code", Napi::String::New(env, name));
  e.Set("syscall", Napi::String::New(env, syscall));
  if (path != nullptr) e.Set("path", Napi::String::New(env, *path));
  return e;
}

PathArg GetPath(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Env env = info.Env();
  PathArg out;
  Napi::Value v = info[index];
  if (v.IsString()) {
    out.bytes = v.As<Napi::String>().Utf8Value();
    out.display = out.bytes;
  } else if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    Napi::Uint8Array a = v.As<Napi::Uint8Array>();
    out.bytes.assign(reinterpret_cast<const char*>(a.Data()), a.ElementLength());
    // Decoding through V8 replaces invalid UTF-8 with U+FFFD, like Buffer#toString().
    out.display = Napi::String::New(env, out.bytes.data(), out.bytes.size()).Utf8Value();
  } else {
    throw Napi::TypeError::New(env, std::string("The \"") + what + "\" argument must be a string or a Buffer");
  }
  if (std::memchr(out.bytes.data(), '\0', out.bytes.size()) != nullptr) {
    throw Napi::TypeError::New(env, std::string("The \"") + what + "\" argument must not contain null bytes");
  }
  return out;
}

double GetNumber(const Napi::CallbackInfo& info, size_t index, const char* what) {
  if (!info[index].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string("The \"") + what + "\" argument must be a number");
  }
  return info[index].As<Napi::Number>().DoubleValue();
}

int64_t GetInt64(const Napi::CallbackInfo& info, size_t index, const char* what) {
  double d = GetNumber(info, index, what);
  // Refuse fractions and values beyond 2^53 rather than silently truncating them.
  if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) > 9007199254740991.0) {
    throw Napi::RangeError::New(info.Env(), std::string("The \"") + what + "\" argument must be a safe integer");
  }
  return static_cast<int64_t>(d);
}

}  // namespace foxing
