// statDir: one directory's entries, sorted by byte order, each with its lstat fields, in one
// call. A snapshot walk lists every directory and lstats every entry; done from JavaScript
// that is a readdir plus one lstat per entry, each through Node's fs layer (path string, a
// BigIntStats object with four Dates) and each resolving the whole path again. Here the entries
// are read with getdents64 and stat'ed with fstatat relative to the open directory, and the
// results are packed into arrays the caller passes in.
#include "common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace foxing {
namespace {

// Per entry: NUMS numbers (errno, mode, uid, gid, size, nlink, rdev, blocks) and BIGS int64s
// (atime, mtime and ctime in ns since the epoch, dev, ino). lib/fs/scan-dir.ts reads them.
constexpr size_t NUMS = 8;
constexpr size_t BIGS = 5;

// The kernel's linux_dirent64 (glibc declares no type for the raw system call).
struct Dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

// Closes the directory on every way out, exceptions included.
struct FdGuard {
  int fd;
  ~FdGuard() { close(fd); }
};

int64_t Ns(const struct timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1000000000LL + t.tv_nsec; }

// Fills caller-owned arrays, reused from call to call: creating four typed arrays and an
// object per directory cost more than the directory's system calls (about 30 us against 7 us
// per directory of a deep tree on the bench VM).
template <typename T>
T* ArrayData(const Napi::CallbackInfo& info, size_t index, size_t* length, const char* what) {
  if (!info[index].IsTypedArray()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a typed array");
  Napi::TypedArray a = info[index].As<Napi::TypedArray>();
  *length = a.ElementLength();
  return reinterpret_cast<T*>(static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
}

Napi::Value StatDir(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PathArg path = GetPath(info, 0, "path");
  size_t numsLen, bigsLen, endsLen, namesLen;
  double* nums = ArrayData<double>(info, 1, &numsLen, "nums");
  int64_t* bigs = ArrayData<int64_t>(info, 2, &bigsLen, "bigs");
  uint32_t* ends = ArrayData<uint32_t>(info, 3, &endsLen, "ends");
  char* outNames = ArrayData<char>(info, 4, &namesLen, "names");
  if (numsLen < 2) throw Napi::TypeError::New(env, "nums must hold at least 2 numbers");
  int fd = open(path.bytes.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw ErrnoError(env, errno, "scandir", &path.display);
  FdGuard guard{fd};
  // getdents64 directly: readdir(3) through fdopendir adds an fstat and an fcntl per
  // directory, a fifth of this function's system calls on a tree of small directories.
  std::string names;  // all names, back to back
  std::vector<std::pair<size_t, size_t>> spans;  // [start, length) of each name in `names`
  alignas(8) char buf[32768];
  for (;;) {
    long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (got < 0) throw ErrnoError(env, errno, "scandir", &path.display);
    if (got == 0) break;
    for (long off = 0; off < got;) {
      const auto* d = reinterpret_cast<const struct Dirent64*>(buf + off);
      off += d->d_reclen;
      const char* n = d->d_name;
      if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))) continue;
      size_t len = std::strlen(n);
      spans.emplace_back(names.size(), len);
      names.append(n, len);
    }
  }
  const size_t count = spans.size();
  if (count * NUMS > numsLen || count * BIGS > bigsLen || count > endsLen || names.size() > namesLen) {
    // Too small: say how much is needed; the caller grows its arrays and asks again.
    nums[0] = static_cast<double>(count);
    nums[1] = static_cast<double>(names.size());
    return Napi::Number::New(env, -1);
  }
  std::sort(spans.begin(), spans.end(), [&names](const auto& a, const auto& b) {
    int c = std::memcmp(names.data() + a.first, names.data() + b.first, std::min(a.second, b.second));
    return c != 0 ? c < 0 : a.second < b.second;
  });

  std::string name;
  size_t at = 0;
  for (size_t i = 0; i < count; i++) {
    name.assign(names.data() + spans[i].first, spans[i].second);
    std::memcpy(outNames + at, name.data(), name.size());
    at += name.size();
    ends[i] = static_cast<uint32_t>(at);
    double* n = nums + i * NUMS;
    int64_t* b = bigs + i * BIGS;
    struct stat st;
    if (fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      // The entry vanished or cannot be stat'ed: reported for that entry, the rest go on.
      n[0] = errno;
      for (size_t k = 1; k < NUMS; k++) n[k] = 0;
      for (size_t k = 0; k < BIGS; k++) b[k] = 0;
      continue;
    }
    n[0] = 0;
    n[1] = st.st_mode;
    n[2] = st.st_uid;
    n[3] = st.st_gid;
    n[4] = static_cast<double>(st.st_size);
    n[5] = static_cast<double>(st.st_nlink);
    n[6] = static_cast<double>(st.st_rdev);
    n[7] = static_cast<double>(st.st_blocks);
    b[0] = Ns(st.st_atim);
    b[1] = Ns(st.st_mtim);
    b[2] = Ns(st.st_ctim);
    b[3] = static_cast<int64_t>(st.st_dev);
    b[4] = static_cast<int64_t>(st.st_ino);
  }
  return Napi::Number::New(env, static_cast<double>(count));
}

}  // namespace

void InitStatDir(Napi::Env env, Napi::Object exports) {
  exports.Set("statDir", Napi::Function::New(env, StatDir, "statDir"));
}

}  // namespace foxing
