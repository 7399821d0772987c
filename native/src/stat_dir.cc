// statDir: one directory's entries, sorted by byte order, each with its lstat fields, in one
// call. A snapshot walk lists every directory and lstats every entry; done from JavaScript
// that is a readdir plus one lstat per entry, each through Node's fs layer (path string, a
// BigIntStats object with four Dates) and each resolving the whole path again. Here the entries
// are read with getdents64 and stat'ed with fstatat relative to the open directory, and the
// results are packed into a buffer the caller passes in.
#include "common.h"
#include "dir_scan.h"
#include "scan_ahead.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace foxing {

namespace {

// Closes the directory on every way out.
struct FdGuard {
  int fd;
  ~FdGuard() { close(fd); }
};

int64_t Ns(const struct timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1000000000LL + t.tv_nsec; }

// listxattrat(2) (Linux 6.13): an entry's xattr names sized relative to the open directory,
// without resolving its whole path again as llistxattr does: ~2 us less an entry, about half
// the call (9,528 entries of the `mixed` set on XFS: 29-41 ms by path, 15-18 ms this way).
// Its number is the same on every architecture that uses the common table; elsewhere, and on
// an older kernel (ENOSYS, remembered), the call by path.
#if defined(__x86_64__) || defined(__aarch64__) || defined(__riscv)
constexpr long kListxattrat = 465;
#else
constexpr long kListxattrat = -1;
#endif
std::atomic<bool> noListxattrat{kListxattrat < 0};

ssize_t XattrListSize(int dirFd, const std::string& dir, const std::string& name) {
  if (!noListxattrat.load(std::memory_order_relaxed)) {
    ssize_t got = syscall(kListxattrat, dirFd, name.c_str(), AT_SYMLINK_NOFOLLOW, nullptr, 0);
    if (got >= 0 || (errno != ENOSYS && errno != EPERM)) return got;  // EPERM: a seccomp filter that does not know it
    noListxattrat.store(true, std::memory_order_relaxed);
  }
  std::string full = dir + "/" + name;
  return llistxattr(full.c_str(), nullptr, 0);
}

}  // namespace

// Packs into one byte string, which statDir copies into a caller-owned buffer reused from call
// to call: creating typed arrays and an object per directory cost more than the directory's
// system calls (about 30 us against 7 us per directory of a deep tree on the bench VM).
// Layout for n entries, all little-endian:
//   n * kScanNums doubles | n * kScanBigs int64s | n uint32 name ends | the names, back to back.
// The doubles come first, so every part is aligned when the buffer is 8-byte aligned.
void ScanDirPacked(const std::string& path, bool xattrSizes, DirScan* out, bool ownDev) {
  out->packed.clear();
  out->count = 0;
  out->err = 0;
  out->dev = -1;
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) { out->err = errno; return; }
  FdGuard guard{fd};
  struct stat own;
  if (ownDev && fstat(fd, &own) == 0) out->dev = static_cast<int64_t>(own.st_dev);
  // getdents64 directly: readdir(3) through fdopendir adds an fstat and an fcntl per
  // directory, a fifth of this function's system calls on a tree of small directories.
  std::string names;  // all names, back to back
  std::vector<std::pair<size_t, size_t>> spans;  // [start, length) of each name in `names`
  alignas(8) char buf[32768];
  for (;;) {
    long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (got < 0) { out->err = errno; return; }
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
  std::sort(spans.begin(), spans.end(), [&names](const auto& a, const auto& b) {
    int c = std::memcmp(names.data() + a.first, names.data() + b.first, std::min(a.second, b.second));
    return c != 0 ? c < 0 : a.second < b.second;
  });
  const size_t count = spans.size();
  const size_t bigsAt = count * kScanNums * 8, endsAt = bigsAt + count * kScanBigs * 8, namesAt = endsAt + count * 4;
  out->packed.resize(namesAt + names.size());
  out->count = count;
  char* o = out->packed.data();
  std::string name;
  size_t at = 0;
  for (size_t i = 0; i < count; i++) {
    name.assign(names.data() + spans[i].first, spans[i].second);
    std::memcpy(o + namesAt + at, name.data(), name.size());
    at += name.size();
    const uint32_t end = static_cast<uint32_t>(at);
    std::memcpy(o + endsAt + i * 4, &end, 4);
    double n[kScanNums] = {0};
    int64_t b[kScanBigs] = {0};
    struct stat st;
    if (fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      // The entry vanished or cannot be stat'ed: reported for that entry, the rest go on.
      n[0] = errno;
    } else {
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
      n[8] = -1;  // not asked, or unknown: the caller lists the xattrs itself
      if (xattrSizes) {
        ssize_t got = XattrListSize(fd, path, name);
        if (got >= 0) n[8] = static_cast<double>(got);
        else if (errno == ENOTSUP) n[8] = 0;  // a file system without xattrs has none
      }
    }
    std::memcpy(o + i * kScanNums * 8, n, sizeof n);
    std::memcpy(o + bigsAt + i * kScanBigs * 8, b, sizeof b);
  }
}

