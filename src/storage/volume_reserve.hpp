#pragma once
// The free space a data volume keeps in reserve, so that a full disk is a state the server lives
// through rather than a crash: ordinary writes are refused once the free space would fall below
// the reserve; deletions (which free space once compacted) are admitted down to half of it; what
// is left keeps the backend's own work (memtable flushes, compactions, a new log) and the server
// itself going. Used by a backend's commit thread for each group, and by admit() for each write.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>

#include "common/result.hpp"

namespace ct::storage {

class VolumeReserve {
 public:
  // Free bytes of the volume now, or nullopt if it cannot be told (then nothing is refused).
  using FreeSpace = std::function<std::optional<std::uint64_t>()>;

  // `reserve_bytes` 0 picks one from the volume's size: 5 %, at least 16 MB, at most 1 GB.
  VolumeReserve(const std::filesystem::path& directory, std::uint64_t reserve_bytes);
  // For tests: a volume of `total_bytes` whose free space `free_space` tells.
  VolumeReserve(FreeSpace free_space, std::uint64_t total_bytes, std::uint64_t reserve_bytes);

  // Whether `bytes` more may be written now (measures the free space). Commit thread.
  Status check(std::uint64_t bytes, bool freeing);
  // The last verdict of check() for an ordinary write, measured again at most every 100 ms while
  // it refuses (so that freed space is noticed without a write reaching the commit thread). Any thread.
  Status admit(bool freeing);

  bool full() const { return full_.load(std::memory_order_relaxed); }
  std::uint64_t free_bytes() const { return free_.load(std::memory_order_relaxed); }
  std::uint64_t reserve_bytes() const { return reserve_; }

 private:
  Status verdict(std::uint64_t free, std::uint64_t bytes, bool freeing) const;
  std::optional<std::uint64_t> measure();

  FreeSpace free_space_;
  std::uint64_t reserve_ = 0;
  std::atomic<bool> full_{false};
  std::atomic<std::uint64_t> free_{0};
  std::atomic<std::int64_t> measured_at_{0};  // steady clock, ns
};

// Why a write was refused at the reserve: no path, no backend name (it reaches clients).
Problem storage_full();

}  // namespace ct::storage
