// The scan-ahead thread: while JavaScript handles one directory of a snapshot walk, this thread
// scans the next ones, so the system calls of a walk (an open, getdents and an fstatat per
// entry: ~18 us a directory on the bench VM) run beside the walk's own work (~25 us a
// directory) instead of before it.
//
// Which directories: the walk goes depth first in name order, and so does this thread. Each
// directory scanned (by the thread, or by the walk when it got there first) has its
// subdirectories pushed on a stack, the first one on top; the thread always scans the top.
// So it runs ahead of the walk along the walk's own path. A directory the walk then skips
// (excluded, the store itself) may be scanned for nothing, with some of what lies below it,
// but only on the same file system as its parent: the thread never enters another mount (an
// excluded network file system that hangs, /proc), which the walk lists itself if it goes in.
//
// Each walk has its own number: a scan made for one walk is never handed to another (a later
// walk of the same tree must see the tree as it is then).
//
// Limits, so a walk that skips or stops costs little:
//   - at most kMaxReady scans, or kMaxReadyBytes of them, wait to be taken; the thread sleeps
//     while that many do, and is woken when half of them are taken (a directory of a million
//     entries is ~130 MB scanned: the walk holds one such at a time either way);
//   - a scan older than kMaxAge is dropped, not handed out: the walk scans again itself, so a
//     listing is never older than that when the walk reads it (a slow walk, paced by the chunk
//     workers, may reach a scanned directory long after); dropping also frees the places of
//     scans the walk never takes;
//   - at most kMaxQueued directories wait on the stack; beyond that the oldest are forgotten.
// The thread is detached and never stopped: it sleeps when there is nothing to do, holds no
// resource between scans, and ends with the process.
//
// Cold cache: once a scan had to read from the disk (the thread's ru_inblock grew), the tree is
// not in the page cache, and kColdThreads threads (started then, detached as the first) take
// directories off the top of the stack side by side, so that many directory reads are in flight
// instead of one. Warm, only the first thread runs.
//
// Walks started ahead (StartAhead): a process that knows where a walk will begin before its
// walker is ready (fxcp's launcher, while Node compiles the CLI and the copy opens its state:
// ~25-40 ms of one core) starts the walk at once under a number of its own (kAheadWalks and
// up); the walker claims that number (ClaimAhead) when it begins at the same path with the same
// options, and goes on as if it had started the walk itself. A walk started ahead and not
// claimed within kMaxAge is abandoned: the thread scans nothing more for it, and what it made is
// dropped as any stale scan. A number is claimed once, so a second walk of the same tree scans
// it anew.
//
// Measured on the bench VM (2 vCPUs; unchanged snapshot of `mixed`, 4,529 directories): ~90 %
// of the walk's scans come from this thread, but the walk gains only ~10 ms of ~220, because
// a scan on the second vCPU takes 20-35 us instead of 18 (both vCPUs are busy at once) and the
// walk's own work slows as well. With cores to spare it is up to the scans' whole ~80 ms.
#include "scan_ahead.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <sys/resource.h>
#include <sys/stat.h>