namespace {

Napi::Value StatDir(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PathArg path = GetPath(info, 0, "path");
  if (!info[1].IsTypedArray()) throw Napi::TypeError::New(env, "out must be a Uint8Array");
  Napi::TypedArray outArray = info[1].As<Napi::TypedArray>();
  char* out = static_cast<char*>(outArray.ArrayBuffer().Data()) + outArray.ByteOffset();
  size_t outLen = outArray.ByteLength();
  if (reinterpret_cast<uintptr_t>(out) % 8 != 0) throw Napi::TypeError::New(env, "out must be 8-byte aligned");
  // Whether to size each entry's xattr name list (llistxattr with no buffer): a snapshot with no
  // parent must read every entry's xattrs, and most entries have none; asked here, that is one
  // system call per entry instead of a call into the addon per entry.
  const bool xattrSizes = info.Length() > 2 && info[2].ToBoolean().Value();
  // The number of the walk this scan is part of, which goes on into the subdirectories
  // (scan_ahead.cc); 0 or absent: a scan on its own.
  const uint32_t walk = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Uint32Value() : 0;
  DirScan scan;
  if (walk != 0) TakeScan(path.bytes, walk, xattrSizes, &scan);
  else ScanDirPacked(path.bytes, xattrSizes, &scan);
  if (scan.err != 0) throw ErrnoError(env, scan.err, "scandir", &path.display);
  const size_t needed = scan.packed.size();
  if (needed > outLen) {
    // Too small: the caller grows its buffer to the size returned (negated) and asks again.
    if (walk != 0) KeepScan(path.bytes, walk, xattrSizes, std::move(scan));
    return Napi::Number::New(env, -static_cast<double>(needed));
  }
  std::memcpy(out, scan.packed.data(), needed);
  return Napi::Number::New(env, static_cast<double>(scan.count));
}

// pairScans: two packed scans of the same directory's two sides (a copy's source and
// destination, both in byte order of names) matched by name, and each source entry that the
// quick check finds unchanged flagged, in one call. Done from JavaScript, that was ~3 us an
// entry (a name merge through Buffer.compare, the size, time, mode and owner reads, each a call
// on the scan object): most of an unchanged re-run's own time. The rules are exactly those of
// lib/fs/scan-pair.ts's portable twin (test/fs/scan-pair.test.ts compares the two).
//
// Arguments: src, srcCount, dst, dstCount (packed as statDir packs them, 8-byte aligned);
// flags (kPair*); temp (a name prefix whose presence in dst is reported); match (Int32Array of
// srcCount: dst's index of each source entry, -1 when none, -2 - index when unchanged); ids
// (room for kPairIdBytes per source entry: each unchanged entry's destination identity, dev,
// ino, size, mtime, ctime, then the source's dev, ino, ctime, little-endian, back to back);
// stats (Float64Array of 3: bytes of the unchanged entries, destination names with the temp
// prefix, destination entries no source entry names). Returns the number of unchanged entries.
// kPairXattrsUnknown: under kPairNoXattrs, a source whose xattr list was not sized (-1) passes
// too (the caller then proves it has none, or sizes it: sizeXattrs).
constexpr uint32_t kPairSame = 1, kPairPerms = 2, kPairOwner = 4, kPairNoXattrs = 8, kPairOneLink = 16, kPairXattrsUnknown = 32;
constexpr size_t kPairIdBytes = 64;

struct PackedView {
  const char* p;
  size_t n;
  double Num(size_t i, size_t k) const { double v; std::memcpy(&v, p + (i * kScanNums + k) * 8, 8); return v; }
  const char* Big(size_t i) const { return p + n * kScanNums * 8 + i * kScanBigs * 8; }
  uint32_t End(size_t i) const { uint32_t v; std::memcpy(&v, p + n * (kScanNums + kScanBigs) * 8 + i * 4, 4); return v; }
  const char* Name(size_t i, size_t* len) const {
    const uint32_t start = i == 0 ? 0 : End(i - 1);
    *len = End(i) - start;
    return p + n * (kScanNums + kScanBigs) * 8 + n * 4 + start;
  }
};

int CompareNames(const PackedView& a, size_t i, const PackedView& b, size_t j) {
  size_t la, lb;
  const char* x = a.Name(i, &la);
  const char* y = b.Name(j, &lb);
  int c = std::memcmp(x, y, std::min(la, lb));
  return c != 0 ? c : (la < lb ? -1 : la > lb ? 1 : 0);
}

PackedView ViewOf(const Napi::CallbackInfo& info, size_t arg) {
  Napi::Env env = info.Env();
  if (!info[arg].IsTypedArray()) throw Napi::TypeError::New(env, "a packed scan must be a Uint8Array");
  auto a = info[arg].As<Napi::TypedArray>();
  const size_t n = static_cast<size_t>(GetNumber(info, arg + 1, "count"));
  const char* p = static_cast<const char*>(a.ArrayBuffer().Data()) + a.ByteOffset();
  if (n * (kScanNums * 8 + kScanBigs * 8 + 4) > a.ByteLength()) throw Napi::RangeError::New(env, "a packed scan shorter than its count");
  PackedView v{p, n};
  // Name ends must not go back, nor past the buffer: every Name() is then inside it.
  uint32_t last = 0;
  for (size_t i = 0; i < n; i++) {
    const uint32_t end = v.End(i);
    if (end < last) throw Napi::RangeError::New(env, "a packed scan's name ends go back");
    last = end;
  }
  if (n * (kScanNums * 8 + kScanBigs * 8 + 4) + last > a.ByteLength()) throw Napi::RangeError::New(env, "names past the packed scan's end");
  return v;
}

template <typename T>
T* TypedOut(const Napi::CallbackInfo& info, size_t arg, size_t bytes) {
  if (!info[arg].IsTypedArray() || info[arg].As<Napi::TypedArray>().ByteLength() < bytes) {
    throw Napi::RangeError::New(info.Env(), "pairScans: an output array is too small");
  }
  auto a = info[arg].As<Napi::TypedArray>();
  return reinterpret_cast<T*>(static_cast<char*>(a.ArrayBuffer().Data()) + a.ByteOffset());
}

Napi::Value PairScans(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const PackedView src = ViewOf(info, 0), dst = ViewOf(info, 2);
  const uint32_t flags = static_cast<uint32_t>(GetNumber(info, 4, "flags"));
  if (!info[5].IsTypedArray()) throw Napi::TypeError::New(env, "pairScans: temp must be a Uint8Array");
  auto tempArr = info[5].As<Napi::TypedArray>();
  const char* temp = static_cast<const char*>(tempArr.ArrayBuffer().Data()) + tempArr.ByteOffset();
  const size_t tempLen = tempArr.ByteLength();
  int32_t* match = TypedOut<int32_t>(info, 6, src.n * 4);
  char* ids = TypedOut<char>(info, 7, src.n * kPairIdBytes);
  double* stats = TypedOut<double>(info, 8, 3 * 8);
  size_t same = 0, matched = 0, temps = 0;
  double sameBytes = 0;
  for (size_t j = 0; j < dst.n; j++) {
    size_t len;
    const char* name = dst.Name(j, &len);
    if (len > tempLen && std::memcmp(name, temp, tempLen) == 0) temps++;
  }
  size_t j = 0;
  for (size_t i = 0; i < src.n; i++) {
    int c = 1;
    while (j < dst.n && (c = CompareNames(src, i, dst, j)) > 0) j++;
    if (j == dst.n || c != 0) { match[i] = -1; continue; }
    matched++;
    match[i] = static_cast<int32_t>(j);
    if (!(flags & kPairSame) || src.Num(i, 0) != 0 || dst.Num(j, 0) != 0) continue;
    const double mode = src.Num(i, 1), dmode = dst.Num(j, 1);
    if (!S_ISREG(static_cast<mode_t>(mode)) || !S_ISREG(static_cast<mode_t>(dmode))) continue;
    if ((flags & kPairOneLink) && src.Num(i, 5) > 1) continue;
    const double xattrs = src.Num(i, 8);
    if ((flags & kPairNoXattrs) && xattrs != 0 && !(xattrs == -1 && (flags & kPairXattrsUnknown))) continue;
    if (src.Num(i, 4) != dst.Num(j, 4) || std::memcmp(src.Big(i) + 8, dst.Big(j) + 8, 8) != 0) continue;
    if ((flags & kPairPerms) && (static_cast<uint32_t>(mode) & 07777) != (static_cast<uint32_t>(dmode) & 07777)) continue;
    if ((flags & kPairOwner) && (src.Num(i, 2) != dst.Num(j, 2) || src.Num(i, 3) != dst.Num(j, 3))) continue;
    match[i] = -2 - static_cast<int32_t>(j);
    // The identity a signature record names (formats/signatures.md §2, bytes 8-47).
    char* id = ids + same * kPairIdBytes;
    const char* big = dst.Big(j);
    const uint64_t size = static_cast<uint64_t>(dst.Num(j, 4));
    std::memcpy(id, big + 24, 16);
    std::memcpy(id + 16, &size, 8);
    std::memcpy(id + 24, big + 8, 16);
    std::memcpy(id + 40, src.Big(i) + 24, 16);
    std::memcpy(id + 56, src.Big(i) + 16, 8);
    same++;
    sameBytes += src.Num(i, 4);
  }
  stats[0] = sameBytes;
  stats[1] = static_cast<double>(temps);
  stats[2] = static_cast<double>(dst.n - matched);
  return Napi::Number::New(env, static_cast<double>(same));
}

// sizeXattrs(dir, packed, count): the xattr list size of each stat'ed entry of a scan made
// without them, written into the scan in place (its ninth number), as statDir(…, true) would
// have: a copy sizes a source directory's xattrs only where it cannot show they are none.
Napi::Value SizeXattrs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PathArg path = GetPath(info, 0, "dir");
  const PackedView v = ViewOf(info, 1);
  char* p = const_cast<char*>(v.p);
  int fd = open(path.bytes.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw ErrnoError(env, errno, "open", &path.display);
  FdGuard guard{fd};
  std::string name;
  for (size_t i = 0; i < v.n; i++) {
    if (v.Num(i, 0) != 0) continue;
    size_t len;
    const char* n = v.Name(i, &len);
    name.assign(n, len);
    double size = -1;
    ssize_t got = XattrListSize(fd, path.bytes, name);
    if (got >= 0) size = static_cast<double>(got);
    else if (errno == ENOTSUP) size = 0;
    std::memcpy(p + (i * kScanNums + 8) * 8, &size, 8);
  }
  return env.Undefined();
}

// scanAhead(path, xattrSizes): starts a walk at directory `path` on the scan-ahead thread now,
// before its walker is ready; returns the walk's number (0: too many started and unclaimed).
// claimScanAhead(path, xattrSizes): that number for the walker that begins at `path` with the
// same option, once and within a second; 0 otherwise (scan_ahead.cc).
Napi::Value ScanAheadStart(const Napi::CallbackInfo& info) {
  PathArg path = GetPath(info, 0, "path");
  return Napi::Number::New(info.Env(), StartAhead(path.bytes, info.Length() > 1 && info[1].ToBoolean().Value()));
}

Napi::Value ScanAheadClaim(const Napi::CallbackInfo& info) {
  PathArg path = GetPath(info, 0, "path");
  return Napi::Number::New(info.Env(), ClaimAhead(path.bytes, info.Length() > 1 && info[1].ToBoolean().Value()));
}

}  // namespace

void InitStatDir(Napi::Env env, Napi::Object exports) {
  exports.Set("scanAhead", Napi::Function::New(env, ScanAheadStart, "scanAhead"));
  exports.Set("claimScanAhead", Napi::Function::New(env, ScanAheadClaim, "claimScanAhead"));
  exports.Set("sizeXattrs", Napi::Function::New(env, SizeXattrs, "sizeXattrs"));
  exports.Set("statDir", Napi::Function::New(env, StatDir, "statDir"));
  exports.Set("pairScans", Napi::Function::New(env, PairScans, "pairScans"));
}

}  // namespace foxing
