// sendUnixDatagram: one datagram to an AF_UNIX socket, for systemd's readiness protocol
// (sd_notify: "READY=1" to $NOTIFY_SOCKET) without libsystemd. Node's dgram module speaks UDP
// only. A path starting with '@' names an abstract socket (its '@' becomes the leading NUL).
#include "common.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace foxing {
namespace {

Napi::Value SendUnixDatagram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PathArg path = GetPath(info, 0, "path");
  if (!info[1].IsString()) throw Napi::TypeError::New(env, "message must be a string");
  const std::string message = info[1].As<Napi::String>().Utf8Value();
  struct sockaddr_un addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.bytes.empty() || path.bytes.size() >= sizeof addr.sun_path) throw Napi::TypeError::New(env, "socket path empty or too long");
  std::memcpy(addr.sun_path, path.bytes.data(), path.bytes.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  const socklen_t len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + path.bytes.size());
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ErrnoError(env, errno, "socket", nullptr);
  ssize_t n = sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<struct sockaddr*>(&addr), len);
  int err = errno;
  close(fd);
  if (n < 0) throw ErrnoError(env, err, "sendto", &path.display);
  return env.Undefined();
}

}  // namespace

void InitUnixDatagram(Napi::Env env, Napi::Object exports) {
  exports.Set("sendUnixDatagram", Napi::Function::New(env, SendUnixDatagram, "sendUnixDatagram"));
}

}  // namespace foxing
