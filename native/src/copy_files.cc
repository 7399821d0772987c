// copyBatchAsync: a batch of whole-file copies on libuv's thread pool, each file written the
// way lib/copy/file-write.ts writes it, with every system call made here instead of from
// JavaScript. A tree of small files is bound by per-file calls (two opens, a copy, fchown,
// fchmod, futimens, two closes, a rename): from JavaScript each costs a binding crossing, an
// error object on failure and garbage, ~100 us a file in all on the bench VM where cp needs
// ~35. Here a file costs its system calls, and several batches run on the pool's threads at
// once, one per core.
//
// A job may instead be a directory's attributes alone (kMetaOnly), set after its entries, or
// a new directory to make (kMakeDir), so that a copy's mkdirs (4,556 on the bench's mixed set)
// run here and not on the main thread. A job in a directory made that way (kMakeParent) may
// reach the pool before the batch that makes it, on the other pool thread: its create then
// finds no directory (ENOENT) and it makes the directory itself (and as many of the new
// directories above it as the job names, `levels`, never more: nothing above the first
// directory that existed before the copy is ever made); the directory's own job then finds it
// made (EEXIST) and keeps it. A directory's attributes job with kMakeParent (the last row of a
// new directory's group, lib/copy/dir-group.ts) makes that directory itself the same way.
// A batch's rows run in order, on one thread.
//
// Per file, in this order (the rules of lib/fs/materialize.ts and apply-meta.ts):
//   1. open the source O_RDONLY|O_NOFOLLOW|O_NONBLOCK, fstat: it must still be the regular file
//      (same inode) that was listed, else CHANGED; a symlink or FIFO put there since is never
//      followed or waited on;
//   2. a new file (nothing at its name when the destination was listed) is made O_TMPFILE in
//      the destination's directory: an inode without a name, which a kill -9 leaves nothing
//      of; otherwise, or where the file system has no O_TMPFILE, a temporary
//      `.fxtmp-PID-XXXXXXXX` (lib/fs/temp-name.ts's pattern, so a sweep of a killed run
//      removes it) O_CREAT|O_EXCL, mode 0600;
//   3. data: FICLONE, else (unless the job is clone-only: then NOT_CLONED, nothing left)
//      copy_file_range, else pread/pwrite, each fast path tried only when
//      the caller allows it (its per file-system-pair probe) and its refusal (ENOSYS, EXDEV,
//      EOPNOTSUPP, ENOTTY, EINVAL, EPERM, ETXTBSY) handing on to the next. Without a reflink,
//      a source with holes (SEEK_HOLE before its end) is copied extent by extent (SEEK_DATA,
//      SEEK_HOLE), the destination sized first, so holes stay holes and no call crosses one;
//      a source that ends before its listed size is SHRANK; one that grew is copied to its
//      listed size;
//   4. attributes on the open temporary: fchown (as asked; its failure is reported, not
//      fatal), fchmod (the mode for a restored owner, or the caller's fallback without it),
//      futimens (ns) last. One fstat first: an owner or mode the file already has is not set
//      again. Each fchown or fchmod is a file-system transaction (on XFS a logged inode
//      update); the unnamed file is created with its final permission bits (less the umask,
//      never setuid/setgid) and, as root copying root's files, needs neither: 9.5 -> 7.5
//      transactions a file on the small set (/sys/fs/xfs/DEV/stats), cp -a's count;
//   5. the temporary: close, rename onto the final name; the unnamed inode: linked to the final
//      name (linkat, which never replaces: a name that appeared since gets a temporary name
//      and the rename), then closed. One directory change instead of two (create, rename), a
//      fifth of a small file's cost on ext4. Any failure from step 2 on removes the temporary.
//      (No O_TMPFILE where close can report a write error, NFS: there close comes first.)
//
// Arguments: paths (one Buffer: per file the source path, NUL, the final path, NUL), nums
// (Float64Array, kNums per file: size, mode, fallback mode, uid, gid, flags, the mode to make
// the parent directory with, the number of new directories from the parent up), times
// (BigInt64Array, kTimes per file: ino, atime ns, mtime ns, the destination's device), out (Float64Array, kOut per file,
// written by the pool thread: stage, errno, strategy, bytes, chown errno, reflink outcome,
// copy_file_range outcome; outcome 0 = not tried, -1 = worked, else the refusing errno).
// Then, optionally, groups: new directories' entries made from their listings (RunGroup below),
// run after the rows. The typed arrays are kept referenced until the promise settles. Xattrs
// are not copied here: files with any go the JavaScript way.
#include "syscall_async.h"
#include "dir_scan.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace foxing {
namespace {

constexpr size_t kNums = 8;
constexpr size_t kTimes = 4;
constexpr size_t kOut = 7;

// Flags (nums[5]).
constexpr int kArchive = 1;     // fchmod(mode or fallback) and futimens; else fchmod(mode) only
constexpr int kChown = 2;       // fchown(uid, gid) first
constexpr int kTryReflink = 4;
constexpr int kTryRange = 8;
constexpr int kNew = 16;        // nothing was at the final name: O_TMPFILE and linkat
constexpr int kMetaOnly = 32;   // no data: owner, mode and times of the existing entry at the final path (a directory)
constexpr int kCloneOnly = 64;  // a reflink or nothing (NOT_CLONED): a large file, whose copy would hold the batch
constexpr int kMakeDir = 128;   // no data: mkdir of the final path with `mode` (a non-directory in the way is replaced)
constexpr int kMakeParent = 256;  // the parent is new: made here (parentMode) if it is not there yet, with `levels` above it
                                  // (with kMetaOnly: the directory itself)

// Stages (out[0]): where a file stopped; 0 = copied. Mirrored in lib/fs/copy-files-native.ts.
enum Stage {
  kOk = 0, kOpenSource, kChanged, kCreateTemp, kClone, kCopyRange, kRead, kWrite, kShrank,
  kTruncate, kChmod, kSetTimes, kClose, kRename, kSeek, kStat, kNotCloned, kMkdir,
};
enum Strategy { kReflink = 0, kRangeCopy = 1, kReadWrite = 2 };

constexpr size_t kBuffer = 1 << 20;

bool Refusal(int err) {
  return err == ENOSYS || err == EXDEV || err == EOPNOTSUPP || err == ENOTTY || err == EINVAL || err == EPERM || err == ETXTBSY;
}

struct Job {
  const char* src;
  const char* dst;
  double size, mode, fallbackMode, uid, gid, parentMode;
  int flags, levels;
  int64_t ino, atimeNs, mtimeNs, dstDev;
  double* out;
  // What `src` and `dst` are relative to: AT_FDCWD (full paths), or a group's directories
  // opened once (RunGroup), each then a bare name. Not MetaOnly's `dst`: a full path, unless
  // `selfFd` is the directory itself, open (its group's), used instead.
  int srcAt = AT_FDCWD, dstAt = AT_FDCWD;
  int selfFd = -1;
};

// The temporary's name: `.fxtmp-PID-` and 8 hex digits, from a per-thread generator seeded by
// getrandom (names only need to differ; O_EXCL settles a clash).
struct TempNamer {
  uint64_t state = 0;
  uint32_t Next() {
    if (state == 0) {
      if (getrandom(&state, sizeof state, 0) != sizeof state || state == 0) state = 0x9e3779b97f4a7c15ull ^ static_cast<uint64_t>(getpid());
    }
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return static_cast<uint32_t>(state >> 16);
  }
};

thread_local TempNamer namer;
// Devices where O_TMPFILE was refused (per thread: one or two devices in a copy).
thread_local std::vector<int64_t> noTmpfile;
const int pid = static_cast<int>(getpid());
thread_local std::vector<char> buffer;

struct timespec FromNs(int64_t ns) {
  struct timespec ts;
  int64_t sec = ns / 1000000000, nsec = ns % 1000000000;
  if (nsec < 0) { sec -= 1; nsec += 1000000000; }
  ts.tv_sec = static_cast<time_t>(sec);
  ts.tv_nsec = static_cast<long>(nsec);
  return ts;
}

// Makes directory `path` (with `mode`) if it is missing, and up to `levels` - 1 missing
// directories above it (0700: their own jobs keep them, their attributes pass sets their
// bits). False with errno when that fails.
bool EnsureDir(const std::string& path, mode_t mode, int levels) {
  if (levels <= 0) { errno = ENOENT; return false; }
  if (mkdir(path.c_str(), mode) == 0 || errno == EEXIST) return true;
  if (errno != ENOENT || levels == 1) return false;
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) { errno = ENOENT; return false; }
  if (!EnsureDir(path.substr(0, slash), 0700, levels - 1)) return false;
  return mkdir(path.c_str(), mode) == 0 || errno == EEXIST;
}

