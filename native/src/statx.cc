// statx(2): what fstat/lstat do not give Node 20: birth time, the mount id, and the device as
// major/minor (Node folds st_dev into one number). `target` is a path (symlinks not followed
// unless `follow`) or an open fd (AT_EMPTY_PATH). Fields the file system did not fill are null
// (btime on tmpfs before 6.x, on ext4 without large inodes; mntId before Linux 5.8).
// The file system's type is not in statx: Node's fs.statfs gives f_type.
#include "syscall_async.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

namespace foxing {
namespace {

Napi::BigInt Ns(Napi::Env env, const struct statx_timestamp& t) {
  int64_t ns = static_cast<int64_t>(t.tv_sec) * 1000000000 + static_cast<int64_t>(t.tv_nsec);
  return Napi::BigInt::New(env, ns);
}

Napi::Value Statx(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool follow = info.Length() > 1 && info[1].ToBoolean().Value();
  unsigned want = STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID;
  struct statx sx;
  int r;
  if (info[0].IsNumber()) {
    int fd = GetFd(info, 0, "target");
    r = statx(fd, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT, want, &sx);
    if (r != 0) throw ErrnoError(env, errno, "statx", nullptr);
  } else {
    PathArg p = GetPath(info, 0, "target");
    r = statx(AT_FDCWD, p.bytes.c_str(), (follow ? 0 : AT_SYMLINK_NOFOLLOW) | AT_STATX_SYNC_AS_STAT, want, &sx);
    if (r != 0) throw ErrnoError(env, errno, "statx", &p.display);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("mask", Napi::Number::New(env, sx.stx_mask));
  o.Set("devMajor", Napi::Number::New(env, sx.stx_dev_major));
  o.Set("devMinor", Napi::Number::New(env, sx.stx_dev_minor));
  // The same number Node's bigint stat gives as `dev`, so copy-data's pair keys agree with it.
  o.Set("dev", Napi::BigInt::New(env, static_cast<uint64_t>(makedev(sx.stx_dev_major, sx.stx_dev_minor))));
  o.Set("ino", Napi::BigInt::New(env, static_cast<uint64_t>(sx.stx_ino)));
  o.Set("mode", Napi::Number::New(env, sx.stx_mode));
  o.Set("nlink", Napi::Number::New(env, sx.stx_nlink));
  o.Set("uid", Napi::Number::New(env, sx.stx_uid));
  o.Set("gid", Napi::Number::New(env, sx.stx_gid));
  o.Set("size", Napi::Number::New(env, static_cast<double>(sx.stx_size)));
  o.Set("blocks", Napi::Number::New(env, static_cast<double>(sx.stx_blocks)));
  o.Set("blksize", Napi::Number::New(env, sx.stx_blksize));
  o.Set("rdevMajor", Napi::Number::New(env, sx.stx_rdev_major));
  o.Set("rdevMinor", Napi::Number::New(env, sx.stx_rdev_minor));
  o.Set("atimeNs", Ns(env, sx.stx_atime));
  o.Set("mtimeNs", Ns(env, sx.stx_mtime));
  o.Set("ctimeNs", Ns(env, sx.stx_ctime));
  o.Set("btimeNs", (sx.stx_mask & STATX_BTIME) ? Napi::Value(Ns(env, sx.stx_btime)) : env.Null());
  o.Set("mntId", (sx.stx_mask & STATX_MNT_ID) ? Napi::Value(Napi::BigInt::New(env, static_cast<uint64_t>(sx.stx_mnt_id))) : env.Null());
  return o;
}

}  // namespace

void InitStatx(Napi::Env env, Napi::Object exports) {
  exports.Set("statx", Napi::Function::New(env, Statx, "statx"));
}

}  // namespace foxing
