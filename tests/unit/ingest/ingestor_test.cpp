#include "ingest/ingestor.hpp"

#include "ingest/batch_writer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/clock.hpp"
#include "jsonld/context_store.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"

namespace ct::ingest {
namespace {

class RecordingSink : public CommandSink {
 public:
  bool send(const OutgoingCommand& command) override {
    std::lock_guard lock(mutex);
    sent.push_back(command);
    return true;
  }
  std::mutex mutex;
  std::vector<OutgoingCommand> sent;
};

class IngestorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("citytwin-ingest-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    open();
  }
  void TearDown() override {
    close();
    std::filesystem::remove_all(dir_);
  }
  // With `manual`, the registry and the ingestor take their time from clock_ (else the system's).
  void open(bool manual = false) {
    store_ = std::move(storage::open_rocksdb_store({dir_}).value());
    twin_ = std::make_unique<twin::Twin>(*store_);
    ASSERT_TRUE(twin_->load().ok());
    registry_ = std::make_unique<DeviceRegistry>(*store_, contexts_.core(), manual ? clock_ : system_clock());
    ASSERT_TRUE(registry_->load().ok());
    IngestOptions options;
    options.liveness_tick = std::chrono::milliseconds(20);
    if (manual) options.clock = &clock_;
    ingestor_ = std::make_unique<Ingestor>(*twin_, *registry_, contexts_.core(), options);
    twin_->changes().attach(*ingestor_);
  }
  void close() {
    ingestor_.reset();
    registry_.reset();
    twin_.reset();
    store_.reset();
  }
  void provision(const char* group, const char* device, const std::string& tenant = "haidian") {
    if (group) {
      ASSERT_TRUE(registry_->put_group(parse_service_group(json::parse(group).as_object(), tenant, "/").value(), true).ok());
    }
    auto registered = registry_->put_device(parse_device(json::parse(device).as_object(), tenant, "/").value(), true);
    ASSERT_TRUE(registered.ok()) << registered.problem().detail;
    auto written = ingestor_->materialize(*registered->device);
    ASSERT_TRUE(written.ok()) << written.problem().detail;
    ASSERT_TRUE(store_->wait_durable(std::max(*written, registered->sequence)).ok());
  }
  // The entity in keyValues form (null if absent).
  json::value get(const std::string& id, const std::string& tenant = "haidian") {
    json::value out;
    jsonld::EncodeOptions options;
    options.form = jsonld::Form::Simplified;
    (void)twin_->read(tenant, id, [&](const model::Entity& e) { out = jsonld::encode_entity(e, *contexts_.core(), options); });
    return out;
  }
  json::value attribute(const std::string& id, const char* name) {
    auto e = get(id);
    if (!e.is_object() || !e.as_object().contains(name)) return nullptr;
    return e.as_object().at(name);
  }
  json::value wait_for(const std::string& id, const char* name, const json::value& expected) {
    for (int i = 0; i < 300 && attribute(id, name) != expected; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return attribute(id, name);
  }
  void update_group(const char* group, bool create = false) {
    auto change = registry_->put_group(parse_service_group(json::parse(group).as_object(), "haidian", "/").value(), create);
    ASSERT_TRUE(change.ok()) << change.problem().detail;
    auto written = ingestor_->materialize(*change);
    ASSERT_TRUE(written.ok()) << written.problem().detail;
    ASSERT_TRUE(store_->wait_durable(*written).ok());
  }
  void write_command(const std::string& entity, const char* fragment_json) {
    auto fragment = jsonld::decode_entity(json::parse(fragment_json).as_object(), *contexts_.core(), {});
    ASSERT_TRUE(twin_->update("haidian", entity, std::move(*fragment)).ok());
  }

  std::filesystem::path dir_;
  ManualClock clock_;
  jsonld::ContextStore contexts_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<twin::Twin> twin_;
  std::unique_ptr<DeviceRegistry> registry_;
  std::unique_ptr<Ingestor> ingestor_;
};

constexpr const char* kGroup = R"({"apikey":"k1","entity_type":"Air",
  "attributes":[{"object_id":"t","name":"temperature","type":"Number"}]})";
constexpr const char* kStation = R"({"device_id":"s1","entity_name":"urn:ngsi-ld:Air:s1",
  "attributes":[{"object_id":"p","name":"pm25","type":"Integer","expression":"@value * 2"}],
  "commands":[{"name":"reset"}]})";

