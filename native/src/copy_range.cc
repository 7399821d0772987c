// copyFileRange: copy_file_range(2) with explicit offsets on both sides (the file positions are
// neither used nor moved, so one fd may serve several copies). Node's fs.copyFile uses it only
// for whole files, without offsets, and so cannot skip holes. The kernel copies inside the file
// system (server-side on NFS, a reflink on btrfs and XFS); across file systems it answers EXDEV
// (since Linux 5.19, except NFS/CIFS between their own mounts), on some pseudo file systems 0.
//
// Returns the bytes copied, which may be fewer than asked (a signal, the source's end, a
// file system's own cap): callers loop. 0 means the source has no byte at srcOffset.
//
// sendFile: the same through sendfile(2), which works across file systems (the kernel moves
// pages from the source's page cache into the destination: one copy, none through this process,
// where pread/pwrite make two). sendfile writes at the destination's file position, so it is
// first moved to dstOffset: the destination fd must not be shared with a concurrent writer.
#include "syscall_async.h"

#include <sys/sendfile.h>
#include <unistd.h>

#include <cerrno>

namespace foxing {
namespace {

struct RangeArgs {
  int src;
  loff_t srcOffset;
  int dst;
  loff_t dstOffset;
  size_t length;
};

RangeArgs GetRange(const Napi::CallbackInfo& info) {
  RangeArgs a;
  a.src = GetFd(info, 0, "srcFd");
  a.srcOffset = static_cast<loff_t>(GetSize(info, 1, "srcOffset"));
  a.dst = GetFd(info, 2, "dstFd");
  a.dstOffset = static_cast<loff_t>(GetSize(info, 3, "dstOffset"));
  a.length = static_cast<size_t>(GetSize(info, 4, "length"));
  return a;
}

int64_t CopyRange(RangeArgs a, int& err) {
  ssize_t n;
  do {
    n = copy_file_range(a.src, &a.srcOffset, a.dst, &a.dstOffset, a.length, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) err = errno;
  return n < 0 ? 0 : static_cast<int64_t>(n);
}

int64_t SendRange(RangeArgs a, int& err) {
  if (lseek(a.dst, a.dstOffset, SEEK_SET) < 0) {
    err = errno;
    return 0;
  }
  ssize_t n;
  do {
    n = sendfile(a.dst, a.src, &a.srcOffset, a.length);
  } while (n < 0 && errno == EINTR);
  if (n < 0) err = errno;
  return n < 0 ? 0 : static_cast<int64_t>(n);
}

Napi::Value SendFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int err = 0;
  int64_t n = SendRange(GetRange(info), err);
  if (err != 0) throw ErrnoError(env, err, "sendfile", nullptr);
  return Napi::Number::New(env, static_cast<double>(n));
}

Napi::Value SendFileAsync(const Napi::CallbackInfo& info) {
  RangeArgs a = GetRange(info);
  return RunAsync(info.Env(), "sendfile", [a](int& err) { return SendRange(a, err); });
}

Napi::Value CopyFileRange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int err = 0;
  int64_t n = CopyRange(GetRange(info), err);
  if (err != 0) throw ErrnoError(env, err, "copy_file_range", nullptr);
  return Napi::Number::New(env, static_cast<double>(n));
}

Napi::Value CopyFileRangeAsync(const Napi::CallbackInfo& info) {
  RangeArgs a = GetRange(info);
  return RunAsync(info.Env(), "copy_file_range", [a](int& err) { return CopyRange(a, err); });
}

}  // namespace

void InitCopyRange(Napi::Env env, Napi::Object exports) {
  exports.Set("copyFileRange", Napi::Function::New(env, CopyFileRange, "copyFileRange"));
  exports.Set("copyFileRangeAsync", Napi::Function::New(env, CopyFileRangeAsync, "copyFileRangeAsync"));
  exports.Set("sendFile", Napi::Function::New(env, SendFile, "sendFile"));
  exports.Set("sendFileAsync", Napi::Function::New(env, SendFileAsync, "sendFileAsync"));
}

}  // namespace foxing
