// renameNoReplace: renameat2(RENAME_NOREPLACE), a rename that fails with EEXIST instead of
// replacing what is at the new name, atomically (no check-then-rename race). File systems
// without it answer EINVAL (older NFS, some FUSE); lib/fs/rename-noreplace.ts then falls back.
#include "common.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>

#include <cerrno>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

namespace foxing {
namespace {

Napi::Value RenameNoReplace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PathArg from = GetPath(info, 0, "from");
  PathArg to = GetPath(info, 1, "to");
  if (renameat2(AT_FDCWD, from.bytes.c_str(), AT_FDCWD, to.bytes.c_str(), RENAME_NOREPLACE) != 0) {
    int err = errno;
    // Node's rename errors read "..., rename 'a' -> 'b'"; `path` is the old name, `dest` the new.
    std::string shown = from.display + "' -> '" + to.display;
    Napi::Error e = ErrnoError(env, err, "renameat2", &shown);
    e.Set("path", Napi::String::New(env, from.display));
    e.Set("dest", Napi::String::New(env, to.display));
    throw e;
  }
  return env.Undefined();
}

}  // namespace

void InitRenameNoReplace(Napi::Env env, Napi::Object exports) {
  exports.Set("renameNoReplace", Napi::Function::New(env, RenameNoReplace, "renameNoReplace"));
}

}  // namespace foxing
