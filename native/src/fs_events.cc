// The kernel's file change notifications for foxingd: an inotify instance and its watches, or
// (as root) a fanotify group with a filesystem mark and the paths of its file handles, and a
// readiness poll on libuv's loop, so that events reach JavaScript as raw bytes the moment the
// kernel queues them (no batching delay, no thread). The bytes are decoded in TypeScript
// (lib/daemon/inotify-events.ts), where the decoder is pure and fuzzed.
//
// Why not Node's fs.watch: it gives no move cookies (a rename is two unrelated events), hides
// the queue overflow (IN_Q_OVERFLOW), and its recursive mode on Linux walks the tree in
// JavaScript with known missed-event bugs.
#include "common.h"

#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace foxing {
namespace {

Napi::Value InotifyInit(const Napi::CallbackInfo& info) {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) throw ErrnoError(info.Env(), errno, "inotify_init1", nullptr);
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value InotifyAddWatch(const Napi::CallbackInfo& info) {
  const int fd = static_cast<int>(GetNumber(info, 0, "fd"));
  PathArg path = GetPath(info, 1, "path");
  const uint32_t mask = static_cast<uint32_t>(GetNumber(info, 2, "mask"));
  int wd = inotify_add_watch(fd, path.bytes.c_str(), mask);
  if (wd < 0) throw ErrnoError(info.Env(), errno, "inotify_add_watch", &path.display);
  return Napi::Number::New(info.Env(), wd);
}

Napi::Value InotifyRmWatch(const Napi::CallbackInfo& info) {
  const int fd = static_cast<int>(GetNumber(info, 0, "fd"));
  const int wd = static_cast<int>(GetNumber(info, 1, "wd"));
  // EINVAL: the kernel dropped the watch already (its directory was deleted): nothing to do.
  if (inotify_rm_watch(fd, wd) != 0 && errno != EINVAL) throw ErrnoError(info.Env(), errno, "inotify_rm_watch", nullptr);
  return info.Env().Undefined();
}

// fanotify_init(flags | FAN_NONBLOCK | FAN_CLOEXEC, O_RDONLY | O_CLOEXEC): the descriptor. As
// root only (CAP_SYS_ADMIN); EPERM otherwise, EINVAL where the kernel lacks a flag asked for.
Napi::Value FanotifyInit(const Napi::CallbackInfo& info) {
  const unsigned flags = static_cast<unsigned>(GetNumber(info, 0, "flags"));
  int fd = fanotify_init(flags | FAN_NONBLOCK | FAN_CLOEXEC, O_RDONLY | O_CLOEXEC | O_LARGEFILE);
  if (fd < 0) throw ErrnoError(info.Env(), errno, "fanotify_init", nullptr);
  return Napi::Number::New(info.Env(), fd);
}

// fanotify_mark(fd, flags, mask, AT_FDCWD, path).
Napi::Value FanotifyMark(const Napi::CallbackInfo& info) {
  const int fd = static_cast<int>(GetNumber(info, 0, "fd"));
  const unsigned flags = static_cast<unsigned>(GetNumber(info, 1, "flags"));
  const uint64_t mask = static_cast<uint64_t>(GetNumber(info, 2, "mask"));
  PathArg path = GetPath(info, 3, "path");
  if (fanotify_mark(fd, flags, mask, AT_FDCWD, path.bytes.c_str()) != 0) throw ErrnoError(info.Env(), errno, "fanotify_mark", &path.display);
  return info.Env().Undefined();
}

// Copies a `struct file_handle` (u32 bytes, i32 type, then the bytes) out of argument `at`.
void GetHandle(const Napi::CallbackInfo& info, size_t at, unsigned char* buf) {
  Napi::Env env = info.Env();
  if (!info[at].IsTypedArray()) throw Napi::TypeError::New(env, "handle must be a Uint8Array");
  Napi::TypedArray h = info[at].As<Napi::TypedArray>();
  const size_t len = h.ByteLength();
  if (len < 8) throw Napi::TypeError::New(env, "handle too short");
  const unsigned char* bytes = static_cast<const unsigned char*>(h.ArrayBuffer().Data()) + h.ByteOffset();
  uint32_t handleBytes;
  std::memcpy(&handleBytes, bytes, 4);
  if (handleBytes > MAX_HANDLE_SZ || 8 + static_cast<size_t>(handleBytes) > len) throw Napi::TypeError::New(env, "handle length out of bounds");
  std::memcpy(buf, bytes, 8 + handleBytes);
}

// fanotify_mark(fd, flags, mask) on the directory a file handle names, opened relative to
// `mountFd` (O_RDONLY: fanotify_mark does not take an O_PATH descriptor). By handle, not by
// path: a path looked up now may name another directory than the one the event came from.
// False when the directory is gone (ESTALE, ENOENT).
Napi::Value FanotifyMarkHandle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = static_cast<int>(GetNumber(info, 0, "fd"));
  const unsigned flags = static_cast<unsigned>(GetNumber(info, 1, "flags"));
  const uint64_t mask = static_cast<uint64_t>(GetNumber(info, 2, "mask"));
  const int mountFd = static_cast<int>(GetNumber(info, 3, "mountFd"));
  alignas(struct file_handle) unsigned char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
  GetHandle(info, 4, buf);
  int dir = open_by_handle_at(mountFd, reinterpret_cast<struct file_handle*>(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    if (errno == ESTALE || errno == ENOENT) return Napi::Boolean::New(env, false);
    throw ErrnoError(env, errno, "open_by_handle_at", nullptr);
  }
  int r = fanotify_mark(fd, flags, mask, dir, nullptr);
  int err = errno;
  close(dir);
  if (r != 0) throw ErrnoError(env, err, "fanotify_mark", nullptr);
  return Napi::Boolean::New(env, true);
}

// Whether the directory a file handle names lies at or below the directory `rootFd` is open on
// (same device and inode), walking up by "..": for a directory whose path is too long to be
// told (pathOfHandle's undefined), so that one far outside the source is known to be outside.
// Null when it is gone. Costs a descriptor and an fstat per level, up to 4,096 levels (then
// it says true: the caller rescans, which is always safe).
Napi::Value HandleUnder(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int rootFd = static_cast<int>(GetNumber(info, 0, "rootFd"));
  alignas(struct file_handle) unsigned char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
  GetHandle(info, 1, buf);
  struct stat root;
  if (fstat(rootFd, &root) != 0) throw ErrnoError(env, errno, "fstat", nullptr);
  int fd = open_by_handle_at(rootFd, reinterpret_cast<struct file_handle*>(buf), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ESTALE || errno == ENOENT) return env.Null();
    throw ErrnoError(env, errno, "open_by_handle_at", nullptr);
  }
  for (int level = 0; level < 4096; level++) {
    struct stat st;
    if (fstat(fd, &st) != 0) { int err = errno; close(fd); throw ErrnoError(env, err, "fstat", nullptr); }
    if (st.st_dev == root.st_dev && st.st_ino == root.st_ino) { close(fd); return Napi::Boolean::New(env, true); }
    int up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (up < 0) { int err = errno; close(fd); throw ErrnoError(env, err, "openat ..", nullptr); }
    struct stat parent;
    if (fstat(up, &parent) != 0) { int err = errno; close(fd); close(up); throw ErrnoError(env, err, "fstat", nullptr); }
    close(fd);
    fd = up;
    // The top of the file system (or of what this mount shows) is its own parent.
    if (parent.st_dev == st.st_dev && parent.st_ino == st.st_ino) { close(fd); return Napi::Boolean::New(env, false); }
  }
  close(fd);
  return Napi::Boolean::New(env, true);
}

