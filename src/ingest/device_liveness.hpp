#pragma once
// Device liveness: every device's last-seen time, and the state its Smart Data Model Device entity
// shows (deviceState online / offline).
//
// Contract:
//   - note_alive() may be called from any thread (every message path) and costs two atomic
//     operations unless the device comes back online (then a deviceState write joins `batch`).
//   - check(now) marks offline, once, each device silent for longer than its `timeout` (seconds of
//     provisioning; 0: not watched). The liveness thread (start()/stop()) calls it every `tick` with
//     the clock's now() and persists last-seen times every `persist_interval` and at stop(); tests
//     may call it directly with any time.
//   - restore() takes back, after a restart, the state each Device entity shows and the later of the
//     stored last-seen time and the last write to the device's entity (a kill -9 may have lost the
//     last persisted time, never an acknowledged measure). Call it before messages flow.
//   - All time comes from the Clock given; `rounds()` counts the liveness thread's completed checks,
//     so that a test can advance a ManualClock and wait for the next round before asserting.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "ingest/device_registry.hpp"
#include "jsonld/entity_codec.hpp"
#include "twin/twin.hpp"

namespace ct::ingest {

std::string_view state_name(DeviceState state);

struct LivenessOptions {
  std::chrono::milliseconds tick{1000};
  std::chrono::milliseconds persist_interval{5000};
};

class DeviceLiveness {
 public:
  DeviceLiveness(twin::Twin& twin, DeviceRegistry& registry, const jsonld::Context& names, const Clock& clock,
                 LivenessOptions options);
  ~DeviceLiveness();  // stop()

  void restore();
  // Records that the device spoke at `now`; adds its Device entity's return online to `batch`.
  void note_alive(const ProvisionedDevice& device, std::vector<jsonld::DecodedEntity>& batch, Timestamp now);
  void check(Timestamp now);
  void start();
  void stop();

  const Clock& clock() const { return clock_; }
  model::Term device_type() const { return device_type_; }
  model::Term device_state() const { return device_state_; }
  std::uint64_t went_offline() const { return went_offline_.load(std::memory_order_relaxed); }
  std::uint64_t came_online() const { return came_online_.load(std::memory_order_relaxed); }
  std::uint64_t rounds() const { return rounds_.load(std::memory_order_acquire); }

 private:
  void mark_state(const ProvisionedDevice& device, DeviceState state, std::vector<jsonld::DecodedEntity>& batch,
                  Timestamp at);
  void run();

  twin::Twin& twin_;
  DeviceRegistry& registry_;
  const Clock& clock_;
  LivenessOptions options_;
  model::Term device_type_, device_state_;
  std::atomic<std::uint64_t> went_offline_{0}, came_online_{0}, rounds_{0};
  std::mutex mutex_;  // guards stopping_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ct::ingest
