#include "storage/volume_reserve.hpp"

#include <sys/statvfs.h>

#include <algorithm>

namespace ct::storage {
namespace {

constexpr std::uint64_t kMiB = 1 << 20;
constexpr auto kRemeasureEvery = std::chrono::milliseconds(100);

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::uint64_t default_reserve(std::uint64_t total) {
  return std::clamp<std::uint64_t>(total / 20, 16 * kMiB, 1024 * kMiB);
}

}  // namespace

Problem storage_full() {
  return Problem{ProblemKind::InsufficientStorage,
                 "the data volume is full: writes are refused (and change nothing) until space is freed"};
}

VolumeReserve::VolumeReserve(const std::filesystem::path& directory, std::uint64_t reserve_bytes) {
  free_space_ = [path = directory.string()]() -> std::optional<std::uint64_t> {
    struct statvfs fs {};
    if (::statvfs(path.c_str(), &fs) != 0) return std::nullopt;
    return static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  };
  struct statvfs fs {};
  const std::uint64_t total =
      ::statvfs(directory.c_str(), &fs) == 0 ? static_cast<std::uint64_t>(fs.f_blocks) * fs.f_frsize : 0;
  reserve_ = reserve_bytes ? reserve_bytes : default_reserve(total);
  (void)measure();
}

VolumeReserve::VolumeReserve(FreeSpace free_space, std::uint64_t total_bytes, std::uint64_t reserve_bytes)
    : free_space_(std::move(free_space)), reserve_(reserve_bytes ? reserve_bytes : default_reserve(total_bytes)) {
  (void)measure();
}

std::optional<std::uint64_t> VolumeReserve::measure() {
  auto free = free_space_();
  measured_at_.store(now_ns(), std::memory_order_relaxed);
  if (free) {
    free_.store(*free, std::memory_order_relaxed);
    full_.store(!verdict(*free, 0, false).ok(), std::memory_order_relaxed);
  }
  return free;
}

Status VolumeReserve::verdict(std::uint64_t free, std::uint64_t bytes, bool freeing) const {
  const std::uint64_t keep = freeing ? reserve_ / 2 : reserve_;
  if (free < keep || free - keep < bytes) return storage_full();
  return {};
}

Status VolumeReserve::check(std::uint64_t bytes, bool freeing) {
  const auto free = measure();
  if (!free) return {};
  return verdict(*free, bytes, freeing);
}

Status VolumeReserve::admit(bool freeing) {
  if (!full()) return {};
  const std::int64_t last = measured_at_.load(std::memory_order_relaxed);
  std::int64_t expected = last;
  // One caller measures again when the last measure is old; the others take its verdict.
  if (now_ns() - last >= std::chrono::nanoseconds(kRemeasureEvery).count() &&
      measured_at_.compare_exchange_strong(expected, now_ns(), std::memory_order_relaxed)) {
    if (const auto free = measure(); !free) return {};
  }
  if (!full()) return {};
  return verdict(free_bytes(), 0, freeing);
}

}  // namespace ct::storage