TEST_F(IngestorTest, ReadingsBecomeAttributesOfTheDevicesEntity) {
  provision(kGroup, kStation);
  auto outcome = ingestor_->ingest(Transport::Mqtt, "k1", "s1", PayloadFormat::Detect,
                                   "2024-01-01T00:00:00Z|t|20.5|p|3#t|21.5|p|4|x|free text");
  ASSERT_TRUE(outcome.ok()) << outcome.problem().detail;
  EXPECT_EQ(outcome->readings, 2u);
  EXPECT_EQ(outcome->measures, 5u);
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s1", "temperature"), json::value(21.5));
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s1", "pm25"), json::value(8));
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s1", "x"), json::value("free text"));
  EXPECT_EQ(attribute("urn:ngsi-ld:Device:s1", "deviceState"), json::value("online"));
  ASSERT_TRUE(ingestor_->ingest(Transport::Http, "k1", "s1", PayloadFormat::Json, R"({"t":22})").ok());
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s1", "temperature"), json::value(22.0));
  ASSERT_TRUE(ingestor_->ingest(Transport::Mqtt, "k1", "s1", PayloadFormat::Detect, "23", "t").ok());
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s1", "temperature"), json::value(23.0));
  const auto stats = ingestor_->stats();
  EXPECT_EQ(stats.accepted[static_cast<std::size_t>(Transport::Mqtt)], 2u);
  EXPECT_EQ(stats.accepted[static_cast<std::size_t>(Transport::Http)], 1u);
}

TEST_F(IngestorTest, BadInputIsDroppedCountedAndLoggedOncePerDevice) {
  provision(kGroup, kStation);
  provision(nullptr, R"({"device_id":"s2","apikey":"k1"})");
  for (int i = 0; i < 3; ++i) {
    auto r = ingestor_->ingest(Transport::Mqtt, "k1", "s1", PayloadFormat::Detect, "t|warm");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.problem().kind, ProblemKind::BadRequestData);
  }
  EXPECT_EQ(ingestor_->ingest(Transport::Mqtt, "k1", "s1", PayloadFormat::Detect, "t|1|p").problem().kind,
            ProblemKind::BadRequestData);
  EXPECT_EQ(ingestor_->ingest(Transport::Mqtt, "k9", "s1", PayloadFormat::Detect, "t|1").problem().kind,
            ProblemKind::ResourceNotFound);
  EXPECT_EQ(ingestor_->ingest(Transport::Mqtt, "k1", "s9", PayloadFormat::Detect, "t|1").problem().kind,
            ProblemKind::ResourceNotFound);
  EXPECT_EQ(ingestor_->ingest(Transport::Mqtt, "k1", "s1", PayloadFormat::Detect, "reset|now").problem().kind,
            ProblemKind::BadRequestData);  // a command is not a measure
  EXPECT_EQ(ingestor_->ingest(Transport::Mqtt, "k1", "s1", PayloadFormat::Detect, std::string(70000, 'a')).problem().kind,
            ProblemKind::PayloadTooLarge);
  EXPECT_TRUE(attribute("urn:ngsi-ld:Air:s1", "temperature").is_null()) << "nothing was written";
  ASSERT_TRUE(ingestor_->ingest(Transport::Mqtt, "k1", "s2", PayloadFormat::Detect, "t|5").ok()) << "others keep working";
  const auto stats = ingestor_->stats();
  EXPECT_EQ(stats.dropped[static_cast<std::size_t>(DropReason::BadValue)], 4u);
  EXPECT_EQ(stats.dropped[static_cast<std::size_t>(DropReason::MalformedPayload)], 1u);
  EXPECT_EQ(stats.dropped[static_cast<std::size_t>(DropReason::UnknownApikey)], 1u);
  EXPECT_EQ(stats.dropped[static_cast<std::size_t>(DropReason::UnknownDevice)], 1u);
  EXPECT_EQ(stats.dropped[static_cast<std::size_t>(DropReason::PayloadTooLarge)], 1u);
  EXPECT_EQ(stats.logs_suppressed, 3u);  // the second and third bad value, and the command measure
}

