#include "domains/core/city_settings.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "storage/rocksdb/rocksdb_store.hpp"

namespace ct::domains {
namespace {

class CitySettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("citytwin-city-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    open();
  }
  void TearDown() override {
    settings_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void open() {
    settings_.reset();
    store_.reset();
    store_ = std::move(storage::open_rocksdb_store({dir_}).value());
    settings_ = std::make_unique<CitySettingsStore>(*store_);
    settings_->allow_aqi_profiles({"hj633-2012", "us-epa-2024"});
    ASSERT_TRUE(settings_->load().ok());
  }
  Result<CitySettingsStore::Written> put(const char* body, bool merge, const std::string& tenant = "") {
    return settings_->put(tenant, json::parse(body).as_object(), merge);
  }
  std::filesystem::path dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<CitySettingsStore> settings_;
};

TEST_F(CitySettingsTest, DefaultsPutPatchAndRestart) {
  auto s = settings_->get("");
  EXPECT_EQ(s->time_zone.name(), "Asia/Shanghai");
  EXPECT_EQ(s->aqi_profile, "hj633-2012");
  EXPECT_EQ(s->district_type, "District");

  auto w = put(R"({"timeZone": "America/Los_Angeles", "aqiProfile": "us-epa-2024", "freeFlowSpeedKmh": 90})", false,
               "los-angeles");
  ASSERT_TRUE(w.ok()) << w.problem().detail;
  ASSERT_TRUE(store_->wait_durable(w->sequence).ok());
  // PATCH keeps what it does not name; PUT resets it.
  ASSERT_TRUE(put(R"({"slaResponseMinutes": 30})", true, "los-angeles").ok());
  EXPECT_EQ(settings_->get("los-angeles")->time_zone.name(), "America/Los_Angeles");
  EXPECT_EQ(settings_->get("los-angeles")->sla_response_minutes, 30);
  // Other tenants are untouched.
  EXPECT_EQ(settings_->get("")->time_zone.name(), "Asia/Shanghai");

  open();  // restart
  const auto la = settings_->get("los-angeles");
  EXPECT_EQ(la->time_zone.name(), "America/Los_Angeles");
  EXPECT_EQ(la->aqi_profile, "us-epa-2024");
  EXPECT_EQ(*la->free_flow_speed_kmh, 90);
  EXPECT_EQ(la->sla_response_minutes, 30);
  EXPECT_EQ(to_json(*la).at("timeZone"), "America/Los_Angeles");

  w = put(R"({"aqiProfile": "hj633-2012"})", false, "los-angeles");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(settings_->get("los-angeles")->time_zone.name(), "Asia/Shanghai");
}

TEST_F(CitySettingsTest, BadSettingsAreNamed) {
  auto expect_named = [&](const char* body, std::string_view named) {
    auto w = put(body, true);
    ASSERT_FALSE(w.ok()) << body;
    EXPECT_EQ(w.problem().kind, ProblemKind::BadRequestData);
    EXPECT_NE(w.problem().detail.find(named), std::string::npos) << w.problem().detail;
  };
  expect_named(R"({"timeZone": "Asia/Atlantis"})", "Asia/Atlantis");
  expect_named(R"({"timeZone": 8})", "timeZone");
  expect_named(R"({"aqiProfile": "hj633-1999"})", "hj633-1999");
  expect_named(R"({"freeFlowSpeedKmh": -3})", "freeFlowSpeedKmh");
  expect_named(R"({"freeFlowPercentile": 120})", "freeFlowPercentile");
  expect_named(R"({"colour": "red"})", "colour");
  // Nothing was changed by the failures.
  EXPECT_EQ(settings_->get("")->time_zone.name(), "Asia/Shanghai");
}

}  // namespace
}  // namespace ct::domains
