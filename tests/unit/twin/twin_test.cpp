#include "twin/twin.hpp"

#include <gtest/gtest.h>

#include "json_printer.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "jsonld/context_store.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"
#include "twin/entity_record.hpp"

namespace ct::twin {
namespace {

class TwinTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("citytwin-twin-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    open();
  }
  void TearDown() override {
    twin_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void open() {
    twin_.reset();
    store_.reset();
    store_ = std::move(storage::open_rocksdb_store({dir_}).value());
    twin_ = std::make_unique<Twin>(*store_);
    ASSERT_TRUE(twin_->load().ok());
  }
  jsonld::DecodedEntity decode(const char* text, jsonld::DecodeOptions options = {}) {
    return jsonld::decode_entity(json::parse(text).as_object(), *contexts_.core(), options).value();
  }
  json::object get(const std::string& tenant, const std::string& id, bool sys_attrs = false) {
    json::object out;
    jsonld::EncodeOptions options;
    options.sys_attrs = sys_attrs;
    auto st = twin_->read(tenant, id, [&](const model::Entity& e) { out = jsonld::encode_entity(e, *contexts_.core(), options); });
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.problem().detail);
    return out;
  }
  void durable(const Result<WriteOutcome>& outcome) {
    ASSERT_TRUE(outcome.ok()) << outcome.problem().detail;
    ASSERT_TRUE(store_->wait_durable(outcome->sequence).ok());
  }

  std::filesystem::path dir_;
  jsonld::ContextStore contexts_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Twin> twin_;
};

constexpr const char* kSensor = R"({"id":"urn:ngsi-ld:Sensor:1","type":"Sensor",
  "speed":{"type":"Property","value":40,"unitCode":"KMH","accuracy":{"type":"Property","value":0.5}},
  "flow":{"type":"Property","value":12}})";

}  // namespace

TEST_F(TwinTest, CreatedEntitiesSurviveRestart) {
  durable(twin_->create("", decode(kSensor)));
  durable(twin_->create("haidian", decode(kSensor)));
  const auto before = get("", "urn:ngsi-ld:Sensor:1", true);
  open();
  EXPECT_EQ(get("", "urn:ngsi-ld:Sensor:1", true), before) << "system attributes reload too";
  EXPECT_EQ(twin_->stats().entities, 2u);
  EXPECT_TRUE(twin_->tenant_exists("haidian"));
}

TEST_F(TwinTest, CreateTwiceIsAlreadyExists) {
  durable(twin_->create("", decode(kSensor)));
  auto again = twin_->create("", decode(kSensor));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.problem().kind, ProblemKind::AlreadyExists);
}

TEST_F(TwinTest, AppendWithNoOverwriteReportsSkippedAttributes) {
  durable(twin_->create("", decode(kSensor)));
  auto outcome = twin_->append("", "urn:ngsi-ld:Sensor:1",
                               decode(R"({"speed":{"type":"Property","value":99},"occupancy":{"type":"Property","value":0.3}})"), true);
  durable(outcome);
  ASSERT_EQ(outcome->report.not_updated.size(), 1u);
  EXPECT_EQ(get("", "urn:ngsi-ld:Sensor:1").at("speed").as_object().at("value"), 40);
  EXPECT_TRUE(get("", "urn:ngsi-ld:Sensor:1").contains("occupancy"));
}

TEST_F(TwinTest, UpdateTouchesOnlyExistingAttributes) {
  durable(twin_->create("", decode(kSensor)));
  auto outcome = twin_->update("", "urn:ngsi-ld:Sensor:1",
                               decode(R"({"flow":{"type":"Property","value":15},"ghost":{"type":"Property","value":1}})"));
  durable(outcome);
  EXPECT_EQ(outcome->report.updated.size(), 1u);
  ASSERT_EQ(outcome->report.not_updated.size(), 1u);
  auto e = get("", "urn:ngsi-ld:Sensor:1");
  EXPECT_EQ(e.at("flow").as_object().at("value"), 15);
  EXPECT_FALSE(e.contains("ghost"));
}

