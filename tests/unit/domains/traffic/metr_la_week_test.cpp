// Runs the jam detector over the real METR-LA week (data/demo/la-traffic-speeds.csv.gz, all 207
// sensors, 5-minute speeds in mph) and prints every congestion event it finds; docs/traffic.md lists
// them. Run alone to see the list:  unit_tests --gtest_filter='MetrLaWeek.*'
#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <sstream>
#include <unordered_map>

#include "common/text_file.hpp"
#include "common/time.hpp"
#include "domains/traffic/traffic_model.hpp"

namespace ct::domains::traffic {
namespace {

TEST(MetrLaWeek, CongestionEventsOfTheRealWeek) {
  auto text = read_text_file(std::filesystem::path(CITYTWIN_SOURCE_DIR) / "data/demo/la-traffic-speeds.csv.gz");
  ASSERT_TRUE(text.ok()) << text.problem().detail;
  std::istringstream lines(*text);
  std::string line, field;
  std::getline(lines, line);
  std::vector<std::string> sensors;
  {
    std::istringstream header(line);
    std::getline(header, field, ',');  // "time"
    while (std::getline(header, field, ',')) sensors.push_back(field);
  }
  ASSERT_EQ(sensors.size(), 207u);

  TrafficSettings settings;
  settings.jam.utc_offset_minutes = -8 * 60;  // Los Angeles, March 2012 (before daylight saving time)
  TrafficModel model(settings);
  struct Episode {
    std::string sensor;
    Timestamp since, raised, cleared = kNoTimestamp;
    double usual = 0, slowest = 1e9;
  };
  std::vector<Episode> episodes;
  std::unordered_map<std::string, std::size_t> open;
  std::size_t rows = 0;
  Timestamp last = 0;
  while (std::getline(lines, line)) {
    std::istringstream row(line);
    std::getline(row, field, ',');
    const auto t = parse_datetime(field);
    ASSERT_TRUE(t) << field;
    last = *t;
    for (const auto& sensor : sensors) {
      ASSERT_TRUE(std::getline(row, field, ','));
      const double kmh = std::stod(field) * *kmh_factor("HM");
      const auto u = model.observe(sensor, *t, kmh);
      if (u.jam.change == JamChange::Started) {
        open[sensor] = episodes.size();
        episodes.push_back({sensor, u.jam.since, *t, kNoTimestamp, *u.jam.usual_kmh, kmh});
      } else if (u.jam.change == JamChange::Cleared) {
        episodes[open.at(sensor)].cleared = *t;
        open.erase(sensor);
      } else if (open.contains(sensor)) {
        auto& e = episodes[open.at(sensor)];
        e.slowest = std::min(e.slowest, kmh);
      }
    }
    ++rows;
  }
  ASSERT_EQ(rows, 7u * 288);

  // Times in Los Angeles local time (PST, UTC-8, as the data's week).
  constexpr Timestamp kPst = -8 * 3'600'000;
  std::printf("| # | sensor | began (PST) | raised | cleared | minutes | usual km/h | slowest km/h |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  std::size_t n = 0;
  for (const auto& e : episodes) {
    const Timestamp end = e.cleared == kNoTimestamp ? last : e.cleared;
    std::printf("| %zu | %s | %s | %s | %s | %lld | %.0f | %.0f |\n", ++n, e.sensor.c_str(),
                format_datetime(e.since + kPst).substr(0, 16).c_str(), format_datetime(e.raised + kPst).substr(11, 5).c_str(),
                e.cleared == kNoTimestamp ? "(open at the end)" : format_datetime(e.cleared + kPst).substr(11, 5).c_str(),
                static_cast<long long>((end - e.since) / 60'000), e.usual, e.slowest);
    // Every event is what the detector promises: a drop that held at least the hold time.
    EXPECT_GE(e.raised - e.since, settings.jam.hold_ms);
    EXPECT_LT(e.slowest, settings.jam.drop_ratio * e.usual);
    // Nothing is judged before two days of a kind taught the usual speeds: Thursday and Friday teach
    // the weekdays (judged from Monday), Saturday and Sunday the weekend.
    EXPECT_GE(e.since, parse_datetime("2012-03-05T08:00:00Z").value());
  }
  std::printf("%zu congestion events on %zu sensors over the week\n", episodes.size(), [&] {
    std::set<std::string> distinct;
    for (const auto& e : episodes) distinct.insert(e.sensor);
    return distinct.size();
  }());
  // A week of a real freeway network has incidents, but far fewer than one per sensor per day.
  EXPECT_GT(episodes.size(), 0u);
  EXPECT_LT(episodes.size(), sensors.size() * 7);
}

}  // namespace
}  // namespace ct::domains::traffic