TEST_F(IngestorTest, ADeviceKeyWritesOnlyItsOwnDevice) {
  provision(kGroup, kStation);
  ASSERT_TRUE(registry_->put_group(parse_service_group(json::parse(R"({"apikey":"k2","autoprovision":true})").as_object(),
                                                       "other", "/").value(), true).ok());
  // k2 auto-provisions, but s1 belongs to k1: k2 gets its own s1 in its own tenant, never k1's entity.
  ASSERT_TRUE(ingestor_->ingest(Transport::Mqtt, "k2", "s1", PayloadFormat::Detect, "t|99").ok());
  EXPECT_TRUE(attribute("urn:ngsi-ld:Air:s1", "t").is_null());
  EXPECT_TRUE(attribute("urn:ngsi-ld:Air:s1", "temperature").is_null());
  json::value other;
  ASSERT_TRUE(twin_->read("other", "urn:ngsi-ld:Thing:s1", [&](const model::Entity& e) { other = json::value(e.id); }).ok());
  EXPECT_EQ(registry_->device("other", "s1")->autoprovisioned, true);
}

TEST_F(IngestorTest, ASilentDeviceGoesOfflineAndComesBack) {
  provision(kGroup, R"({"device_id":"s3","timeout":5})");
  const Timestamp now = now_ms();
  ASSERT_TRUE(ingestor_->ingest(Transport::Mqtt, "k1", "s3", PayloadFormat::Detect, "t|1").ok());
  ingestor_->check_liveness(now + 3000);
  EXPECT_EQ(attribute("urn:ngsi-ld:Device:s3", "deviceState"), json::value("online"));
  ingestor_->check_liveness(now + 10000);
  EXPECT_EQ(attribute("urn:ngsi-ld:Device:s3", "deviceState"), json::value("offline"));
  EXPECT_EQ(ingestor_->stats().devices_offline, 1u);
  ASSERT_TRUE(ingestor_->ingest(Transport::Mqtt, "k1", "s3", PayloadFormat::Detect, "t|2").ok());
  EXPECT_EQ(attribute("urn:ngsi-ld:Device:s3", "deviceState"), json::value("online"));
  EXPECT_EQ(ingestor_->stats().came_online, 1u);
}