TEST_F(TwinTest, PartialAttributeUpdateKeepsWhatItDoesNotName) {
  durable(twin_->create("", decode(kSensor)));
  jsonld::DecodeOptions partial;
  partial.partial = true;
  auto fragment = jsonld::decode_attribute(model::Term::intern(contexts_.core()->expand("speed")),
                                           json::parse(R"({"value":55})"), *contexts_.core(), partial).value();
  durable(twin_->patch_attribute("", "urn:ngsi-ld:Sensor:1", std::move(fragment.front())));
  auto speed = get("", "urn:ngsi-ld:Sensor:1").at("speed").as_object();
  EXPECT_EQ(speed.at("value"), 55);
  EXPECT_EQ(speed.at("unitCode"), "KMH");
  EXPECT_TRUE(speed.contains("accuracy"));
}

TEST_F(TwinTest, MergePatchMergesAndDeletes) {
  durable(twin_->create("", decode(kSensor)));
  jsonld::DecodeOptions merge;
  merge.allow_null_values = true;
  durable(twin_->merge("", "urn:ngsi-ld:Sensor:1",
                       decode(R"({"flow":"urn:ngsi-ld:null","speed":{"type":"Property","value":30,"accuracy":"urn:ngsi-ld:null"}})", merge)));
  auto e = get("", "urn:ngsi-ld:Sensor:1");
  EXPECT_FALSE(e.contains("flow"));
  EXPECT_EQ(e.at("speed").as_object().at("value"), 30);
  EXPECT_EQ(e.at("speed").as_object().at("unitCode"), "KMH");
  EXPECT_FALSE(e.at("speed").as_object().contains("accuracy"));
}

TEST_F(TwinTest, ReplaceKeepsCreationTimes) {
  durable(twin_->create("", decode(kSensor)));
  const auto created = get("", "urn:ngsi-ld:Sensor:1", true).at("createdAt");
  durable(twin_->replace("", "urn:ngsi-ld:Sensor:1", decode(R"({"type":"Sensor","level":{"type":"Property","value":3}})")));
  auto e = get("", "urn:ngsi-ld:Sensor:1", true);
  EXPECT_EQ(e.at("createdAt"), created);
  EXPECT_FALSE(e.contains("speed"));
  EXPECT_TRUE(e.contains("level"));
}

TEST_F(TwinTest, DeleteAttributeByDatasetIdOrAll) {
  durable(twin_->create("", decode(R"({"id":"urn:x:1","type":"T","speed":[
      {"type":"Property","value":1},{"type":"Property","value":2,"datasetId":"urn:d:radar"},
      {"type":"Property","value":3,"datasetId":"urn:d:loop"}]})")));
  const auto speed = model::Term::intern(contexts_.core()->expand("speed"));
  durable(twin_->delete_attribute("", "urn:x:1", speed, model::Term::intern("urn:d:radar"), false));
  EXPECT_EQ(get("", "urn:x:1").at("speed").as_array().size(), 2u);
  durable(twin_->delete_attribute("", "urn:x:1", speed, {}, true));
  EXPECT_FALSE(get("", "urn:x:1").contains("speed"));
  auto missing = twin_->delete_attribute("", "urn:x:1", speed, {}, true);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.problem().kind, ProblemKind::ResourceNotFound);
}