namespace foxing {
namespace {

// (A walk started ahead gets no more room: 1,024 scans instead of 64 measured no faster on an
// unchanged copy of 100,000 files in 1,000 directories, whose two cores are busy either way,
// and would let foxingd's walks hold ~12 MB more each.)
constexpr size_t kMaxReady = 64;
constexpr size_t kMaxReadyBytes = 64 << 20;
constexpr size_t kMaxQueued = 4096;
constexpr auto kMaxAge = std::chrono::milliseconds(1000);
// Threads that scan once a scan had to read from the disk (a cold cache). On the bench VM's
// virtio disk a cold directory scan waits for each directory block in turn (ext4 reads a hashed
// directory's blocks one at a time, without readahead): the real set's first snapshot had its
// one scan thread waiting 2.0 s on directory blocks. (stat of the set's files cold, one thread:
// 0.45 s; four: 0.2 s.)
constexpr int kColdThreads = 4;

using Clock = std::chrono::steady_clock;

// What a scan was made for: the walk and whether it sized the xattrs.
struct ScanFor {
  uint32_t walk;
  bool xattrSizes;
  bool operator==(const ScanFor& o) const { return walk == o.walk && xattrSizes == o.xattrSizes; }
};

struct Ready {
  DirScan scan;
  ScanFor made;
  Clock::time_point at;
};

struct Request {
  std::string path;
  ScanFor want;
  int64_t dev;  // the directory's st_dev, as its parent's scan saw it (-1: a walk's first, started ahead)
};

// Walks started ahead and not claimed yet: their numbers, from kAheadWalks up (the JavaScript
// walks count below it: lib/fs/scan-dir.ts), and where and when each began. A claimed walk
// leaves the list: from then on it is its walker's, like any other.
struct Ahead {
  std::string path;
  bool xattrSizes;
  uint32_t walk;
  Clock::time_point started;
};

std::mutex aheadMu;  // never held while taking a ScanAhead's mu_
std::vector<Ahead>* aheads = new std::vector<Ahead>();  // never destroyed: the thread may read it at exit
uint32_t nextAhead = kAheadWalks;

// Whether the thread should still scan for `walk`: not when it was started ahead and kMaxAge
// has passed unclaimed.
bool WalkLive(uint32_t walk) {
  if (walk < kAheadWalks) return true;
  std::lock_guard<std::mutex> lock(aheadMu);
  for (const Ahead& a : *aheads) {
    if (a.walk == walk) return Clock::now() - a.started <= kMaxAge;
  }
  return true;
}

class ScanAhead {
 public:
  void Take(const std::string& path, ScanFor want, DirScan* out) {
    std::unique_lock<std::mutex> lock(mu_);
    // Being scanned right now: wait for it. (Spinning instead of sleeping measured no faster:
    // on two vCPUs the spinning slows the scan it waits for.)
    if (scanning_.count(path)) {
      waiters_++;
      done_.wait(lock, [&] { return scanning_.count(path) == 0; });
      waiters_--;
    }
    if (TakeReady(path, want, out)) return;  // its subdirectories are queued already
    queued_.erase(path);  // the thread skips it when it reaches it
    lock.unlock();
    ScanDirPacked(path, want.xattrSizes, out, /*ownDev=*/true);
    lock.lock();
    QueueChildren(path, out->dev, want, *out);
  }

  // Starts walk `want` at `path`: the thread scans it (its own file system's subdirectories next).
  void Start(const std::string& path, ScanFor want) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!queued_.insert(path).second) return;
    stack_.push_back(Request{path, want, /*dev=*/-1});
    Wake();
  }

  void Keep(const std::string& path, ScanFor made, DirScan&& scan) {
    std::lock_guard<std::mutex> lock(mu_);
    Put(path, Ready{std::move(scan), made, Clock::now()});
  }

 private:
  // Under mu_: moves a fresh ready scan of `path` with the same options into *out.
  bool TakeReady(const std::string& path, ScanFor want, DirScan* out) {
    auto it = ready_.find(path);
    if (it == ready_.end()) return false;
    const bool usable = it->second.made == want && Clock::now() - it->second.at <= kMaxAge;
    DirScan scan = std::move(it->second.scan);
    ready_bytes_ -= scan.packed.size();
    ready_.erase(it);
    if (usable) *out = std::move(scan);
    // Woken once half the room for scans made ahead is free, not at every take: each wake-up
    // costs the walk a system call.
    if (sleeping_ > 0 && !stack_.empty() && ready_.size() <= kMaxReady / 2 && ready_bytes_ <= kMaxReadyBytes / 2) {
      Notify();
    }
    return usable;
  }

  // Under mu_: queues the subdirectories of `dir` that are on its file system (`dev`), the
  // first one on top.
  void QueueChildren(const std::string& dir, int64_t dev, ScanFor want, const DirScan& scan) {
    if (scan.err != 0 || dev == -1) return;
    const std::string prefix = !dir.empty() && dir.back() == '/' ? dir : dir + "/";
    const size_t bottom = stack_.size();
    ForEachScanned(scan, [&](const char* name, size_t len, uint32_t mode, int64_t childDev) {
      if (!S_ISDIR(mode) || childDev != dev) return;
      std::string child = prefix + std::string(name, len);
      if (ready_.count(child) || scanning_.count(child) || !queued_.insert(child).second) return;
      stack_.push_back(Request{std::move(child), want, dev});
    });
    std::reverse(stack_.begin() + bottom, stack_.end());
    while (stack_.size() > kMaxQueued) {
      queued_.erase(stack_.front().path);
      stack_.pop_front();
    }
    Wake();
  }

  // Under mu_: the thread started, or woken when it sleeps and has room.
  void Wake() {
    if (threads_ == 0) StartThread();
    if (sleeping_ > 0 && !Full()) Notify();
  }

  // Under mu_: every sleeping thread woken once the tree reads cold (they scan side by side), else one.
  void Notify() {
    if (cold_) work_.notify_all();
    else work_.notify_one();
  }

  // Under mu_.
  void StartThread() {
    threads_++;
    std::thread([this] { Run(); }).detach();
  }

