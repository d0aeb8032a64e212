// Air-quality reports from history, through the real RocksDB store and history store: one station
// with a year of hourly values of its six pollutants (52,560 points, compacted into day blocks),
// then the station-day report (日报) and the month calendar, as GET /city/v1/air/daily and
// /calendar compute them (targets, issue #15: a day <= 1 ms, a month <= 20 ms).
//
//   air_bench [--data-dir DIR] [--repeat 200]
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "domains/air/air_quality.hpp"
#include "domains/core/city_settings.hpp"
#include "domains/core/kpi.hpp"
#include "history/history_store.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"

namespace {

using namespace ct;
using Clock = std::chrono::steady_clock;

constexpr Timestamp kHour = 3'600'000;
constexpr Timestamp kDay = 24 * kHour;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

struct Times {
  double min, median, p99;
};
Times summarise(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v.front(), v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)]};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"air-quality report benchmark"};
  std::string dir = (std::filesystem::temp_directory_path() / "citytwin-air-bench").string();
  int repeat = 200;
  app.add_option("--data-dir", dir, "a fresh data dir (removed first)");
  app.add_option("--repeat", repeat, "repeats of each report")->check(CLI::Range(1, 100000));
  CLI11_PARSE(app, argc, argv);

  std::filesystem::remove_all(dir);
  auto store = storage::open_rocksdb_store({dir, false});
  if (!store) return std::fprintf(stderr, "%s\n", store.problem().detail.c_str()), 1;
  twin::Twin twin(**store);
  if (!twin.load()) return 1;
  history::HistoryStore history(**store);
  jsonld::ContextStore contexts;

  const std::string id = "urn:ngsi-ld:AirQualityObserved:bench";
  const char* names[] = {"so2", "no2", "co", "o3", "pm10", "pm25"};
  const double base[] = {10, 40, 800, 60, 90, 60};
  json::object body{{"id", id}, {"type", "AirQualityObserved"}};
  for (auto* n : names) body[n] = json::object{{"type", "Property"}, {"value", 1}};
  auto decoded = jsonld::decode_entity(body, *contexts.core(), {});
  if (!decoded || !twin.create("", std::move(decoded).value())) return 1;

  // 2016 in Beijing time: 366 days of hourly values, one in 20 missing.
  const Timestamp start = *parse_datetime("2015-12-31T16:00:00Z");
  auto t0 = Clock::now();
  std::vector<storage::Write> writes;
  storage::Sequence last = 0;
  std::size_t points = 0;
  for (std::size_t p = 0; p < 6; ++p) {
    model::Attribute instance;
    instance.name = model::Term::intern(std::string("https://uri.etsi.org/ngsi-ld/default-context/") + names[p]);
    for (Timestamp t = start; t < start + 366 * kDay; t += kHour) {
      const auto hour = static_cast<double>((t - start) / kHour);
      if (static_cast<long>(hour * 7 + static_cast<double>(p)) % 20 == 0) continue;
      const double v = base[p] * (1.2 + std::sin(hour / 24 * 6.283) * 0.5 + std::sin(hour / 200) * 0.6);
      instance.value = std::round(std::max(0.0, v));
      instance.observed_at = t;
      history.record_instance("", id, instance, t, writes);
      ++points;
      if (writes.size() >= 20'000) last = (*store)->enqueue(std::exchange(writes, {}));
    }
  }
  if (!writes.empty()) last = (*store)->enqueue(std::move(writes));
  if (!(*store)->wait_durable(last)) return 1;
  if (!history.compact(start + 400 * kDay, 0)) return 1;
  std::printf("recorded and compacted %zu points in %.0f ms\n", points, ms_since(t0));

  domains::CitySettingsStore settings(**store);
  domains::KpiPublisher kpis(twin, contexts);
  domains::AppServices services{twin, **store, contexts, settings, kpis, &history};
  auto air = domains::air::make_application(services);

  std::vector<double> day_ms, month_ms;
  int with_aqi = 0;
  for (int r = 0; r < repeat; ++r) {
    const domains::LocalDate date = domains::add_days({2016, 1, 1}, (r * 37) % 366);
    auto t = Clock::now();
    auto report = air->daily("", id, date, "");
    day_ms.push_back(ms_since(t));
    if (!report) return std::fprintf(stderr, "%s\n", report.problem().detail.c_str()), 1;
    with_aqi += report->result.aqi.has_value();
  }
  for (int r = 0; r < std::max(1, repeat / 10); ++r) {
    auto t = Clock::now();
    auto month = air->calendar("", id, 2016, static_cast<unsigned>(1 + r % 12), "");
    month_ms.push_back(ms_since(t));
    if (!month) return std::fprintf(stderr, "%s\n", month.problem().detail.c_str()), 1;
  }
  const auto d = summarise(day_ms), m = summarise(month_ms);
  std::printf("station-day report: min %.3f ms, median %.3f ms, p99 %.3f ms (%zu runs, %d with an AQI)\n", d.min,
              d.median, d.p99, day_ms.size(), with_aqi);
  std::printf("month calendar:     min %.3f ms, median %.3f ms, p99 %.3f ms (%zu runs)\n", m.min, m.median, m.p99,
              month_ms.size());
  (*store)->close();
  std::filesystem::remove_all(dir);
  return 0;
}
