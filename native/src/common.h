// Shared helpers for the Foxing addon: Node-style errno errors and path arguments.
#pragma once
#include <napi.h>
#include <string>

namespace foxing {

// A path argument as a NUL-terminated byte string. JS strings are taken as UTF-8; Buffers
// (any Uint8Array) are raw bytes, so non-UTF-8 file names survive unchanged.
struct PathArg {
  std::string bytes;    // raw bytes, c_str() is NUL-terminated
  std::string display;  // UTF-8 form for error messages and the error's `path` property
};

// Reads info[index] as a path; throws TypeError if it is neither a string nor a Uint8Array,
// or if it contains a NUL byte (the kernel would silently truncate the name there).
PathArg GetPath(const Napi::CallbackInfo& info, size_t index, const char* what);

// Builds an Error shaped like Node's own fs errors: message "ENOENT: no such file or directory,
// lgetxattr '/x'", and properties code, errno (negative), syscall and, when given, path.
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string* path);

// Argument checks that throw TypeError with the argument's name.
double GetNumber(const Napi::CallbackInfo& info, size_t index, const char* what);
int64_t GetInt64(const Napi::CallbackInfo& info, size_t index, const char* what);

// One registration function per exported unit (each in its own .cc).
void InitGearChunk(Napi::Env env, Napi::Object exports);
void InitXattr(Napi::Env env, Napi::Object exports);
void InitSeek(Napi::Env env, Napi::Object exports);
void InitUtimens(Napi::Env env, Napi::Object exports);
void InitMknod(Napi::Env env, Napi::Object exports);
void InitAddress(Napi::Env env, Napi::Object exports);
void InitStatDir(Napi::Env env, Napi::Object exports);
void InitTreeBytes(Napi::Env env, Napi::Object exports);
void InitBlake3(Napi::Env env, Napi::Object exports);
void InitClone(Napi::Env env, Napi::Object exports);
void InitCopyRange(Napi::Env env, Napi::Object exports);
void InitFallocate(Napi::Env env, Napi::Object exports);
void InitStatx(Napi::Env env, Napi::Object exports);
void InitRenameNoReplace(Napi::Env env, Napi::Object exports);
void InitFsEvents(Napi::Env env, Napi::Object exports);
void InitUnixDatagram(Napi::Env env, Napi::Object exports);
void InitCopyFiles(Napi::Env env, Napi::Object exports);
void InitFileMaps(Napi::Env env, Napi::Object exports);
void InitReadFiles(Napi::Env env, Napi::Object exports);
void InitWriteFiles(Napi::Env env, Napi::Object exports);

}  // namespace foxing