  // The blocks this thread has read from a disk (getrusage's ru_inblock: reads it submitted).
  static long BlocksRead() {
    struct rusage ru;
    return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_inblock : 0;
  }

  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (stack_.empty() || Full()) {
        DropStale();
        if (!stack_.empty() && !Full()) continue;
        sleeping_++;
        // Timed while scans wait: one that is never taken must give up its place once stale.
        if (ready_.empty()) work_.wait(lock);
        else work_.wait_for(lock, kMaxAge);
        sleeping_--;
        continue;
      }
      Request req = std::move(stack_.back());
      stack_.pop_back();
      if (queued_.erase(req.path) == 0) continue;  // taken by the walk meanwhile
      if (!WalkLive(req.want.walk)) continue;  // started ahead, never claimed
      scanning_.insert(req.path);
      lock.unlock();
      // A walk's first directory (started ahead) has no parent scan that saw its device.
      const bool first = req.dev == -1;
      DirScan scan;
      const long blocks = BlocksRead();
      ScanDirPacked(req.path, req.want.xattrSizes, &scan, first);
      const bool readDisk = BlocksRead() != blocks;
      lock.lock();
      if (readDisk && !cold_) {
        // The scan waited for the disk: the tree is not in the cache, so the next directories
        // are scanned by kColdThreads side by side, their reads in flight together.
        cold_ = true;
        while (threads_ < kColdThreads) StartThread();
      }
      QueueChildren(req.path, first ? scan.dev : req.dev, req.want, scan);
      Put(req.path, Ready{std::move(scan), req.want, Clock::now()});
      scanning_.erase(req.path);
      if (waiters_ > 0) done_.notify_all();
    }
  }

  // Under mu_: the ready scans, counted in bytes too.
  bool Full() const { return ready_.size() >= kMaxReady || ready_bytes_ >= kMaxReadyBytes; }

  void Put(const std::string& path, Ready&& r) {
    auto it = ready_.find(path);
    if (it != ready_.end()) Drop(it);
    ready_bytes_ += r.scan.packed.size();
    ready_.emplace(path, std::move(r));
  }

  std::unordered_map<std::string, Ready>::iterator Drop(std::unordered_map<std::string, Ready>::iterator it) {
    ready_bytes_ -= it->second.scan.packed.size();
    return ready_.erase(it);
  }

  void DropStale() {
    const auto now = Clock::now();
    for (auto it = ready_.begin(); it != ready_.end();) {
      if (now - it->second.at > kMaxAge) it = Drop(it);
      else ++it;
    }
  }

  std::mutex mu_;
  std::condition_variable work_;  // the thread waits here for requests or room
  std::condition_variable done_;  // the walk waits here for the scan in progress
  std::deque<Request> stack_;
  std::unordered_set<std::string> queued_;
  std::unordered_map<std::string, Ready> ready_;
  size_t ready_bytes_ = 0;
  std::unordered_set<std::string> scanning_;  // by the threads, now
  int threads_ = 0;
  int sleeping_ = 0;  // threads waiting in work_
  bool cold_ = false;  // a scan read from the disk: kColdThreads scan from then on
  int waiters_ = 0;  // walks sleeping in done_
};

// Never destroyed: the detached thread may still be using it while the process exits.
ScanAhead& Instance(uint32_t walk) {
  static ScanAhead* instances[2] = {new ScanAhead(), new ScanAhead()};
  return *instances[walk % 2];
}

}  // namespace

void TakeScan(const std::string& path, uint32_t walk, bool xattrSizes, DirScan* out) {
  Instance(walk).Take(path, ScanFor{walk, xattrSizes}, out);
}

void KeepScan(const std::string& path, uint32_t walk, bool xattrSizes, DirScan&& scan) {
  Instance(walk).Keep(path, ScanFor{walk, xattrSizes}, std::move(scan));
}

uint32_t StartAhead(const std::string& path, bool xattrSizes) {
  uint32_t walk;
  {
    std::lock_guard<std::mutex> lock(aheadMu);
    if (aheads->size() >= kMaxAheads) return 0;
    walk = nextAhead++;
    if (nextAhead == 0) nextAhead = kAheadWalks;
    aheads->push_back(Ahead{path, xattrSizes, walk, Clock::now()});
  }
  Instance(walk).Start(path, ScanFor{walk, xattrSizes});
  return walk;
}

uint32_t ClaimAhead(const std::string& path, bool xattrSizes) {
  std::lock_guard<std::mutex> lock(aheadMu);
  for (auto it = aheads->begin(); it != aheads->end(); ++it) {
    if (it->path == path && it->xattrSizes == xattrSizes && Clock::now() - it->started <= kMaxAge) {
      const uint32_t walk = it->walk;
      aheads->erase(it);
      return walk;
    }
  }
  return 0;
}

}  // namespace foxing