TEST_F(IngestorTest, CommandsWrittenThroughTheTwinReachTheSinkAndAnswersUpdateStatus) {
  provision(kGroup, kStation);
  RecordingSink sink;
  ingestor_->set_command_sink(&sink);
  ingestor_->start();
  auto fragment = jsonld::decode_entity(json::parse(R"({"reset":{"type":"Property","value":"now"}})").as_object(),
                                        *contexts_.core(), {});
  ASSERT_TRUE(twin_->update("haidian", "urn:ngsi-ld:Air:s1", std::move(*fragment)).ok());
  for (int i = 0; i < 200 && attribute("urn:ngsi-ld:Air:s1", "reset_status") != json::value("PENDING"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  {
    std::lock_guard lock(sink.mutex);
    ASSERT_EQ(sink.sent.size(), 1u) << "the status write by the command thread is not a command";
    EXPECT_EQ(sink.sent[0].payload, R"({"reset":"now"})");
    EXPECT_EQ(sink.sent[0].apikey, "k1");
  }
  ASSERT_TRUE(ingestor_->command_result(Transport::Mqtt, "k1", "s1", PayloadFormat::Detect, R"({"reset":"done"})").ok());
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s1", "reset_status"), json::value("OK"));
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s1", "reset_info"), json::value("done"));
  EXPECT_FALSE(ingestor_->command_result(Transport::Mqtt, "k1", "s1", PayloadFormat::Detect, R"({"explode":1})").ok());
  ingestor_->stop();
}

TEST_F(IngestorTest, PreparedMessagesAreWrittenTogetherInOrder) {
  provision(kGroup, kStation);
  provision(nullptr, R"({"device_id":"s2","apikey":"k1"})");
  std::vector<PreparedMessage> messages;
  for (const char* payload : {"t|1", "t|2|p|1", "t|3"}) {
    auto m = ingestor_->prepare(Transport::Mqtt, "k1", "s1", PayloadFormat::Detect, payload);
    ASSERT_TRUE(m.ok()) << m.problem().detail;
    messages.push_back(std::move(*m));
  }
  messages.push_back(std::move(*ingestor_->prepare(Transport::Mqtt, "k1", "s2", PayloadFormat::Detect, "t|9")));
  EXPECT_FALSE(ingestor_->prepare(Transport::Mqtt, "k1", "s2", PayloadFormat::Detect, "t|x").ok());
  EXPECT_TRUE(attribute("urn:ngsi-ld:Air:s1", "temperature").is_null()) << "prepared, not yet written";
  const auto sequence = ingestor_->write(messages);
  ASSERT_TRUE(store_->wait_durable(sequence).ok());
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s1", "temperature"), json::value(3.0)) << "the last message wins";
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s1", "pm25"), json::value(2));
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s2", "temperature"), json::value(9.0));
  EXPECT_EQ(ingestor_->stats().accepted[static_cast<std::size_t>(Transport::Mqtt)], 4u);
  EXPECT_EQ(ingestor_->stats().dropped[static_cast<std::size_t>(DropReason::BadValue)], 1u);
}

// Both ways a BatchWriter runs (its own thread; or its callers, several at once) write every
// message once, in each producer's order, and report each one's sequence.
TEST_F(IngestorTest, TheBatchWriterWritesEveryMessageAndReportsItsSequence) {
  provision(kGroup, kStation);
  provision(nullptr, R"({"device_id":"s2","apikey":"k1"})");
  for (const bool own_thread : {true, false}) {
    BatchWriter writer(*ingestor_);
    if (own_thread) writer.start();
    constexpr int kPerProducer = 200;
    std::mutex mutex;
    std::vector<storage::Sequence> sequences;
    std::vector<std::thread> producers;
    for (const char* device : {"s1", "s2"})
      producers.emplace_back([&, device] {
        for (int i = 1; i <= kPerProducer; ++i) {
          auto m = ingestor_->prepare(Transport::Http, "k1", device, PayloadFormat::Detect, "t|" + std::to_string(i));
          ASSERT_TRUE(m.ok());
          writer.submit(std::move(*m), [&](const PreparedMessage& written) {
            EXPECT_FALSE(written.write_error);
            std::lock_guard lock(mutex);
            sequences.push_back(written.outcome.sequence);
          });
        }
      });
    for (auto& p : producers) p.join();
    writer.stop();
    ASSERT_EQ(sequences.size(), 2u * kPerProducer) << (own_thread ? "own thread" : "callers");
    const auto last = *std::max_element(sequences.begin(), sequences.end());
    EXPECT_GT(*std::min_element(sequences.begin(), sequences.end()), 0u);
    ASSERT_TRUE(store_->wait_durable(last).ok());
    EXPECT_EQ(attribute("urn:ngsi-ld:Air:s1", "temperature"), json::value(static_cast<double>(kPerProducer)));
    EXPECT_EQ(attribute("urn:ngsi-ld:Air:s2", "temperature"), json::value(static_cast<double>(kPerProducer)));
  }
  EXPECT_EQ(ingestor_->stats().accepted[static_cast<std::size_t>(Transport::Http)], 800u);
}

// The MQTT network thread hands over what one drain read as one batch: written in order, with or
// without the writer's own thread, and the vector handed over is left empty for the next drain.
TEST_F(IngestorTest, TheBatchWriterTakesABatchAtOnceInOrder) {
  provision(kGroup, kStation);
  for (const bool own_thread : {true, false}) {
    BatchWriter writer(*ingestor_);
    if (own_thread) writer.start();
    std::vector<PreparedMessage> batch;
    for (int round = 1; round <= 3; ++round) {
      for (int i = 1; i <= 50; ++i) {
        auto m = ingestor_->prepare(Transport::Mqtt, "k1", "s1", PayloadFormat::Detect,
                                    "t|" + std::to_string(round * 100 + i));
        ASSERT_TRUE(m.ok());
        batch.push_back(std::move(*m));
      }
      writer.submit(batch);
      EXPECT_TRUE(batch.empty());
    }
    writer.stop();
    EXPECT_EQ(attribute("urn:ngsi-ld:Air:s1", "temperature"), json::value(350.0)) << (own_thread ? "own thread" : "callers");
  }
  EXPECT_EQ(ingestor_->stats().accepted[static_cast<std::size_t>(Transport::Mqtt)], 300u);
}

TEST_F(IngestorTest, TheRegistrySurvivesARestart) {
  provision(kGroup, kStation);
  close();
  open();
  EXPECT_EQ(registry_->group_count(), 1u);
  auto d = registry_->device_for_message("k1", "s1");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->entity_id, "urn:ngsi-ld:Air:s1");
  ASSERT_TRUE(ingestor_->ingest(Transport::Mqtt, "k1", "s1", PayloadFormat::Detect, "t|7|p|2").ok());
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s1", "temperature"), json::value(7.0));
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s1", "pm25"), json::value(4));
}

TEST_F(IngestorTest, AGroupChangeReachesItsProvisionedDevices) {
  provision(kGroup, kStation);
  provision(nullptr, R"({"device_id":"s2","apikey":"k1"})");
  ASSERT_TRUE(ingestor_->ingest(Transport::Mqtt, "k1", "s2", PayloadFormat::Detect, "t|1").ok());
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s2", "temperature"), json::value(1.0));

  update_group(R"({"apikey":"k1","entity_type":"Weather","timeout":30,
    "attributes":[{"object_id":"t","name":"airTemperature","type":"Number","expression":"@value * 10"},
                  {"object_id":"p","name":"particles","type":"Number"}],
    "static_attributes":[{"name":"district","type":"Text","value":"Haidian"}],
    "commands":[{"name":"reboot"}]})");
  auto s2 = registry_->device_for_message("k1", "s2");
  ASSERT_TRUE(s2);
  EXPECT_EQ(s2->entity_id, "urn:ngsi-ld:Air:s2") << "the entity a device feeds is fixed when it is provisioned";
  EXPECT_EQ(s2->device.mapping.timeout_seconds, 30);
  ASSERT_TRUE(ingestor_->ingest(Transport::Mqtt, "k1", "s2", PayloadFormat::Detect, "t|2").ok());
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s2", "airTemperature"), json::value(20.0)) << "the group's new mapping";
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s2", "district"), json::value("Haidian")) << "its new static attribute";
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s2", "reboot_status"), json::value("UNKNOWN")) << "its new command";
  // s1 maps p itself: its own mapping wins over the group's; its command keeps its status.
  ASSERT_TRUE(ingestor_->ingest(Transport::Mqtt, "k1", "s1", PayloadFormat::Detect, "t|3|p|4").ok());
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s1", "pm25"), json::value(8));
  EXPECT_TRUE(attribute("urn:ngsi-ld:Air:s1", "particles").is_null());
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s1", "airTemperature"), json::value(30.0));

  // A change of mapping alone writes nothing to the entities (no change event for rules).
  std::uint32_t revision = 0;
  auto read_modified = [&] {
    (void)twin_->read("haidian", "urn:ngsi-ld:Air:s2", [&](const model::Entity& e) { revision = e.revision; });
    return revision;
  };
  const auto before = read_modified();
  update_group(R"({"apikey":"k1","entity_type":"Weather","timeout":30,
    "attributes":[{"object_id":"t","name":"airTemperature","type":"Number","expression":"@value * 100"},
                  {"object_id":"p","name":"particles","type":"Number"}],
    "static_attributes":[{"name":"district","type":"Text","value":"Haidian"}],
    "commands":[{"name":"reboot"}]})");
  EXPECT_EQ(read_modified(), before);
  ASSERT_TRUE(ingestor_->ingest(Transport::Mqtt, "k1", "s2", PayloadFormat::Detect, "t|2").ok());
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s2", "airTemperature"), json::value(200.0));

  close();  // the effective configuration is the same after a restart
  open();
  ASSERT_TRUE(ingestor_->ingest(Transport::Mqtt, "k1", "s2", PayloadFormat::Detect, "t|5").ok());
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s2", "airTemperature"), json::value(500.0));

  // Deleting the group leaves the devices with their own configuration only.
  auto removed = registry_->remove_group("haidian", "k1");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->devices.size(), 2u);
  ASSERT_TRUE(ingestor_->materialize(*removed).ok());
  s2 = registry_->device_for_message("k1", "s2");
  ASSERT_TRUE(s2);
  EXPECT_EQ(s2->device.mapping.timeout_seconds, 0);
  EXPECT_EQ(s2->attribute_for("t"), nullptr);
  EXPECT_EQ(s2->entity_id, "urn:ngsi-ld:Air:s2");
  ASSERT_TRUE(registry_->device_for_message("k1", "s1")->attribute_for("p")) << "s1's own mapping stays";
  EXPECT_EQ(registry_->device_for_message("k1", "s1")->attribute_for("t"), nullptr);
  // A group created again for the apikey reaches the devices that use it.
  update_group(R"({"apikey":"k1","attributes":[{"object_id":"t","name":"temperature","type":"Number"}]})", true);
  ASSERT_TRUE(ingestor_->ingest(Transport::Mqtt, "k1", "s2", PayloadFormat::Detect, "t|6").ok());
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s2", "temperature"), json::value(6.0));
}

