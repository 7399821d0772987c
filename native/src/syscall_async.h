// A system call run on libuv's thread pool, settling a Promise: the async twins of the copy
// calls (ficloneAsync, copyFileRangeAsync), so a large copy does not block the event loop.
// The work function runs off the JS thread and must touch no napi value: it returns a result
// >= 0 or sets `err` to an errno.
#pragma once
#include "common.h"

#include <functional>
#include <string>

namespace foxing {

class SyscallWorker : public Napi::AsyncWorker {
 public:
  SyscallWorker(Napi::Env env, const char* syscall, std::function<int64_t(int&)> work)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), syscall_(syscall), work_(std::move(work)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { result_ = work_(err_); }

  void OnOK() override {
    Napi::Env env = Env();
    if (err_ != 0) {
      deferred_.Reject(ErrnoError(env, err_, syscall_, nullptr).Value());
    } else {
      deferred_.Resolve(Napi::Number::New(env, static_cast<double>(result_)));
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  const char* syscall_;
  std::function<int64_t(int&)> work_;
  int64_t result_ = 0;
  int err_ = 0;
};

// Queues `work` on the thread pool and returns its Promise.
inline Napi::Value RunAsync(Napi::Env env, const char* syscall, std::function<int64_t(int&)> work) {
  auto* w = new SyscallWorker(env, syscall, std::move(work));  // deletes itself after OnOK
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// An fd argument: a non-negative int.
inline int GetFd(const Napi::CallbackInfo& info, size_t index, const char* what) {
  int64_t fd = GetInt64(info, index, what);
  if (fd < 0 || fd > 0x7FFFFFFF) {
    throw Napi::RangeError::New(info.Env(), std::string("The \"") + what + "\" argument is out of range");
  }
  return static_cast<int>(fd);
}

// A non-negative offset or length argument.
inline int64_t GetSize(const Napi::CallbackInfo& info, size_t index, const char* what) {
  int64_t v = GetInt64(info, index, what);
  if (v < 0) throw Napi::RangeError::New(info.Env(), std::string("The \"") + what + "\" argument must be >= 0");
  return v;
}

}  // namespace foxing