// The path a file handle (struct file_handle: u32 bytes, i32 type, then the bytes, as an
// fanotify FID record carries it) stands for now, opened relative to `mountFd` (a descriptor
// on the same file system): open_by_handle_at(O_PATH), then /proc/self/fd. Null when the
// inode is gone (ESTALE, ENOENT) or its path is no longer reachable (" (deleted)");
// undefined when it exists but its path is too long to be told (over a page).
Napi::Value PathOfHandle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int mountFd = static_cast<int>(GetNumber(info, 0, "mountFd"));
  alignas(struct file_handle) unsigned char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
  GetHandle(info, 1, buf);
  int fd = open_by_handle_at(mountFd, reinterpret_cast<struct file_handle*>(buf), O_PATH | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ESTALE || errno == ENOENT) return env.Null();
    throw ErrnoError(env, errno, "open_by_handle_at", nullptr);
  }
  char link[64];
  std::string target(4096, '\0');
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n;
  // The kernel's d_path gives at most a page; a longer path is ENAMETOOLONG: not resolvable.
  n = readlink(link, &target[0], target.size());
  int err = errno;
  close(fd);
  if (n < 0 && err == ENAMETOOLONG) return env.Undefined();
  if (n < 0) throw ErrnoError(env, err, "readlink", nullptr);
  std::string path(target.data(), static_cast<size_t>(n));
  const std::string deleted = " (deleted)";
  if (path.empty() || path[0] != '/' || (path.size() > deleted.size() && path.compare(path.size() - deleted.size(), deleted.size(), deleted) == 0)) return env.Null();
  return Napi::Buffer<char>::Copy(env, path.data(), path.size());
}

