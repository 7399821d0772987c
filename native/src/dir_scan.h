// One directory's scan as a packed byte string, shared by statDir (lib/fs/scan-dir.ts) and the
// scan-ahead thread (scan_ahead.cc). No N-API here: the scan-ahead thread runs it off the
// JavaScript thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace foxing {

// Per entry: NUMS numbers (errno, mode, uid, gid, size, nlink, rdev, blocks, xattr list bytes)
// and BIGS int64s (atime, mtime and ctime in ns since the epoch, dev, ino).
constexpr size_t kScanNums = 9;
constexpr size_t kScanBigs = 5;

// A scanned directory: `packed` holds `count` entries in statDir's layout (see stat_dir.cc);
// `err` is the errno that stopped the scan (0: none; the failed call is always "scandir").
struct DirScan {
  std::string packed;
  size_t count = 0;
  int err = 0;
  // The directory's own st_dev when the scan was asked for it (-1: not asked, or fstat failed).
  int64_t dev = -1;
};

// The kernel's linux_dirent64, as getdents64 fills its buffer (glibc declares no type for the
// raw system call).
struct Dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

// Scans directory `path` (raw bytes); with `ownDev`, also fstats it for `dev`. Never throws for
// file-system errors: they land in `err`.
void ScanDirPacked(const std::string& path, bool xattrSizes, DirScan* out, bool ownDev = false);

// Calls f(name, nameLength, mode, dev) for each entry of a packed scan that was stat'ed.
template <typename F>
void ForEachScanned(const DirScan& scan, F f) {
  const char* p = scan.packed.data();
  const size_t n = scan.count;
  const size_t endsAt = n * (kScanNums + kScanBigs) * 8, namesAt = endsAt + n * 4;
  uint32_t start = 0;
  for (size_t i = 0; i < n; i++) {
    double nums[2];
    std::memcpy(nums, p + i * kScanNums * 8, sizeof nums);
    int64_t dev;
    std::memcpy(&dev, p + n * kScanNums * 8 + (i * kScanBigs + 3) * 8, 8);
    uint32_t end;
    std::memcpy(&end, p + endsAt + i * 4, 4);
    if (nums[0] == 0) f(p + namesAt + start, end - start, static_cast<uint32_t>(nums[1]), dev);
    start = end;
  }
}

}  // namespace foxing
