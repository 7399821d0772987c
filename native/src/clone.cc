// ficlone / ficloneRange: the FICLONE and FICLONERANGE ioctls (reflinks). The destination
// shares the source's extents, copy-on-write, so a copy of any size costs a few metadata
// writes. Only file systems with shared extents answer (btrfs, XFS with reflink=1, bcachefs,
// OCFS2); others fail with EOPNOTSUPP (ext4), ENOTTY or EINVAL (tmpfs), or EXDEV across file
// systems: callers fall back to copy_file_range or read/write. Node 20 has no ioctl.
#include "syscall_async.h"

#include <linux/fs.h>
#include <sys/ioctl.h>

#include <cerrno>

namespace foxing {
namespace {

int64_t Clone(int dst, int src, int& err) {
  if (ioctl(dst, FICLONE, src) != 0) err = errno;
  return 0;
}

// ficlone(dstFd, srcFd): dst's whole content becomes src's (dst's size too).
Napi::Value Ficlone(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int dst = GetFd(info, 0, "dstFd");
  int src = GetFd(info, 1, "srcFd");
  int err = 0;
  Clone(dst, src, err);
  if (err != 0) throw ErrnoError(env, err, "ioctl FICLONE", nullptr);
  return env.Undefined();
}

Napi::Value FicloneAsync(const Napi::CallbackInfo& info) {
  int dst = GetFd(info, 0, "dstFd");
  int src = GetFd(info, 1, "srcFd");
  return RunAsync(info.Env(), "ioctl FICLONE", [dst, src](int& err) { return Clone(dst, src, err); });
}

// ficloneRange(srcFd, srcOffset, length, dstFd, dstOffset): length 0 means "to the source's
// end". Offsets and length must be multiples of the file system's block size, except a range
// that ends at the source's end (EINVAL otherwise).
Napi::Value FicloneRange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct file_clone_range r;
  r.src_fd = GetFd(info, 0, "srcFd");
  r.src_offset = static_cast<__u64>(GetSize(info, 1, "srcOffset"));
  r.src_length = static_cast<__u64>(GetSize(info, 2, "length"));
  int dst = GetFd(info, 3, "dstFd");
  r.dest_offset = static_cast<__u64>(GetSize(info, 4, "dstOffset"));
  if (ioctl(dst, FICLONERANGE, &r) != 0) throw ErrnoError(env, errno, "ioctl FICLONERANGE", nullptr);
  return env.Undefined();
}

}  // namespace

void InitClone(Napi::Env env, Napi::Object exports) {
  exports.Set("ficlone", Napi::Function::New(env, Ficlone, "ficlone"));
  exports.Set("ficloneAsync", Napi::Function::New(env, FicloneAsync, "ficloneAsync"));
  exports.Set("ficloneRange", Napi::Function::New(env, FicloneRange, "ficloneRange"));
}

}  // namespace foxing