TEST_F(TwinTest, TenantsAreSeparate) {
  durable(twin_->create("chaoyang", decode(kSensor)));
  auto st = twin_->read("haidian", "urn:ngsi-ld:Sensor:1", [](const model::Entity&) {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.problem().kind, ProblemKind::NonexistentTenant);
  st = twin_->read("", "urn:ngsi-ld:Sensor:1", [](const model::Entity&) {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.problem().kind, ProblemKind::ResourceNotFound);
}

TEST_F(TwinTest, DeletedEntitiesStayDeletedAfterRestart) {
  durable(twin_->create("", decode(kSensor)));
  durable(twin_->remove("", "urn:ngsi-ld:Sensor:1"));
  open();
  EXPECT_EQ(twin_->stats().entities, 0u);
}


// A document as the version before entity records wrote it: normalized JSON, expanded names,
// system attributes.
constexpr const char* kJsonDocument =
    R"({"id":"urn:ngsi-ld:Sensor:old","type":["https://uri.etsi.org/ngsi-ld/default-context/Sensor","https://uri.etsi.org/ngsi-ld/default-context/Device"],"scope":"/Beijing/Haidian","createdAt":"2026-11-29T08:00:00.000Z","modifiedAt":"2026-11-29T09:00:00.123Z","https://uri.etsi.org/ngsi-ld/default-context/speed":{"type":"Property","value":40.5,"observedAt":"2026-11-24T08:00:00.250Z","unitCode":"KMH","createdAt":"2026-11-29T08:00:00.000Z","modifiedAt":"2026-11-29T09:00:00.123Z","https://uri.etsi.org/ngsi-ld/default-context/accuracy":{"type":"Property","value":0.5,"createdAt":"2026-11-29T09:00:00.123Z","modifiedAt":"2026-11-29T09:00:00.123Z"}},"https://uri.etsi.org/ngsi-ld/default-context/temperature":[{"type":"Property","value":-3,"datasetId":"urn:ngsi-ld:dataset:outdoor","createdAt":"2026-11-29T08:00:00.000Z","modifiedAt":"2026-11-29T09:00:00.123Z"},{"type":"Property","value":21,"createdAt":"2026-11-29T08:00:00.000Z","modifiedAt":"2026-11-29T09:00:00.123Z"}],"https://uri.etsi.org/ngsi-ld/default-context/name":{"type":"LanguageProperty","languageMap":{"zh":"东四","en":"Dongsi"},"createdAt":"2026-11-29T08:00:00.000Z","modifiedAt":"2026-11-29T09:00:00.123Z"},"https://uri.etsi.org/ngsi-ld/default-context/refDevice":{"type":"Relationship","object":"urn:ngsi-ld:Device:d1","createdAt":"2026-11-29T08:00:00.000Z","modifiedAt":"2026-11-29T09:00:00.123Z"},"https://uri.etsi.org/ngsi-ld/location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[116.417,39.929]},"createdAt":"2026-11-29T08:00:00.000Z","modifiedAt":"2026-11-29T09:00:00.123Z"}})";

// Captures what the default logger writes while it lives.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(text_)));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(TwinTest, LoadsJsonDocumentsWrittenBeforeEntityRecords) {
  durable(twin_->create("", decode(kSensor)));  // a record beside the JSON document
  const auto key = storage::tenant_key("haidian", "urn:ngsi-ld:Sensor:old");
  ASSERT_TRUE(store_->wait_durable(store_->enqueue({{storage::Collection::Entities, key, std::string(kJsonDocument)}})).ok());
  open();
  EXPECT_EQ(twin_->stats().entities, 2u);
  const json::value expected = json::parse(R"({"id":"urn:ngsi-ld:Sensor:old","type":["Sensor","Device"],"scope":"/Beijing/Haidian",
    "createdAt":"2026-11-29T08:00:00.000Z","modifiedAt":"2026-11-29T09:00:00.123Z",
    "speed":{"type":"Property","value":40.5,"observedAt":"2026-11-24T08:00:00.250Z","unitCode":"KMH",
             "createdAt":"2026-11-29T08:00:00.000Z","modifiedAt":"2026-11-29T09:00:00.123Z",
             "accuracy":{"type":"Property","value":0.5,"createdAt":"2026-11-29T09:00:00.123Z","modifiedAt":"2026-11-29T09:00:00.123Z"}},
    "temperature":[{"type":"Property","value":-3,"datasetId":"urn:ngsi-ld:dataset:outdoor","createdAt":"2026-11-29T08:00:00.000Z","modifiedAt":"2026-11-29T09:00:00.123Z"},
                   {"type":"Property","value":21,"createdAt":"2026-11-29T08:00:00.000Z","modifiedAt":"2026-11-29T09:00:00.123Z"}],
    "name":{"type":"LanguageProperty","languageMap":{"zh":"东四","en":"Dongsi"},"createdAt":"2026-11-29T08:00:00.000Z","modifiedAt":"2026-11-29T09:00:00.123Z"},
    "refDevice":{"type":"Relationship","object":"urn:ngsi-ld:Device:d1","createdAt":"2026-11-29T08:00:00.000Z","modifiedAt":"2026-11-29T09:00:00.123Z"},
    "location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[116.417,39.929]},"createdAt":"2026-11-29T08:00:00.000Z","modifiedAt":"2026-11-29T09:00:00.123Z"}})");
  EXPECT_EQ(json::value(get("haidian", "urn:ngsi-ld:Sensor:old", true)), expected);

  // Its next write stores it as a record, and it reads back the same.
  durable(twin_->append("haidian", "urn:ngsi-ld:Sensor:old", decode(R"({"flow":{"type":"Property","value":7}})"), false));
  auto stored = store_->get(storage::Collection::Entities, key);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_TRUE(is_entity_record(**stored));
  const auto before = get("haidian", "urn:ngsi-ld:Sensor:old", true);
  open();
  EXPECT_EQ(get("haidian", "urn:ngsi-ld:Sensor:old", true), before);
  EXPECT_EQ(get("haidian", "urn:ngsi-ld:Sensor:old").at("flow").at("value"), 7);
}

TEST_F(TwinTest, DamagedDocumentsAreSkippedWithAWarningOnLoad) {
  for (const char* id : {"urn:ngsi-ld:Sensor:1", "urn:ngsi-ld:Sensor:2", "urn:ngsi-ld:Sensor:3"}) {
    auto body = json::parse(kSensor).as_object();
    body["id"] = id;
    durable(twin_->create("", jsonld::decode_entity(body, *contexts_.core(), {}).value()));
  }
  auto record = [&](const char* id) { return store_->get(storage::Collection::Entities, storage::tenant_key("", id)).value().value(); };
  const std::string whole = record("urn:ngsi-ld:Sensor:2");
  std::vector<storage::Write> damage = {
      {storage::Collection::Entities, storage::tenant_key("", "urn:ngsi-ld:Sensor:2"), whole.substr(0, whole.size() / 2)},
      // an intact record under another entity's key
      {storage::Collection::Entities, storage::tenant_key("", "urn:ngsi-ld:Sensor:3"), record("urn:ngsi-ld:Sensor:1")},
      {storage::Collection::Entities, storage::tenant_key("", "urn:ngsi-ld:Sensor:4"), std::string("{\"id\":\"urn:ngsi-ld:Sensor:4\",")},
      {storage::Collection::Entities, storage::tenant_key("", "urn:ngsi-ld:Sensor:5"), std::string("\x07garbage")},
      {storage::Collection::Entities, storage::tenant_key("", "urn:ngsi-ld:Sensor:6"), std::string()},
  };
  ASSERT_TRUE(store_->wait_durable(store_->enqueue(std::move(damage))).ok());
  std::string log;
  {
    LogCapture capture;
    open();
    log = capture.text();
  }
  EXPECT_EQ(twin_->stats().entities, 1u);
  EXPECT_TRUE(twin_->read("", "urn:ngsi-ld:Sensor:1", [](const model::Entity&) {}).ok());
  for (const char* id : {"urn:ngsi-ld:Sensor:2", "urn:ngsi-ld:Sensor:3", "urn:ngsi-ld:Sensor:4", "urn:ngsi-ld:Sensor:5", "urn:ngsi-ld:Sensor:6"})
    EXPECT_NE(log.find(std::string("skipped the stored entity ") + id), std::string::npos) << id << " in:\n" << log;
  EXPECT_NE(log.find("5 stored entity documents could not be read"), std::string::npos) << log;
  // The twin goes on: a skipped entity can be written again.
  durable(twin_->create("", decode(R"({"id":"urn:ngsi-ld:Sensor:2","type":"Sensor"})")));
  open();
  EXPECT_EQ(twin_->stats().entities, 2u);
}

}  // namespace ct::twin

