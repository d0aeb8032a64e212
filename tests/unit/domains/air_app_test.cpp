// The air application on a real twin and store, through the host: the real-time AQI put on the
// station inside the reading's own write (one change event), bad readings (kept, AQI left out, cause
// counted), and the tenant's profile.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <set>
#include <filesystem>
#include <thread>

#include "domains/air/air_quality.hpp"
#include "domains/catalog.hpp"
#include "domains/core/city_settings.hpp"
#include "domains/core/host.hpp"
#include "domains/core/kpi.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"

namespace ct::domains {
namespace {

constexpr std::string_view kStation = "urn:ngsi-ld:AirQualityObserved:dongsi";

class AirAppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("citytwin-air-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store_ = std::move(storage::open_rocksdb_store({dir_}).value());
    twin_ = std::make_unique<twin::Twin>(*store_);
    ASSERT_TRUE(twin_->load().ok());
    settings_ = std::make_unique<CitySettingsStore>(*store_);
    kpis_ = std::make_unique<KpiPublisher>(*twin_, contexts_);
    host_ = std::make_unique<Host>(AppServices{*twin_, *store_, contexts_, *settings_, *kpis_, nullptr});
    ASSERT_TRUE(add_applications(*host_, {"air"}).ok());
    EXPECT_FALSE(add_applications(*host_, {"weather"}).ok());
    ASSERT_TRUE(host_->start().ok());
    twin_->changes().attach(*host_);
  }
  void TearDown() override {
    host_.reset();
    twin_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void write(const std::string& text) {
    auto decoded = jsonld::decode_entity(json::parse(text).as_object(), *contexts_.core(), {});
    ASSERT_TRUE(decoded.ok()) << decoded.problem().detail;
    const auto id = decoded->header.id;
    if (!twin_->create("", decoded.value())) {
      decoded->header = {};
      ASSERT_TRUE(twin_->merge("", id, std::move(decoded).value()).ok());
    }
  }
  // The station's attribute `name` (default vocabulary) once `ready` holds for it, polling with a deadline.
  json::value wait_for(std::string_view name, const std::function<bool(const json::value&)>& ready) {
    const auto term = model::Term::intern("https://uri.etsi.org/ngsi-ld/default-context/" + std::string(name));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    json::value seen;
    while (std::chrono::steady_clock::now() < deadline) {
      (void)twin_->read("", std::string(kStation), [&](const model::Entity& e) {
        const auto* a = e.find(term);
        seen = a ? a->value : json::value();
      });
      if (ready(seen)) return seen;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << name << " never became ready; last " << to_text(seen);
    return seen;
  }
  std::uint64_t counter(std::string_view name, std::string_view labels = {}) {
    std::vector<AppCounter> all;
    host_->counters(all);
    for (const auto& c : all)
      if (c.name == name && c.labels == labels) return c.value;
    return 0;
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<twin::Twin> twin_;
  jsonld::ContextStore contexts_;
  std::unique_ptr<CitySettingsStore> settings_;
  std::unique_ptr<KpiPublisher> kpis_;
  std::unique_ptr<Host> host_;
};

TEST_F(AirAppTest, RealTimeAqiAppearsOnTheStation) {
  write(R"({"id": "urn:ngsi-ld:AirQualityObserved:dongsi", "type": "AirQualityObserved",
            "pm25": {"type": "Property", "value": 45, "observedAt": "2017-02-01T00:00:00Z"},
            "pm10": {"type": "Property", "value": 50, "observedAt": "2017-02-01T00:00:00Z"},
            "co": {"type": "Property", "value": 400, "observedAt": "2017-02-01T00:00:00Z"}})");
  // PM2.5 45 -> 63 on the 24-h table, PM10 50 -> 50, CO 0.4 mg/m³ (1-h) -> 4.
  auto aqi = wait_for("airQualityIndex", [](const json::value& v) { return v.is_number(); });
  EXPECT_EQ(aqi.to_number<double>(), 63);
  EXPECT_EQ(wait_for("airQualityLevel", [](const json::value& v) { return v.is_string(); }), "good");
  auto iaqi = wait_for("iaqi", [](const json::value& v) { return v.is_object(); });
  EXPECT_EQ(iaqi.at("pm25"), 63);
  EXPECT_EQ(iaqi.at("pm10"), 50);
  EXPECT_EQ(iaqi.at("co"), 4);
  EXPECT_EQ(wait_for("primaryPollutants", [](const json::value& v) { return v.is_array(); }), json::array{"pm25"});

  // A new reading changes it: PM2.5 150 -> 200 (中度污染).
  write(R"({"id": "urn:ngsi-ld:AirQualityObserved:dongsi",
            "pm25": {"type": "Property", "value": 150, "observedAt": "2017-02-01T01:00:00Z"}})");
  aqi = wait_for("airQualityIndex", [](const json::value& v) { return v.is_number() && v.to_number<double>() == 200; });
  EXPECT_EQ(aqi.to_number<double>(), 200);
  EXPECT_EQ(wait_for("airQualityLevel", [](const json::value& v) { return v == "moderatePollution"; }),
            "moderatePollution");
  // Two readings.
  EXPECT_EQ(counter("air_readings"), 2u);
  EXPECT_EQ(counter("air_aqi_written"), 2u);
}

// Records every change of the stream while it exists, for the test to inspect.
class Recorder final : public twin::ChangeConsumer {
 public:
  explicit Recorder(twin::ChangeStream& stream) : stream_(stream) { stream_.attach(*this); }
  ~Recorder() override { stream_.detach(*this); }
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;
  std::string_view name() const override { return "recorder"; }
  void consume(std::span<const twin::ChangeEvent> events) override {
    std::lock_guard lock(mutex_);
    events_.insert(events_.end(), events.begin(), events.end());
  }
  std::vector<twin::ChangeEvent> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  twin::ChangeStream& stream_;
  std::mutex mutex_;
  std::vector<twin::ChangeEvent> events_;
};

TEST_F(AirAppTest, TheAqiIsPartOfTheReadingsOwnWrite) {
  Recorder recorder(twin_->changes());
  auto decoded = jsonld::decode_entity(json::parse(R"({"id": "urn:ngsi-ld:AirQualityObserved:dongsi",
      "type": "AirQualityObserved", "pm25": {"type": "Property", "value": 45, "observedAt": "2017-02-01T00:00:00Z"}})")
                                           .as_object(),
                                       *contexts_.core(), {});
  ASSERT_TRUE(decoded.ok());
  auto created = twin_->create("", std::move(decoded).value());
  ASSERT_TRUE(created.ok());
  // Readable as soon as the write returns: nothing is written afterwards.
  (void)twin_->read("", std::string(kStation), [](const model::Entity& e) {
    const auto* aqi = e.find(model::Term::intern("https://uri.etsi.org/ngsi-ld/default-context/airQualityIndex"));
    ASSERT_NE(aqi, nullptr);
    EXPECT_EQ(aqi->value.to_number<double>(), 63);
    EXPECT_EQ(aqi->observed_at, parse_datetime("2017-02-01T00:00:00Z").value());
    EXPECT_EQ(e.revision, 1u);
  });
  ASSERT_TRUE(twin_->changes().wait_consumed(recorder, created->sequence, std::chrono::seconds(10)));
  ASSERT_TRUE(twin_->changes().wait_consumed(*host_, created->sequence, std::chrono::seconds(10)));
  // The KPI publisher writes entities of its own; the station had one change, which wrote the AQI too.
  std::vector<twin::ChangeEvent> station_events;
  for (auto& e : recorder.events())
    if (e.entity->id == kStation) station_events.push_back(e);
  ASSERT_EQ(station_events.size(), 1u);
  std::set<std::string> written;
  for (const auto& [name, dataset] : station_events[0].written) written.insert(std::string(name.str()));
  for (const char* name : {"pm25", "airQualityIndex", "airQualityLevel", "iaqi", "primaryPollutants"})
    EXPECT_TRUE(written.contains("https://uri.etsi.org/ngsi-ld/default-context/" + std::string(name))) << name;
  EXPECT_EQ(counter("air_readings"), 1u);
  EXPECT_EQ(counter("air_aqi_written"), 1u);
}

TEST_F(AirAppTest, BadReadingsAreKeptWithoutAqiAndCounted) {
  write(R"({"id": "urn:ngsi-ld:AirQualityObserved:dongsi", "type": "AirQualityObserved",
            "pm25": {"type": "Property", "value": 45, "observedAt": "2017-02-01T00:00:00Z"}})");
  wait_for("airQualityIndex", [](const json::value& v) { return v.is_number(); });
  write(R"({"id": "urn:ngsi-ld:AirQualityObserved:dongsi",
            "pm25": {"type": "Property", "value": -3, "observedAt": "2017-02-01T01:00:00Z"}})");
  auto problem = wait_for("aqiProblem", [](const json::value& v) { return v.is_object(); });
  EXPECT_NE(std::string(problem.at("detail").as_string()).find("pm25"), std::string::npos);
  EXPECT_NE(std::string(problem.at("detail").as_string()).find("negative"), std::string::npos);
  EXPECT_EQ(counter("air_aqi_skipped", "cause=\"negative\""), 1u);

  write(R"({"id": "urn:ngsi-ld:AirQualityObserved:dongsi",
            "pm25": {"type": "Property", "value": "high", "observedAt": "2017-02-01T02:00:00Z"}})");
  wait_for("aqiProblem", [](const json::value& v) {
    return v.is_object() && std::string(v.at("detail").as_string()).find("not a number") != std::string::npos;
  });
  EXPECT_EQ(counter("air_aqi_skipped", "cause=\"not_numeric\""), 1u);

  write(R"({"id": "urn:ngsi-ld:AirQualityObserved:dongsi",
            "pm25": {"type": "Property", "value": 5, "unitCode": "59", "observedAt": "2017-02-01T03:00:00Z"}})");
  wait_for("aqiProblem", [](const json::value& v) {
    return v.is_object() && std::string(v.at("detail").as_string()).find("'59'") != std::string::npos;
  });
  EXPECT_EQ(counter("air_aqi_skipped", "cause=\"unknown_unit\""), 1u);
  // The readings are stored; the last AQI stays the one of the last good reading.
  (void)twin_->read("", std::string(kStation), [](const model::Entity& e) {
    const auto* pm25 = e.find(model::Term::intern("https://uri.etsi.org/ngsi-ld/default-context/pm25"));
    ASSERT_NE(pm25, nullptr);
    EXPECT_EQ(pm25->value, 5);
  });
  EXPECT_EQ(counter("air_aqi_written"), 1u);

  // A good reading clears the problem.
  write(R"({"id": "urn:ngsi-ld:AirQualityObserved:dongsi",
            "pm25": {"type": "Property", "value": 75, "unitCode": "GQ", "observedAt": "2017-02-01T04:00:00Z"}})");
  wait_for("aqiProblem", [](const json::value& v) { return v.is_null(); });
  EXPECT_EQ(wait_for("airQualityIndex", [](const json::value& v) { return v.is_number() && v.to_number<double>() == 100; }),
            100);
}

TEST_F(AirAppTest, TheTenantsProfileApplies) {
  auto put = settings_->put("", json::parse(R"({"aqiProfile": "us-epa-2024"})").as_object(), true);
  ASSERT_TRUE(put.ok()) << put.problem().detail;
  write(R"({"id": "urn:ngsi-ld:AirQualityObserved:dongsi", "type": "AirQualityObserved",
            "pm25": {"type": "Property", "value": 12.0, "observedAt": "2017-02-01T00:00:00Z"}})");
  // EPA: 51 + 49/26.3·2.9 = 56.4 -> 56, "moderate".
  EXPECT_EQ(wait_for("airQualityIndex", [](const json::value& v) { return v.is_number(); }).to_number<double>(), 56);
  EXPECT_EQ(wait_for("airQualityLevel", [](const json::value& v) { return v.is_string(); }), "moderate");
}

}  // namespace
}  // namespace ct::domains