TEST_F(IngestorTest, LivenessSurvivesARestart) {
  provision(kGroup, R"({"device_id":"s3","timeout":5})");
  provision(nullptr, R"({"device_id":"s4","apikey":"k1","timeout":5})");
  ASSERT_TRUE(ingestor_->ingest(Transport::Mqtt, "k1", "s3", PayloadFormat::Detect, "t|1").ok());
  ASSERT_TRUE(ingestor_->ingest(Transport::Mqtt, "k1", "s4", PayloadFormat::Detect, "t|1").ok());
  const Timestamp seen = registry_->device_for_message("k1", "s3")->liveness->last_seen.load();
  const Timestamp s4_seen = registry_->device_for_message("k1", "s4")->liveness->last_seen.load();
  ingestor_->check_liveness(seen + 10000);  // s4 goes offline before the restart, s3 after
  EXPECT_EQ(attribute("urn:ngsi-ld:Device:s4", "deviceState"), json::value("offline"));
  const auto persisted = registry_->persist_liveness();
  ASSERT_GT(persisted, 0u);
  ASSERT_TRUE(store_->wait_durable(persisted).ok());
  EXPECT_EQ(registry_->persist_liveness(), 0u) << "nothing seen since";
  // Seen again, and the process dies before the time reaches the store (the ingestor never started:
  // nothing persists it at stop): the write of the measure itself tells when.
  while (now_ms() <= seen + 1) std::this_thread::yield();  // a later millisecond than `seen`
  auto written = ingestor_->ingest(Transport::Mqtt, "k1", "s3", PayloadFormat::Detect, "t|2");
  ASSERT_TRUE(written.ok());
  ASSERT_TRUE(store_->wait_durable(written->sequence).ok());
  const Timestamp s3_seen = registry_->device_for_message("k1", "s3")->liveness->last_seen.load();
  ASSERT_GT(s3_seen, seen);
  close();
  open();
  auto s3 = registry_->device_for_message("k1", "s3");
  EXPECT_GE(s3->liveness->last_seen.load(), s3_seen) << "silence counts from when it was last seen";
  EXPECT_LE(s3->liveness->last_seen.load(), s3_seen + 1000);
  EXPECT_EQ(s3->liveness->state.load(), static_cast<int>(DeviceState::Online));
  EXPECT_EQ(registry_->device_for_message("k1", "s4")->liveness->state.load(), static_cast<int>(DeviceState::Offline));
  EXPECT_NEAR(registry_->device_for_message("k1", "s4")->liveness->last_seen.load(), s4_seen, 5) << "from the store";
  ingestor_->check_liveness(s3_seen + 3000);
  EXPECT_EQ(attribute("urn:ngsi-ld:Device:s3", "deviceState"), json::value("online"));
  ingestor_->check_liveness(s3_seen + 6100);
  EXPECT_EQ(attribute("urn:ngsi-ld:Device:s3", "deviceState"), json::value("offline"));
  EXPECT_EQ(ingestor_->stats().went_offline, 1u) << "s4 was offline already: no second event";
  EXPECT_EQ(ingestor_->stats().devices_offline, 2u);
}

