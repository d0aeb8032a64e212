// A payload codec added by one file, this one: registered under a protocol name by one line, it
// decodes the messages of every device provisioned with that protocol (over any transport), encodes
// their commands and decodes their answers. No other source file knows about it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <thread>

#include "ingest/codec.hpp"
#include "ingest/ingestor.hpp"
#include "jsonld/context_store.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"

namespace ct::ingest {
namespace {

// "key=value;key=value": one reading. Command answers "command=result"; commands "command=value".
class KeyValueCodec final : public PayloadCodec {
 public:
  Result<DecodedPayload> decode(std::string_view payload, std::size_t max_payload_bytes) const override {
    if (payload.size() > max_payload_bytes) return Problem{ProblemKind::PayloadTooLarge, "too large"};
    DecodedPayload out;
    out.text = PayloadText(payload.size());
    Reading reading;
    for (auto pair : split(payload)) {
      const auto eq = pair.find('=');
      if (eq == std::string_view::npos || eq == 0) return bad_request("not key=value: " + std::string(pair));
      reading.measures.push_back({out.text.keep(pair.substr(0, eq)), out.text.keep(pair.substr(eq + 1))});
    }
    out.readings.push_back(std::move(reading));
    return out;
  }
  Result<std::vector<CommandResult>> decode_command_results(std::string_view payload, std::size_t) const override {
    std::vector<CommandResult> out;
    for (auto pair : split(payload)) {
      const auto eq = pair.find('=');
      if (eq == std::string_view::npos || eq == 0) return bad_request("not command=result");
      out.push_back({"", std::string(pair.substr(0, eq)), json::value(json::string(std::string(pair.substr(eq + 1))))});
    }
    return out;
  }
  std::string encode_commands(std::string_view,
                              std::span<const std::pair<std::string, json::value>> commands) const override {
    std::string out;
    for (const auto& [command, value] : commands)
      out += (out.empty() ? "" : ";") + command + "=" + (value.is_string() ? std::string(value.as_string()) : to_text(value));
    return out;
  }
  std::string_view content_type() const override { return "text/x-key-value"; }

 private:
  static std::vector<std::string_view> split(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
      const auto semicolon = text.find(';');
      out.push_back(text.substr(0, semicolon));
      if (semicolon == std::string_view::npos) break;
      text.remove_prefix(semicolon + 1);
    }
    return out;
  }
};

// The one registration line.
const bool kKeyValueCodecRegistered = register_codec("Acme-KV", [] { return std::make_unique<KeyValueCodec>(); });

TEST(CustomCodec, IsFoundByTheProtocolItIsRegisteredUnder) {
  ASSERT_TRUE(kKeyValueCodecRegistered);
  const PayloadCodec* codec = codec_named("Acme-KV");
  ASSERT_NE(codec, nullptr);
  EXPECT_EQ(codec_for_protocol("acme-kv"), codec) << "names compare case-insensitively";
  EXPECT_FALSE(register_codec("ACME-kv", [] { return std::make_unique<KeyValueCodec>(); })) << "a name is taken once";
}

class PayloadRecordingSink : public CommandSink {
 public:
  bool send(const OutgoingCommand& command) override {
    std::lock_guard lock(mutex);
    sent.push_back(command.payload);
    return true;
  }
  std::mutex mutex;
  std::vector<std::string> sent;
};

class CustomCodecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("citytwin-codec-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    store_ = std::move(storage::open_rocksdb_store({dir_}).value());
    twin_ = std::make_unique<twin::Twin>(*store_);
    ASSERT_TRUE(twin_->load().ok());
    registry_ = std::make_unique<DeviceRegistry>(*store_, contexts_.core());
    ASSERT_TRUE(registry_->load().ok());
    ingestor_ = std::make_unique<Ingestor>(*twin_, *registry_, contexts_.core());
    twin_->changes().attach(*ingestor_);
  }
  void TearDown() override {
    ingestor_.reset();
    registry_.reset();
    twin_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void provision(const char* device) {
    auto registered = registry_->put_device(parse_device(json::parse(device).as_object(), "acme", "/").value(), true);
    ASSERT_TRUE(registered.ok()) << registered.problem().detail;
    ASSERT_TRUE(ingestor_->materialize(*registered->device).ok());
  }
  json::value attribute(const std::string& id, const char* name) {
    json::value out;
    jsonld::EncodeOptions options;
    options.form = jsonld::Form::Simplified;
    (void)twin_->read("acme", id, [&](const model::Entity& e) {
      auto o = jsonld::encode_entity(e, *contexts_.core(), options);
      if (o.contains(name)) out = o.at(name);
    });
    return out;
  }

  std::filesystem::path dir_;
  jsonld::ContextStore contexts_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<twin::Twin> twin_;
  std::unique_ptr<DeviceRegistry> registry_;
  std::unique_ptr<Ingestor> ingestor_;
};

constexpr const char* kMeter = R"({"device_id":"m1","apikey":"acme-key","entity_name":"urn:ngsi-ld:Meter:m1",
  "entity_type":"Meter","protocol":"Acme-KV",
  "attributes":[{"object_id":"t","name":"temperature","type":"Number"}],"commands":[{"name":"reset"}]})";

