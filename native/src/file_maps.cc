// releaseFileMaps: gives back the page-table entries of this process's shared mappings of one
// file (madvise MADV_DONTNEED), so pages read through them stop counting in its RSS.
//
// Why: LMDB reads the store's index through a shared read-only map, and each page fault maps
// the faulting page and up to 15 neighbours already in the page cache (the kernel's
// fault-around, 64 KiB; MADV_RANDOM does not stop it). A first snapshot of a million small
// files looks up a million random ids, so the whole file ended up mapped (~150-200 MiB of RSS
// at 1M chunks). The pages stay in the page cache, shared and reclaimable as
// for any file read with read(2); a later access faults them in again from there (a minor fault,
// no I/O). Only shared file mappings are touched: for those MADV_DONTNEED loses nothing (dirty
// pages stay in the page cache), unlike a private mapping, whose written pages it would drop.
// Safe against other threads reading the map meanwhile: they fault the page in again.
//
// With `offset` and `length` (bytes of the file), only the pages of the mappings that hold that
// part of the file are given back: a caller over its budget releases the file a part at a time
// (map-budget.ts says why), not all of it at once.
#include "common.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace foxing {
namespace {

// One line of /proc/self/maps or smaps: -1 when it heads no mapping (an smaps field), 1 when it
// heads a shared mapping of the file `st` describes (its range and file offset filled in), else 0.
int MappingOf(const char* line, const struct stat& st, uintptr_t* start, uintptr_t* end, unsigned long long* offset) {
  // start-end perms offset major:minor inode [path]
  char perms[8];
  unsigned long long inode;
  unsigned int major_no, minor_no;
  if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %llx %x:%x %llu", start, end, perms, offset, &major_no, &minor_no, &inode) != 7) return -1;
  return perms[3] == 's' && inode == static_cast<unsigned long long>(st.st_ino) &&
         major_no == major(st.st_dev) && minor_no == minor(st.st_dev) ? 1 : 0;
}

Napi::Value ReleaseFileMaps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PathArg p = GetPath(info, 0, "path");
  const bool ranged = info.Length() > 1 && !info[1].IsUndefined();
  const int64_t from = ranged ? GetInt64(info, 1, "offset") : 0;
  const int64_t length = ranged ? GetInt64(info, 2, "length") : 0;
  if (from < 0 || length < 0) throw Napi::RangeError::New(env, "The \"offset\" and \"length\" arguments must not be negative");
  const unsigned long long lo0 = static_cast<unsigned long long>(from), hi0 = lo0 + static_cast<unsigned long long>(length);
  const long page = sysconf(_SC_PAGESIZE);
  struct stat st;
  if (stat(p.bytes.c_str(), &st) != 0) throw ErrnoError(env, errno, "stat", &p.display);
  FILE* maps = fopen("/proc/self/maps", "re");
  if (!maps) {
    const std::string where = "/proc/self/maps";
    throw ErrnoError(env, errno, "open", &where);
  }
  double released = 0;
  int failed = 0;
  char line[4096 + 256];
  while (fgets(line, sizeof line, maps)) {
    uintptr_t start, end;
    unsigned long long offset;
    if (MappingOf(line, st, &start, &end, &offset) != 1) continue;
    if (ranged) {
      // The file's [from, to) as addresses of this mapping, pages wholly inside it only.
      const unsigned long long mapTo = offset + (end - start);
      const unsigned long long lo = lo0 > offset ? lo0 : offset, hi = hi0 < mapTo ? hi0 : mapTo;
      if (hi <= lo) continue;
      const uintptr_t a = start + ((lo - offset + page - 1) / page) * page;
      const uintptr_t b = start + ((hi - offset) / page) * page;
      if (b <= a) continue;
      start = a;
      end = b;
    }
    if (madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED) == 0) released += static_cast<double>(end - start);
    else if (failed == 0) failed = errno;
  }
  fclose(maps);
  if (failed != 0) throw ErrnoError(env, failed, "madvise", &p.display);
  return Napi::Number::New(env, released);
}

// fileMapsResident: the bytes of this process's shared mappings of one file that are resident
// (the Rss lines of /proc/self/smaps for them), which is what releaseFileMaps gives back. The
// process's RssFile counts every file it maps (its own binary's code too, which grows as code
// first runs); a budget for one file's mappings is checked against this.
Napi::Value FileMapsResident(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PathArg p = GetPath(info, 0, "path");
  struct stat st;
  if (stat(p.bytes.c_str(), &st) != 0) throw ErrnoError(env, errno, "stat", &p.display);
  FILE* smaps = fopen("/proc/self/smaps", "re");
  if (!smaps) {
    const std::string where = "/proc/self/smaps";
    throw ErrnoError(env, errno, "open", &where);
  }
  double resident = 0;
  bool ours = false;
  char line[4096 + 256];
  while (fgets(line, sizeof line, smaps)) {
    uintptr_t start, end;
    unsigned long long offset, kib;
    const int heads = MappingOf(line, st, &start, &end, &offset);
    if (heads >= 0) ours = heads == 1;
    else if (ours && sscanf(line, "Rss: %llu kB", &kib) == 1) resident += static_cast<double>(kib) * 1024;
  }
  fclose(smaps);
  return Napi::Number::New(env, resident);
}

}  // namespace

void InitFileMaps(Napi::Env env, Napi::Object exports) {
  exports.Set("releaseFileMaps", Napi::Function::New(env, ReleaseFileMaps, "releaseFileMaps"));
  exports.Set("fileMapsResident", Napi::Function::New(env, FileMapsResident, "fileMapsResident"));
}

}  // namespace foxing