// The liveness thread judges silence by the ingestor's clock: a device silent for exactly its
// timeout is still online, one millisecond more and it is offline (each checked after a whole round
// of the thread that began once the clock had moved).
TEST_F(IngestorTest, TheLivenessThreadJudgesSilenceByTheClock) {
  close();
  open(/*manual=*/true);
  provision(kGroup, R"({"device_id":"s7","timeout":5})");
  ingestor_->start();
  ASSERT_TRUE(ingestor_->ingest(Transport::Mqtt, "k1", "s7", PayloadFormat::Detect, "t|1").ok());
  auto after_a_round = [&] {
    const auto seen = ingestor_->stats().liveness_rounds;
    for (int i = 0; i < 1000 && ingestor_->stats().liveness_rounds < seen + 2; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_GE(ingestor_->stats().liveness_rounds, seen + 2) << "the liveness thread runs";
  };
  clock_.advance(std::chrono::seconds(5));
  after_a_round();
  EXPECT_EQ(attribute("urn:ngsi-ld:Device:s7", "deviceState"), json::value("online"));
  EXPECT_EQ(ingestor_->stats().went_offline, 0u);
  clock_.advance(std::chrono::milliseconds(1));
  after_a_round();
  EXPECT_EQ(attribute("urn:ngsi-ld:Device:s7", "deviceState"), json::value("offline"));
  EXPECT_EQ(ingestor_->stats().went_offline, 1u);
  after_a_round();
  EXPECT_EQ(ingestor_->stats().went_offline, 1u) << "offline once";
  ASSERT_TRUE(ingestor_->ingest(Transport::Mqtt, "k1", "s7", PayloadFormat::Detect, "t|2").ok());
  EXPECT_EQ(attribute("urn:ngsi-ld:Device:s7", "deviceState"), json::value("online"));
  EXPECT_EQ(registry_->device_for_message("k1", "s7")->liveness->last_seen.load(), clock_.now());
  ingestor_->stop();
}

// A device listening over HTTP: answers each POST with `answer(body)`.
class HttpDevice {
 public:
  explicit HttpDevice(std::function<std::string(const std::string&)> answer)
      : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}), answer_(std::move(answer)) {
    thread_ = std::thread([this] {
      namespace http = boost::beast::http;
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec) return;
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> request;
      http::read(socket, buffer, request, ec);
      if (ec) return;
      {
        std::lock_guard lock(mutex);
        received = request.body();
        content_type = std::string(request[http::field::content_type]);
      }
      http::response<http::string_body> response{http::status::ok, 11};
      response.body() = answer_(request.body());
      response.prepare_payload();
      http::write(socket, response, ec);
    });
  }
  ~HttpDevice() {
    boost::system::error_code ec;
    boost::asio::ip::tcp::socket wake(io_);  // unblocks accept() if no command came
    wake.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/cmd"; }
  std::mutex mutex;
  std::string received, content_type;

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::function<std::string(const std::string&)> answer_;
  std::thread thread_;
};