namespace ct::twin {
namespace {

// The value and spatial indexes (built by the first query on 2,000 entities or more) stay exact
// through upserts that share values among many entities, repeat a value in two instances, move
// or keep locations, and through deletions: every answer equals a scan of the same entities.
TEST_F(TwinTest, IndexesStayExactThroughBatchUpsertsAndDeletes) {
  const auto& ctx = *contexts_.core();
  auto body = [](int i, int value, double lon) {
    return "{\"id\":\"urn:ngsi-ld:Sensor:" + std::to_string(i) + "\",\"type\":\"Sensor\"," +
           "\"speed\":[{\"type\":\"Property\",\"value\":" + std::to_string(value) + "}," +
           "{\"type\":\"Property\",\"value\":" + std::to_string(value) + ",\"datasetId\":\"urn:ngsi-ld:Dataset:b\"}]," +
           "\"location\":{\"type\":\"GeoProperty\",\"value\":{\"type\":\"Point\",\"coordinates\":[" +
           std::to_string(lon) + ",39.9]}}}";
  };
  auto upsert = [&](int from, int to, auto value_of, auto lon_of) {
    std::vector<jsonld::DecodedEntity> batch;
    for (int i = from; i < to; ++i) batch.push_back(decode(body(i, value_of(i), lon_of(i)).c_str()));
    auto outcome = twin_->batch_upsert("", std::move(batch), UpsertMode::Replace);
    for (const auto& item : outcome.items) ASSERT_FALSE(item.error) << item.error->detail;
    ASSERT_TRUE(store_->wait_durable(outcome.sequence).ok());
  };
  auto ids = [&](const std::string& q, bool near) {
    EntityQuery query;
    query.q = query::parse_q(q, ctx).value();
    if (near)
      query.geo = query::parse_geo_query("near;maxDistance==20000", "Point", "[116.0,39.9]", "", ctx).value();
    std::set<std::string> out;
    EXPECT_TRUE(twin_->query("", query, 0, 100000, [&](const model::Entity& e) { out.insert(e.id); }).ok());
    return out;
  };
  upsert(0, 2100, [](int i) { return i % 5; }, [](int i) { return 116.0 + (i % 2) * 0.5; });
  (void)ids("speed>2", true);  // builds both indexes
  std::map<int, std::pair<int, double>> truth;
  for (int i = 0; i < 2100; ++i) truth[i] = {i % 5, 116.0 + (i % 2) * 0.5};
  // Half move to other values and every third location moves; then some are deleted.
  upsert(0, 1050, [](int i) { return (i + 1) % 7; }, [](int i) { return i % 3 ? 116.0 + (i % 2) * 0.5 : 116.5; });
  for (int i = 0; i < 1050; ++i) truth[i] = {(i + 1) % 7, i % 3 ? 116.0 + (i % 2) * 0.5 : 116.5};
  std::vector<std::string> gone;
  for (int i = 0; i < 2100; i += 10) gone.push_back("urn:ngsi-ld:Sensor:" + std::to_string(i));
  ASSERT_TRUE(store_->wait_durable(twin_->batch_delete("", gone).sequence).ok());
  for (int i = 0; i < 2100; i += 10) truth.erase(i);

  for (int threshold : {-1, 0, 2, 4, 6}) {
    for (bool near : {false, true}) {
      std::set<std::string> expected;
      for (const auto& [i, state] : truth)
        if (state.first > threshold && (!near || state.second < 116.1)) expected.insert("urn:ngsi-ld:Sensor:" + std::to_string(i));
      EXPECT_EQ(ids("speed>" + std::to_string(threshold), near), expected) << threshold << " near " << near;
    }
  }
  EXPECT_EQ(ids("speed==3", false).size(), static_cast<std::size_t>(std::count_if(truth.begin(), truth.end(), [](const auto& t) {
              return t.second.first == 3;
            })));
}

}  // namespace
}  // namespace ct::twin