class Copier {
 public:
  explicit Copier(Job& j) : j_(j) {}

  void Run() {
    double* out = j_.out;
    for (size_t k = 0; k < kOut; k++) out[k] = 0;
    out[2] = kReadWrite;
    int stage = (j_.flags & kMakeDir) ? MakeDir() : (j_.flags & kMetaOnly) ? MetaOnly() : Copy();
    if (stage != kOk && !temp_.empty()) unlinkat(j_.dstAt, temp_.c_str(), 0);
    if (dst_ >= 0) close(dst_);
    if (src_ >= 0) close(src_);
    out[0] = stage;
    if (stage != kOk) out[1] = err_;
  }

 private:
  int Fail(int stage, int err) { err_ = err; return stage; }

  // A directory's attributes once its entries are written (the source path is not used):
  // lchown, chmod, utimensat without following a final symlink, as lib/fs/apply-meta.ts; an
  // owner or mode it already has is not set again (each is a transaction; a directory made
  // by this run as root has root's owner).
  int MetaOnly() {
    double* out = j_.out;
    double mode = j_.fallbackMode;
    struct stat st;
    const int fd = j_.selfFd;
    if (fd >= 0 && fstat(fd, &st) != 0) return Fail(kStat, errno);
    if (fd < 0 && fstatat(AT_FDCWD, j_.dst, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      // A new directory whose own mkdir (in its parent's batch, on the other pool thread) has
      // not run yet: made here, as a job inside it would make it.
      if (errno != ENOENT || !(j_.flags & kMakeParent)) return Fail(kStat, errno);
      if (!EnsureDir(j_.dst, static_cast<mode_t>(j_.parentMode), j_.levels)) return Fail(kMkdir, errno);
      if (fstatat(AT_FDCWD, j_.dst, &st, AT_SYMLINK_NOFOLLOW) != 0) return Fail(kStat, errno);
    }
    if (j_.flags & kChown) {
      const uid_t uid = static_cast<uid_t>(j_.uid);
      const gid_t gid = static_cast<gid_t>(j_.gid);
      if (st.st_uid == uid && st.st_gid == gid) mode = j_.mode;
      else if ((fd >= 0 ? fchown(fd, uid, gid) : fchownat(AT_FDCWD, j_.dst, uid, gid, AT_SYMLINK_NOFOLLOW)) == 0) {
        mode = j_.mode;
        st.st_mode = 0;  // a chown may have cleared setuid/setgid: the mode is set again
      } else out[4] = errno;
    }
    const mode_t m = static_cast<mode_t>(mode);
    if ((st.st_mode & 07777) != m && (fd >= 0 ? fchmod(fd, m) : chmod(j_.dst, m)) != 0) return Fail(kChmod, errno);
    struct timespec ts[2] = {FromNs(j_.atimeNs), FromNs(j_.mtimeNs)};
    if ((fd >= 0 ? futimens(fd, ts) : utimensat(AT_FDCWD, j_.dst, ts, AT_SYMLINK_NOFOLLOW)) != 0) return Fail(kSetTimes, errno);
    return kOk;
  }

  // A new directory at the final path (lib/fs/materialize.ts's makeDir): made with `mode`; one
  // there already (made by a job inside it, or by the main thread) is kept; a non-directory in
  // the way is replaced.
  int MakeDir() {
    const mode_t mode = static_cast<mode_t>(j_.mode);
    if (mkdirat(j_.dstAt, j_.dst, mode) == 0) return kOk;
    int e = errno;
    if (e == ENOENT && (j_.flags & kMakeParent) && j_.dstAt == AT_FDCWD) {
      std::string parent = Dir();
      parent.pop_back();
      if (!EnsureDir(parent, static_cast<mode_t>(j_.parentMode), j_.levels)) return Fail(kMkdir, errno);
      if (mkdir(j_.dst, mode) == 0) return kOk;
      e = errno;
    }
    if (e != EEXIST) return Fail(kMkdir, e);
    struct stat st;
    if (fstatat(j_.dstAt, j_.dst, &st, AT_SYMLINK_NOFOLLOW) != 0) return Fail(kMkdir, errno);
    if (S_ISDIR(st.st_mode)) return kOk;
    if (unlinkat(j_.dstAt, j_.dst, 0) != 0 || mkdirat(j_.dstAt, j_.dst, mode) != 0) return Fail(kMkdir, errno);
    return kOk;
  }

  // The temporary (named or not); in a new directory not made yet, the directory first.
  int Create() {
    int s = (j_.flags & kNew) ? CreateUnnamed() : CreateTemp();
    if (s != kCreateTemp || err_ != ENOENT || !(j_.flags & kMakeParent) || j_.dstAt != AT_FDCWD) return s;
    std::string parent = Dir();
    parent.pop_back();
    if (!EnsureDir(parent, static_cast<mode_t>(j_.parentMode), j_.levels)) return Fail(kMkdir, errno);
    return (j_.flags & kNew) ? CreateUnnamed() : CreateTemp();
  }

  int Copy() {
    src_ = openat(j_.srcAt, j_.src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (src_ < 0) return Fail(kOpenSource, errno);
    struct stat st;
    if (fstat(src_, &st) != 0) return Fail(kStat, errno);
    if (!S_ISREG(st.st_mode) || static_cast<int64_t>(st.st_ino) != j_.ino) return kChanged;
    const off_t size = static_cast<off_t>(j_.size);
    if (int s = Create(); s != kOk) return s;
    if (int s = Data(size); s != kOk) return s;
    return Finish();
  }

  // The destination's directory, with a trailing slash ("./" for a bare name: relative to dstAt).
  std::string Dir() const {
    const char* slash = strrchr(j_.dst, '/');
    return slash ? std::string(j_.dst, slash - j_.dst + 1) : std::string("./");
  }

  int CreateUnnamed() {
    if (std::find(noTmpfile.begin(), noTmpfile.end(), j_.dstDev) == noTmpfile.end()) {
      // The final permission bits at once: nothing can open a file without a name (only this
      // process, through /proc/self/fd), so the data is never readable under wider bits than
      // the copy's; setuid/setgid only once the owner is set (a chown clears them).
      dst_ = openat(j_.dstAt, Dir().c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, static_cast<mode_t>(j_.mode) & 0777);
      if (dst_ >= 0) return kOk;
      int e = errno;
      if (e != EOPNOTSUPP && e != EISDIR && e != EINVAL) return Fail(kCreateTemp, e);
      noTmpfile.push_back(j_.dstDev);
    }
    return CreateTemp();
  }

  // A named temporary; with `fd` >= 0, that file (an unnamed one) linked there instead of a new one.
  int CreateTemp(int fd = -1) {
    const std::string dir = Dir();
    char name[40];
    for (int i = 0; i < 16; i++) {
      snprintf(name, sizeof name, ".fxtmp-%d-%08x", pid, namer.Next());
      temp_ = dir + name;
      int made = fd >= 0 ? LinkTo(fd, j_.dstAt, temp_.c_str()) : openat(j_.dstAt, temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (made >= 0) {
        if (fd < 0) dst_ = made;
        return kOk;
      }
      int e = errno;
      if (e != EEXIST) { temp_.clear(); return Fail(kCreateTemp, e); }
    }
    temp_.clear();
    return Fail(kCreateTemp, EEXIST);
  }

  // linkat of an unnamed file to `name` (relative to `at`; never replacing): by the fd itself
  // where allowed (it needs CAP_DAC_READ_SEARCH), else through /proc/self/fd. 0, or -1 with errno.
  static int LinkTo(int fd, int at, const char* name) {
    if (linkat(fd, "", at, name, AT_EMPTY_PATH) == 0) return 0;
    if (errno != ENOENT && errno != EPERM) return -1;
    char proc[40];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, proc, at, name, AT_SYMLINK_FOLLOW);
  }

  int Data(off_t size) {
    double* out = j_.out;
    if (size == 0) return kOk;
    if (j_.flags & kTryReflink) {
      if (ioctl(dst_, FICLONE, src_) == 0) {
        out[5] = -1;
        out[2] = kReflink;
        if (int s = StatDest(); s != kOk) return s;
        const struct stat& st = dstSt_;
        if (st.st_size < size) return kShrank;
        if (st.st_size > size && ftruncate(dst_, size) != 0) return Fail(kTruncate, errno);
        out[3] = static_cast<double>(size);
        return kOk;
      }
      int e = errno;
      if (!Refusal(e)) return Fail(kClone, e);
      out[5] = e;
    }
    if (j_.flags & kCloneOnly) return kNotCloned;
    // The data extents: [0, size) unless SEEK_HOLE finds a hole below the end.
    off_t hole = lseek(src_, 0, SEEK_HOLE);
    if (hole < 0 && errno != ENXIO) return Fail(kSeek, errno);
    if (hole < 0 || hole >= size) return Extent(0, size);
    // Sized first: XFS preallocates past the end of a file being extended, blocks the final
    // size would turn into (zero) data inside a hole.
    if (ftruncate(dst_, size) != 0) return Fail(kTruncate, errno);
    for (off_t at = 0; at < size;) {
      off_t data = lseek(src_, at, SEEK_DATA);
      if (data < 0 && errno == ENXIO) break;  // only a hole up to the end
      if (data < 0) return Fail(kSeek, errno);
      if (data >= size) break;
      off_t end = lseek(src_, data, SEEK_HOLE);
      if (end < 0) return Fail(kSeek, errno);
      if (end > size) end = size;
      if (int s = Extent(data, end); s != kOk) return s;
      at = end;
    }
    // A map that ends before `size` is a trailing hole or a source that shrank: fstat tells.
    struct stat st;
    if (fstat(src_, &st) != 0) return Fail(kStat, errno);
    if (st.st_size < size) return kShrank;
    return kOk;
  }

  // Copies [from, to) of the source at the same offsets: copy_file_range (when allowed) until
  // it is refused or finds no byte, then pread/pwrite. Adds to the bytes copied (out[3]).
  int Extent(off_t from, off_t to) {
    double* out = j_.out;
    loff_t at = from;
    if ((j_.flags & kTryRange) && out[6] <= 0) {
      out[2] = kRangeCopy;
      while (at < to) {
        loff_t in = at, outAt = at;
        ssize_t n = copy_file_range(src_, &in, dst_, &outAt, static_cast<size_t>(to - at), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          int e = errno;
          if (!Refusal(e)) return Fail(kCopyRange, e);
          if (out[6] == 0) out[6] = e;
          break;
        }
        if (n == 0) break;  // no byte at `at`: read/write finds out whether the source shrank
        out[6] = -1;
        out[3] += static_cast<double>(n);
        at += n;
      }
      if (at == to) return kOk;
    }
    out[2] = kReadWrite;
    if (buffer.size() < kBuffer) buffer.resize(kBuffer);
    while (at < to) {
      size_t want = static_cast<size_t>(std::min<loff_t>(to - at, kBuffer));
      ssize_t n = pread(src_, buffer.data(), want, at);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail(kRead, errno);
      if (n == 0) return kShrank;
      for (ssize_t w = 0; w < n;) {
        ssize_t m = pwrite(dst_, buffer.data() + w, static_cast<size_t>(n - w), at + w);
        if (m < 0 && errno == EINTR) continue;
        if (m < 0) return Fail(kWrite, errno);
        if (m == 0) return Fail(kWrite, EIO);
        w += m;
      }
      out[3] += static_cast<double>(n);
      at += n;
    }
    return kOk;
  }

  // fstat of the destination, once (after a reflink it also gives the cloned size).
  int StatDest() {
    if (!haveDstSt_) {
      if (fstat(dst_, &dstSt_) != 0) return Fail(kStat, errno);
      haveDstSt_ = true;
    }
    return kOk;
  }

  int Finish() {
    double* out = j_.out;
    double mode = j_.mode;
    if (int s = StatDest(); s != kOk) return s;
    // Owner and mode are set only where they differ. Before any chown the file has no
    // setuid/setgid bit (created without), so a chown leaves its mode as fstat saw it.
    if (j_.flags & kArchive) {
      bool owned = false;
      if (j_.flags & kChown) {
        const uid_t uid = static_cast<uid_t>(j_.uid);
        const gid_t gid = static_cast<gid_t>(j_.gid);
        if ((dstSt_.st_uid == uid && dstSt_.st_gid == gid) || fchown(dst_, uid, gid) == 0) owned = true;
        else out[4] = errno;
      }
      if (!owned) mode = j_.fallbackMode;
    }
    if ((dstSt_.st_mode & 07777) != static_cast<mode_t>(mode) && fchmod(dst_, static_cast<mode_t>(mode)) != 0) return Fail(kChmod, errno);
    if (j_.flags & kArchive) {
      struct timespec ts[2] = {FromNs(j_.atimeNs), FromNs(j_.mtimeNs)};
      if (futimens(dst_, ts) != 0) return Fail(kSetTimes, errno);
    }
    if (temp_.empty()) {
      // The unnamed file: linked to its name, or (a name that appeared since) to a temporary
      // renamed over it below.
      if (LinkTo(dst_, j_.dstAt, j_.dst) == 0) return kOk;
      if (errno != EEXIST) return Fail(kRename, errno);
      if (int s = CreateTemp(dst_); s != kOk) return s;
    }
    int fd = dst_;
    dst_ = -1;
    if (close(fd) != 0) return Fail(kClose, errno);
    if (renameat(j_.dstAt, temp_.c_str(), j_.dstAt, j_.dst) != 0) return Fail(kRename, errno);
    temp_.clear();
    return kOk;
  }

  Job& j_;
  int src_ = -1;
  int dst_ = -1;
  int err_ = 0;
  bool haveDstSt_ = false;
  struct stat dstSt_;
  std::string temp_;
};

// A new directory's group (lib/copy/dir-group.ts): its rows made here from its listing (the
// packed scan statDir gave the walk) instead of packed row by row in JavaScript, which cost
// ~7 us a file and ~30 us a directory on the main thread, more than the pool threads spent
// copying. Rows run in order: the subdirectories made (mode as dirCreateMode), the files copied
// (fresh, archive: mode, owner as asked, ns times; never setuid/setgid ones: the caller keeps
// those, whose fallback mode depends on this process's groups), then the directory's own
// attributes when asked. Per row kOut numbers as a single job's; the group's totals first
// (kGroupHead), so that the caller reads the rows only when one of them was not plain.
//
// Arguments, after the rows' four (all of a batch's groups in each, in order): scans, an Array
// of the groups' listings (packed as statDir packs them); gparams (Float64Array, kGroupParams a
// group, as named below), gentries (Uint32Array: each group's entries, `kGpEntries` indices of
// its listing, the `kGpDirs` subdirectories first), gtimes (BigInt64Array, 3 a group: the
// destination's device, the directory's atime and mtime in ns), gout (Float64Array: a group's
// kGroupHead totals then kOut numbers a row, group after group); and in `paths`, after the
// rows' paths, each group's source directory and destination directory, NUL-terminated.
constexpr size_t kGroupParams = 11;
constexpr size_t kGroupHead = 9;
// params
enum { kGpCount, kGpEntries, kGpDirs, kGpDirFlags, kGpFileFlags, kGpSelfFlags, kGpParentMode, kGpLevels, kGpSelfMode, kGpSelfUid, kGpSelfGid };
// out's head: rows not plain (failed, or the owner not set), files copied by each strategy,
// bytes copied, and each fast path's outcome over the group (-1 worked for one file at least,
// else the last refusing errno, 0 not tried) with the number of files it refused.
enum { kGhNotPlain, kGhReflinks, kGhRanges, kGhReadWrites, kGhBytes, kGhReflink, kGhReflinkRefused, kGhRange, kGhRangeRefused };

struct Group {
  std::string src, dst;
  const char* scan;
  size_t count;
  const uint32_t* entries;
  size_t n;
  const double* params;
  int64_t dstDev, atimeNs, mtimeNs;
  double* out;
};

// A packed listing's fields (stat_dir.cc's layout; dir_scan.h's sizes).
struct Listing {
  const char* p;
  size_t n;
  double Num(size_t i, size_t k) const { double v; std::memcpy(&v, p + (i * kScanNums + k) * 8, 8); return v; }
  int64_t Big(size_t i, size_t k) const { int64_t v; std::memcpy(&v, p + n * kScanNums * 8 + (i * kScanBigs + k) * 8, 8); return v; }
  uint32_t End(size_t i) const { uint32_t v; std::memcpy(&v, p + n * (kScanNums + kScanBigs) * 8 + i * 4, 4); return v; }
  void Name(size_t i, std::string* out) const {
    const uint32_t start = i == 0 ? 0 : End(i - 1);
    out->assign(p + n * (kScanNums + kScanBigs) * 8 + n * 4 + start, End(i) - start);
  }
};

void NoteFast(double outcome, double* head, size_t at) {
  if (outcome < 0) head[at] = -1;
  else if (outcome > 0) {
    if (head[at] >= 0) head[at] = outcome;
    head[at + 1]++;
  }
}

// This process's effective ids (it never changes them).
const double euid = static_cast<double>(geteuid());
const double egid = static_cast<double>(getegid());

// The group's directory `path` opened for its rows' *at calls, or -1: they then take full
// paths, as single jobs do, and meet (and report) whatever made this open fail. The source
// O_PATH; the destination read-only, so that its own attributes (the last row) are set through
// it too (fchown, fchmod, futimens), a directory this copy made (owner rwx while it is filled)
// and never a symlink (O_NOFOLLOW); one its parent's group (on the other pool thread) has not
// made yet is made here first, as its rows would make it (`ensure`: its mode and how many new
// directories up, levels 0: none).
int OpenGroupDir(const std::string& path, bool dest, mode_t mode, int levels) {
  const int flags = O_DIRECTORY | O_CLOEXEC | (dest ? O_RDONLY | O_NOFOLLOW : O_PATH);
  int fd = open(path.c_str(), flags);
  if (fd < 0 && dest && errno == ENOENT && levels > 0 && EnsureDir(path, mode, levels)) fd = open(path.c_str(), flags);
  return fd;
}

void RunGroup(Group& g) {
  const Listing l{g.scan, g.count};
  const double* pr = g.params;
  double* head = g.out;
  for (size_t k = 0; k < kGroupHead; k++) head[k] = 0;
  const size_t dirs = static_cast<size_t>(pr[kGpDirs]);
  std::string name, src, dst;
  Job j{};
  j.parentMode = pr[kGpParentMode];
  j.levels = static_cast<int>(pr[kGpLevels]);
  j.dstDev = g.dstDev;
  // Each row's calls relative to the two directories, opened once, instead of full paths: a
  // file took three lookups of its whole path (open, the O_TMPFILE create, linkat), each
  // walking every directory from / down. XFS small set (10,000 files, paths of 8 components,
  // both pool threads walking through the same directories at once): __d_lookup_rcu and
  // __d_lookup were 21 % of the copy's CPU samples, cp -a's 4.7 %. An open costs a lookup of
  // its own: worth it for two or more (a file is two at the destination, one at the source,
  // the directory's own attributes two or more).
  const size_t files = g.n - dirs;
  const bool self = pr[kGpSelfFlags] != 0;
  const int dstAt = files * 2 + dirs + (self ? 2 : 0) >= 2 ? OpenGroupDir(g.dst, true, static_cast<mode_t>(j.parentMode), j.levels) : -1;
  const int srcAt = dstAt >= 0 && files >= 2 ? OpenGroupDir(g.src, false, 0, 0) : -1;
  for (size_t r = 0; r < g.n; r++) {
    const size_t i = g.entries[r];
    l.Name(i, &name);
    if (dstAt >= 0) dst.assign(name);
    else dst.assign(g.dst).append(1, '/').append(name);
    j.dstAt = dstAt >= 0 ? dstAt : AT_FDCWD;
    const uint32_t mode = static_cast<uint32_t>(l.Num(i, 1));
    j.dst = dst.c_str();
    j.out = head + kGroupHead + r * kOut;
    if (r < dirs) {
      // lib/fs/materialize.ts's dirCreateMode: owner rwx while it is filled.
      const bool ours = l.Num(i, 2) == euid && l.Num(i, 3) == egid;
      j.src = j.dst;
      j.mode = j.fallbackMode = ours ? ((mode & 0777) | 0700) : 0700;
      j.flags = static_cast<int>(pr[kGpDirFlags]);
      j.size = 0; j.uid = j.gid = 0; j.ino = j.atimeNs = j.mtimeNs = 0;
      Copier(j).Run();
      if (j.out[0] != kOk) head[kGhNotPlain]++;
      continue;
    }
    if (srcAt >= 0) src.assign(name);
    else src.assign(g.src).append(1, '/').append(name);
    j.src = src.c_str();
    j.srcAt = srcAt >= 0 ? srcAt : AT_FDCWD;
    j.mode = j.fallbackMode = mode & 07777;
    j.flags = static_cast<int>(pr[kGpFileFlags]);
    j.size = l.Num(i, 4);
    j.uid = l.Num(i, 2);
    j.gid = l.Num(i, 3);
    j.atimeNs = l.Big(i, 0);
    j.mtimeNs = l.Big(i, 1);
    j.ino = l.Big(i, 4);
    Copier(j).Run();
    const double* o = j.out;
    NoteFast(o[5], head, kGhReflink);
    NoteFast(o[6], head, kGhRange);
    if (o[0] != kOk || o[4] != 0) { head[kGhNotPlain]++; continue; }
    head[o[2] == kReflink ? kGhReflinks : o[2] == kRangeCopy ? kGhRanges : kGhReadWrites]++;
    head[kGhBytes] += o[3];
  }
  if (srcAt >= 0) close(srcAt);
  if (self) {
    j.src = j.dst = g.dst.c_str();
    j.srcAt = j.dstAt = AT_FDCWD;
    j.selfFd = dstAt;
    j.mode = j.fallbackMode = pr[kGpSelfMode];
    j.uid = pr[kGpSelfUid];
    j.gid = pr[kGpSelfGid];
    j.flags = static_cast<int>(pr[kGpSelfFlags]);
    j.size = 0; j.ino = 0;
    j.atimeNs = g.atimeNs;
    j.mtimeNs = g.mtimeNs;
    j.out = head + kGroupHead + g.n * kOut;
    Copier(j).Run();
    if (j.out[0] != kOk || j.out[4] != 0) head[kGhNotPlain]++;
  }
  if (dstAt >= 0) close(dstAt);
}

class CopyFilesWorker : public Napi::AsyncWorker {
 public:
  CopyFilesWorker(Napi::Env env, std::vector<Job> jobs, std::vector<Group> groups, std::vector<Napi::ObjectReference> keep)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), jobs_(std::move(jobs)), groups_(std::move(groups)), keep_(std::move(keep)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    for (Job& j : jobs_) Copier(j).Run();
    for (Group& g : groups_) RunGroup(g);
  }

  void OnOK() override { deferred_.Resolve(Env().Undefined()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<Job> jobs_;
  std::vector<Group> groups_;
  std::vector<Napi::ObjectReference> keep_;
};

template <typename T>
T* Typed(Napi::Env env, Napi::Value v, napi_typedarray_type type, size_t elements, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type || v.As<Napi::TypedArray>().ElementLength() < elements) {
    throw Napi::TypeError::New(env, std::string("copyBatchAsync: ") + what + " is not a typed array of the right type and length");
  }
  auto a = v.As<Napi::TypedArray>();
  return reinterpret_cast<T*>(static_cast<char*>(a.ArrayBuffer().Data()) + a.ByteOffset());
}

// Reads the path at `*p` (before `end`), NUL-terminated and non-empty; moves past it.
const char* NextPath(Napi::Env env, const char** p, const char* end) {
  const char* nul = static_cast<const char*>(memchr(*p, 0, static_cast<size_t>(end - *p)));
  if (nul == nullptr || nul == *p) throw Napi::RangeError::New(env, "copyBatchAsync: paths must be non-empty and NUL-terminated, two a file and two a group");
  const char* at = *p;
  *p = nul + 1;
  return at;
}

// The groups' arguments (info[4..8]), checked (a listing's name ends inside it, each entry
// index in it, every array long enough): a bad one throws before anything is queued.
std::vector<Group> ReadGroups(const Napi::CallbackInfo& info, const char* p, const char* end, std::vector<Napi::ObjectReference>* keep) {
  Napi::Env env = info.Env();
  if (!info[4].IsArray()) throw Napi::TypeError::New(env, "copyBatchAsync: scans must be an Array");
  Napi::Array scans = info[4].As<Napi::Array>();
  std::vector<Group> groups(scans.Length());
  const size_t ng = groups.size();
  const double* params = Typed<double>(env, info[5], napi_float64_array, ng * kGroupParams, "gparams");
  size_t entries = 0, outs = 0;
  for (size_t k = 0; k < ng; k++) {
    const double* pr = params + k * kGroupParams;
    if (!(pr[kGpCount] >= 0 && pr[kGpCount] <= 4294967295.0 && pr[kGpEntries] >= 0 && pr[kGpEntries] <= 4294967295.0 && pr[kGpDirs] >= 0 &&
          pr[kGpDirs] <= pr[kGpEntries])) {
      throw Napi::RangeError::New(env, "copyBatchAsync: a group's counts are not those of a group (its subdirectories more than its entries?)");
    }
    entries += static_cast<size_t>(pr[kGpEntries]);
  }
  const uint32_t* ents = Typed<uint32_t>(env, info[6], napi_uint32_array, entries, "gentries");
  const int64_t* times = Typed<int64_t>(env, info[7], napi_bigint64_array, ng * 3, "gtimes");
  for (size_t k = 0; k < ng; k++) outs += kGroupHead + kOut * (static_cast<size_t>(params[k * kGroupParams + kGpEntries]) + (params[k * kGroupParams + kGpSelfFlags] != 0 ? 1 : 0));
  double* out = Typed<double>(env, info[8], napi_float64_array, outs, "gout");
  entries = outs = 0;
  for (size_t k = 0; k < ng; k++) {
    Group& g = groups[k];
    g.params = params + k * kGroupParams;
    g.src = NextPath(env, &p, end);
    g.dst = NextPath(env, &p, end);
    Napi::Value v = scans.Get(static_cast<uint32_t>(k));
    if (!v.IsTypedArray()) throw Napi::TypeError::New(env, "copyBatchAsync: a group's listing must be a Uint8Array");
    auto scan = v.As<Napi::TypedArray>();
    g.scan = static_cast<const char*>(scan.ArrayBuffer().Data()) + scan.ByteOffset();
    g.count = static_cast<size_t>(g.params[kGpCount]);
    const size_t fixed = g.count * (kScanNums * 8 + kScanBigs * 8 + 4);
    if (fixed > scan.ByteLength() || reinterpret_cast<uintptr_t>(g.scan) % 8 != 0) {
      throw Napi::RangeError::New(env, "copyBatchAsync: a group's listing is shorter than its count, or not 8-byte aligned");
    }
    const Listing l{g.scan, g.count};
    uint32_t last = 0;
    for (size_t i = 0; i < g.count; i++) {
      if (l.End(i) < last) throw Napi::RangeError::New(env, "copyBatchAsync: a group's listing has name ends that go back");
      last = l.End(i);
    }
    if (fixed + last > scan.ByteLength()) throw Napi::RangeError::New(env, "copyBatchAsync: a group's listing has names past its end");
    g.n = static_cast<size_t>(g.params[kGpEntries]);
    g.entries = ents + entries;
    entries += g.n;
    for (size_t r = 0; r < g.n; r++) {
      if (g.entries[r] >= g.count) throw Napi::RangeError::New(env, "copyBatchAsync: a group's entry is not in its listing");
    }
    g.dstDev = times[k * 3];
    g.atimeNs = times[k * 3 + 1];
    g.mtimeNs = times[k * 3 + 2];
    g.out = out + outs;
    outs += kGroupHead + kOut * (g.n + (g.params[kGpSelfFlags] != 0 ? 1 : 0));
  }
  if (p != end) throw Napi::RangeError::New(env, "copyBatchAsync: paths left over after the rows and groups");
  // The arrays stay alive (and their memory in place) until the worker is done: the listings
  // through the array holding them.
  for (int a = 4; a <= 8; a++) keep->emplace_back(Napi::Persistent(info[a].As<Napi::Object>()));
  return groups;
}

Napi::Value CopyBatchAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsBuffer() || !info[1].IsTypedArray() || !info[2].IsTypedArray() || !info[3].IsTypedArray()) {
    throw Napi::TypeError::New(env, "copyBatchAsync(paths: Buffer, nums: Float64Array, times: BigInt64Array, out: Float64Array[, scans: Uint8Array[], gparams: Float64Array, gentries: Uint32Array, gtimes: BigInt64Array, gout: Float64Array])");
  }
  Napi::Buffer<char> paths = info[0].As<Napi::Buffer<char>>();
  Napi::TypedArray numsArg = info[1].As<Napi::TypedArray>();
  Napi::TypedArray timesArg = info[2].As<Napi::TypedArray>();
  Napi::TypedArray outArg = info[3].As<Napi::TypedArray>();
  if (numsArg.TypedArrayType() != napi_float64_array || timesArg.TypedArrayType() != napi_bigint64_array ||
      outArg.TypedArrayType() != napi_float64_array) {
    throw Napi::TypeError::New(env, "copyBatchAsync: nums and out must be Float64Arrays, times a BigInt64Array");
  }
  const size_t n = numsArg.ElementLength() / kNums;
  if (numsArg.ElementLength() != n * kNums || timesArg.ElementLength() < n * kTimes || outArg.ElementLength() < n * kOut) {
    throw Napi::RangeError::New(env, "copyBatchAsync: array lengths do not match");
  }
  const double* nums = numsArg.As<Napi::Float64Array>().Data();
  const int64_t* times = reinterpret_cast<const int64_t*>(
      static_cast<uint8_t*>(timesArg.ArrayBuffer().Data()) + timesArg.ByteOffset());
  double* out = outArg.As<Napi::Float64Array>().Data();
  const char* p = paths.Data();
  const char* end = p + paths.Length();
  std::vector<Job> jobs(n);
  for (size_t i = 0; i < n; i++) {
    Job& j = jobs[i];
    j.src = NextPath(env, &p, end);
    j.dst = NextPath(env, &p, end);
    const double* f = nums + i * kNums;
    j.size = f[0]; j.mode = f[1]; j.fallbackMode = f[2]; j.uid = f[3]; j.gid = f[4];
    j.flags = static_cast<int>(f[5]);
    j.parentMode = f[6];
    j.levels = static_cast<int>(f[7]);
    if (!(j.size >= 0 && j.size <= 9007199254740991.0)) throw Napi::RangeError::New(env, "copyBatchAsync: bad size");
    j.ino = times[i * kTimes];
    j.atimeNs = times[i * kTimes + 1];
    j.mtimeNs = times[i * kTimes + 2];
    j.dstDev = times[i * kTimes + 3];
    j.out = out + i * kOut;
  }
  // The buffers stay alive (and their memory in place) until the worker is done.
  std::vector<Napi::ObjectReference> keep;
  keep.emplace_back(Napi::Persistent(paths.As<Napi::Object>()));
  keep.emplace_back(Napi::Persistent(outArg.As<Napi::Object>()));
  std::vector<Group> groups;
  if (info.Length() > 4 && !info[4].IsUndefined()) groups = ReadGroups(info, p, end, &keep);
  auto* w = new CopyFilesWorker(env, std::move(jobs), std::move(groups), std::move(keep));
  Napi::Promise promise = w->Promise();
  w->Queue();
  return promise;
}

}  // namespace

void InitCopyFiles(Napi::Env env, Napi::Object exports) {
  exports.Set("copyBatchAsync", Napi::Function::New(env, CopyBatchAsync, "copyBatchAsync"));
}

}  // namespace foxing
