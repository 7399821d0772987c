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

}  // namespace foxing
