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
#include "common.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace foxing {
namespace {

Napi::Value ReleaseFileMaps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PathArg p = GetPath(info, 0, "path");
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
    // start-end perms offset major:minor inode [path]
    uintptr_t start, end;
    char perms[8];
    unsigned long long offset, inode;
    unsigned int major_no, minor_no;
    if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %llx %x:%x %llu", &start, &end, perms, &offset, &major_no, &minor_no, &inode) != 7) continue;
    if (perms[3] != 's' || inode != static_cast<unsigned long long>(st.st_ino) ||
        major_no != major(st.st_dev) || minor_no != minor(st.st_dev)) continue;
    if (madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED) == 0) released += static_cast<double>(end - start);
    else if (failed == 0) failed = errno;
  }
  fclose(maps);
  if (failed != 0) throw ErrnoError(env, failed, "madvise", &p.display);
  return Napi::Number::New(env, released);
}

}  // namespace

void InitFileMaps(Napi::Env env, Napi::Object exports) {
  exports.Set("releaseFileMaps", Napi::Function::New(env, ReleaseFileMaps, "releaseFileMaps"));
}

}  // namespace foxing
