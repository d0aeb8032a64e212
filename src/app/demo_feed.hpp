#pragma once
// The demo city's live feed: real data sets replayed in a loop inside `citytwin demo`, so the city
// never stops living and needs no broker.
//
// - Beijing (default tenant): the 12 monitoring stations' hourly PM2.5, PM10, SO2, NO2, CO and O3 of
//   one year (data/demo/beijing-air-2016-03_2017-02.csv.gz), as `AirQualityObserved` stations
//   `urn:ngsi-ld:AirQualityObserved:<station in lower case>` (µg/m³, unitCode GQ, CO too).
// - Los Angeles (tenant "los-angeles"): the METR-LA week's 5-minute speeds of the 207 road sensors
//   (data/demo/la-traffic-speeds.csv.gz), as the `averageVehicleSpeed` (km/h) of their
//   `TrafficFlowObserved` entities.
// Each data set starts at the row matching the wall clock (the same day of the year and hour in
// Beijing; the same weekday and time in Los Angeles) and advances `speed` times faster than real time
// (1: real time), wrapping around at its end. Every value is stamped (observedAt) with the wall-clock
// time it is replayed at, so that the city happens now. When the feed falls behind (a huge speed),
// it skips to the latest row instead of replaying every row in between.
//
// The feed writes through the twin, as the ingest path does: history, rules, subscriptions and the
// applications see its readings like any device's.
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "common/result.hpp"
#include "jsonld/context_store.hpp"
#include "twin/twin.hpp"

namespace ct::app {

struct DemoFeedOptions {
  std::filesystem::path data_dir;  // the repository's data/demo
  double speed = 120;              // data seconds per wall-clock second
};

class DemoFeed {
 public:
  DemoFeed(twin::Twin& twin, jsonld::ContextStore& contexts, DemoFeedOptions options);
  ~DemoFeed();
  DemoFeed(const DemoFeed&) = delete;
  DemoFeed& operator=(const DemoFeed&) = delete;

  // Reads both data sets; a problem names the file at fault. Before start().
  Status load();
  // Writes the first rows at once, then follows the clock on its own thread.
  void start();
  void stop();
  std::uint64_t rows_written() const { return rows_written_.load(); }

 private:
  struct Series;
  void run();
  // Writes the rows due at `now`; returns when the next one is due.
  Timestamp step(Timestamp now);

  twin::Twin& twin_;
  jsonld::ContextStore& contexts_;
  DemoFeedOptions options_;
  std::vector<std::unique_ptr<Series>> series_;
  Timestamp started_ = kNoTimestamp;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<std::uint64_t> rows_written_{0};
};

}  // namespace ct::app
