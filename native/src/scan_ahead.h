// Scanning ahead of a directory walk on a thread of its own (see scan_ahead.cc).
#pragma once
#include <cstdint>
#include <string>

#include "dir_scan.h"

namespace foxing {

// The scan of `path` for walk number `walk` (nonzero), which goes on into the subdirectories:
// the one the scan-ahead thread already made for that walk when it is there (waiting for it
// when it is being made), otherwise made now. Either way the directory's subdirectories are
// then queued for the scan-ahead thread.
void TakeScan(const std::string& path, uint32_t walk, bool xattrSizes, DirScan* out);

// Puts back a scan the caller cannot use yet (its buffer was too small), for its next TakeScan.
void KeepScan(const std::string& path, uint32_t walk, bool xattrSizes, DirScan&& scan);

// Walk numbers from here up are those StartAhead gives (JavaScript's own walks count below).
constexpr uint32_t kAheadWalks = 0x80000000u;
// At most this many walks started ahead and not yet claimed or abandoned (one process starts two).
constexpr size_t kMaxAheads = 16;

// Starts a walk at directory `path` now, on the scan-ahead thread, before its walker is ready;
// returns its number (0 when kMaxAheads are pending). See scan_ahead.cc.
uint32_t StartAhead(const std::string& path, bool xattrSizes);

// The number of a walk StartAhead began at `path` with the same option, at most kMaxAge ago and
// not claimed yet, now claimed; 0 when there is none (the caller starts a walk of its own).
uint32_t ClaimAhead(const std::string& path, bool xattrSizes);

}  // namespace foxing