TEST_F(IngestorTest, CommandsArePostedToAnHttpDevicesEndpoint) {
  HttpDevice device([](const std::string& body) { return body.substr(0, body.find('|')) + "|pong"; });
  provision(kGroup, (R"({"device_id":"s5","protocol":"IoTA-UL","transport":"HTTP","endpoint":")" + device.url() +
                     R"(","commands":[{"name":"ping"}]})").c_str());
  provision(nullptr, R"({"device_id":"s6","apikey":"k1","transport":"HTTP","endpoint":"http://127.0.0.1:1/",
                        "commands":[{"name":"ping"}]})");
  RecordingSink sink;
  ingestor_->set_command_sink(&sink);
  ingestor_->start();
  write_command("urn:ngsi-ld:Air:s5", R"({"ping":{"type":"Property","value":"42"}})");
  EXPECT_EQ(wait_for("urn:ngsi-ld:Air:s5", "ping_status", json::value("OK")), json::value("OK"));
  EXPECT_EQ(attribute("urn:ngsi-ld:Air:s5", "ping_info"), json::value("pong"));
  {
    std::lock_guard lock(device.mutex);
    EXPECT_EQ(device.received, "s5@ping|42");
    EXPECT_EQ(device.content_type, "text/plain");
  }
  write_command("urn:ngsi-ld:Air:s6", R"({"ping":{"type":"Property","value":"42"}})");
  EXPECT_EQ(wait_for("urn:ngsi-ld:Air:s6", "ping_status", json::value("ERROR")), json::value("ERROR"));
  EXPECT_TRUE(attribute("urn:ngsi-ld:Air:s6", "ping_info").as_string().starts_with("the device cannot be reached"));
  ingestor_->stop();
  std::lock_guard lock(sink.mutex);
  EXPECT_TRUE(sink.sent.empty()) << "HTTP devices' commands do not go to the MQTT sink";
  EXPECT_EQ(ingestor_->stats().commands_sent, 1u);
  EXPECT_EQ(ingestor_->stats().commands_failed, 1u);
}

}  // namespace
}  // namespace ct::ingest
