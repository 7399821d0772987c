// xattrList / xattrGet / xattrSet: the l* calls, so a symlink's own attributes are read and
// written, never its target's (a snapshot records entries, not what they point to).
#include "common.h"

#include <sys/xattr.h>

#include <cerrno>
#include <vector>

namespace foxing {
namespace {

std::string GetName(const Napi::CallbackInfo& info, size_t index) {
  if (!info[index].IsString()) throw Napi::TypeError::New(info.Env(), "The \"name\" argument must be a string");
  return info[index].As<Napi::String>().Utf8Value();
}

// The size query and the read are two calls, so the value can grow in between (ERANGE):
// retry with the new size a few times before giving up.
template <typename Call>
std::vector<char> ReadSized(Napi::Env env, Call call, const char* syscall, const std::string& path) {
  std::vector<char> buf;
  for (int attempt = 0; attempt < 8; attempt++) {
    ssize_t size = call(nullptr, 0);
    if (size < 0) throw ErrnoError(env, errno, syscall, &path);
    buf.resize(static_cast<size_t>(size) + 1);  // +1: never pass a zero-length buffer pointer
    ssize_t got = call(buf.data(), static_cast<size_t>(size));
    if (got >= 0) {
      buf.resize(static_cast<size_t>(got));
      return buf;
    }
    if (errno != ERANGE) throw ErrnoError(env, errno, syscall, &path);
  }
  throw ErrnoError(env, ERANGE, syscall, &path);
}

Napi::Value XattrList(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PathArg p = GetPath(info, 0, "path");
  std::vector<char> names = ReadSized(
      env, [&](char* b, size_t s) { return llistxattr(p.bytes.c_str(), b, s); }, "llistxattr", p.display);
  // The list is NUL-separated names, each NUL-terminated.
  Napi::Array out = Napi::Array::New(env);
  uint32_t k = 0;
  size_t start = 0;
  for (size_t i = 0; i < names.size(); i++) {
    if (names[i] == '\0') {
      if (i > start) out.Set(k++, Napi::String::New(env, names.data() + start, i - start));
      start = i + 1;
    }
  }
  return out;
}

Napi::Value XattrGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PathArg p = GetPath(info, 0, "path");
  std::string name = GetName(info, 1);
  std::vector<char> value = ReadSized(
      env, [&](char* b, size_t s) { return lgetxattr(p.bytes.c_str(), name.c_str(), b, s); }, "lgetxattr",
      p.display);
  return Napi::Buffer<char>::Copy(env, value.data(), value.size());
}

Napi::Value XattrSet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PathArg p = GetPath(info, 0, "path");
  std::string name = GetName(info, 1);
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(env, "The \"value\" argument must be a Uint8Array");
  }
  Napi::Uint8Array v = info[2].As<Napi::Uint8Array>();
  if (lsetxattr(p.bytes.c_str(), name.c_str(), v.Data(), v.ElementLength(), 0) != 0) {
    throw ErrnoError(env, errno, "lsetxattr", &p.display);
  }
  return env.Undefined();
}

}  // namespace

void InitXattr(Napi::Env env, Napi::Object exports) {
  exports.Set("xattrList", Napi::Function::New(env, XattrList, "xattrList"));
  exports.Set("xattrGet", Napi::Function::New(env, XattrGet, "xattrGet"));
  exports.Set("xattrSet", Napi::Function::New(env, XattrSet, "xattrSet"));
}

}  // namespace foxing