TEST_F(CustomCodecTest, ADeviceOfItsProtocolHasItsMessagesDecodedByIt) {
  provision(kMeter);
  auto written = ingestor_->ingest(Transport::Mqtt, "acme-key", "m1", PayloadFormat::Detect, "t=21.5;hum=40");
  ASSERT_TRUE(written.ok()) << written.problem().detail;
  EXPECT_EQ(written->measures, 2u);
  EXPECT_EQ(attribute("urn:ngsi-ld:Meter:m1", "temperature"), json::value(21.5)) << "mapped and converted as provisioned";
  EXPECT_EQ(attribute("urn:ngsi-ld:Meter:m1", "hum"), json::value("40"));
  // Its codec whatever the transport says: here the JSON resource of HTTP.
  ASSERT_TRUE(ingestor_->ingest(Transport::Http, "acme-key", "m1", PayloadFormat::Json, "t=22").ok());
  EXPECT_EQ(attribute("urn:ngsi-ld:Meter:m1", "temperature"), json::value(22.0));
  // What it refuses is a malformed payload, counted as such.
  EXPECT_FALSE(ingestor_->ingest(Transport::Mqtt, "acme-key", "m1", PayloadFormat::Detect, "t|23").ok());
  EXPECT_EQ(ingestor_->stats().dropped[static_cast<std::size_t>(DropReason::MalformedPayload)], 1u);
  EXPECT_EQ(attribute("urn:ngsi-ld:Meter:m1", "temperature"), json::value(22.0));
}

TEST_F(CustomCodecTest, ItEncodesTheDevicesCommandsAndDecodesItsAnswers) {
  provision(kMeter);
  PayloadRecordingSink sink;
  ingestor_->set_command_sink(&sink);
  ingestor_->start();
  auto fragment = jsonld::decode_entity(json::parse(R"({"reset":{"type":"Property","value":"now"}})").as_object(),
                                        *contexts_.core(), {});
  ASSERT_TRUE(twin_->update("acme", "urn:ngsi-ld:Meter:m1", std::move(*fragment)).ok());
  for (int i = 0; i < 500 && attribute("urn:ngsi-ld:Meter:m1", "reset_status") != json::value("PENDING"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  {
    std::lock_guard lock(sink.mutex);
    ASSERT_EQ(sink.sent.size(), 1u);
    EXPECT_EQ(sink.sent[0], "reset=now");
  }
  ASSERT_TRUE(ingestor_->command_result(Transport::Mqtt, "acme-key", "m1", PayloadFormat::Detect, "reset=done").ok());
  EXPECT_EQ(attribute("urn:ngsi-ld:Meter:m1", "reset_status"), json::value("OK"));
  EXPECT_EQ(attribute("urn:ngsi-ld:Meter:m1", "reset_info"), json::value("done"));
  ingestor_->stop();
}

}  // namespace
}  // namespace ct::ingest