// Reads what the non-blocking `fd` has into `buf`: the byte count, 0 when nothing is waiting.
Napi::Value ReadAvailable(const Napi::CallbackInfo& info) {
  const int fd = static_cast<int>(GetNumber(info, 0, "fd"));
  if (!info[1].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "buf must be a Uint8Array");
  Napi::TypedArray buf = info[1].As<Napi::TypedArray>();
  char* at = static_cast<char*>(buf.ArrayBuffer().Data()) + buf.ByteOffset();
  for (;;) {
    ssize_t got = read(fd, at, buf.ByteLength());
    if (got >= 0) return Napi::Number::New(info.Env(), static_cast<double>(got));
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return Napi::Number::New(info.Env(), 0);
    throw ErrnoError(info.Env(), errno, "read", nullptr);
  }
}

// A uv_poll on a descriptor: calls back (with no arguments) each time it is readable, until
// stop(). The callback reads with readAvailable until 0. Does not own the descriptor.
class FdPoll : public Napi::ObjectWrap<FdPoll> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FdPoll", {
      InstanceMethod("stop", &FdPoll::Stop),
      InstanceMethod("unref", &FdPoll::UnrefLoop),
      InstanceMethod("ref", &FdPoll::RefLoop),
    });
  }

  explicit FdPoll(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FdPoll>(info), context_(info.Env(), "foxing:fdPoll") {
    const int fd = static_cast<int>(GetNumber(info, 0, "fd"));
    if (!info[1].IsFunction()) throw Napi::TypeError::New(info.Env(), "onReadable must be a function");
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(info.Env(), &loop) != napi_ok) throw Napi::Error::New(info.Env(), "no event loop");
    handle_ = new uv_poll_t;
    int r = uv_poll_init(loop, handle_, fd);
    if (r != 0) { delete handle_; handle_ = nullptr; throw ErrnoError(info.Env(), -r, "uv_poll_init", nullptr); }
    handle_->data = this;
    uv_poll_start(handle_, UV_READABLE, OnReadable);
    Napi::ObjectWrap<FdPoll>::Ref();  // the JS object lives while the poll runs, so the callback always has its owner
  }

  ~FdPoll() override { Close(); }

 private:
  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<FdPoll*>(handle->data);
    if (self == nullptr) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    Napi::Value err = status < 0 ? Napi::Value(ErrnoError(env, -status, "uv_poll", nullptr).Value()) : env.Undefined();
    // MakeCallback: promise jobs queued by the callback run when it returns, as after any I/O.
    // A JavaScript exception comes back as a C++ one; it must not leave this libuv callback
    // (that would abort the process): it is handed to Node as an uncaught exception, as one
    // thrown by any other callback of the loop is.
    try {
      self->callback_.MakeCallback(self->Value(), {err}, self->context_);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());
    }
  }

  void Close() {
    if (handle_ == nullptr) return;
    uv_poll_stop(handle_);
    handle_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    handle_ = nullptr;
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) {
      Close();
      Napi::ObjectWrap<FdPoll>::Unref();
    }
    return info.Env().Undefined();
  }

  Napi::Value UnrefLoop(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
    return info.Env().Undefined();
  }

  Napi::Value RefLoop(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(handle_));
    return info.Env().Undefined();
  }

  uv_poll_t* handle_ = nullptr;
  Napi::FunctionReference callback_;
  Napi::AsyncContext context_;
};

}  // namespace

void InitFsEvents(Napi::Env env, Napi::Object exports) {
  exports.Set("inotifyInit", Napi::Function::New(env, InotifyInit, "inotifyInit"));
  exports.Set("inotifyAddWatch", Napi::Function::New(env, InotifyAddWatch, "inotifyAddWatch"));
  exports.Set("inotifyRmWatch", Napi::Function::New(env, InotifyRmWatch, "inotifyRmWatch"));
  exports.Set("readAvailable", Napi::Function::New(env, ReadAvailable, "readAvailable"));
  exports.Set("fanotifyInit", Napi::Function::New(env, FanotifyInit, "fanotifyInit"));
  exports.Set("fanotifyMark", Napi::Function::New(env, FanotifyMark, "fanotifyMark"));
  exports.Set("pathOfHandle", Napi::Function::New(env, PathOfHandle, "pathOfHandle"));
  exports.Set("fanotifyMarkHandle", Napi::Function::New(env, FanotifyMarkHandle, "fanotifyMarkHandle"));
  exports.Set("handleUnder", Napi::Function::New(env, HandleUnder, "handleUnder"));
  exports.Set("FdPoll", FdPoll::Define(env));
}

}  // namespace foxing
