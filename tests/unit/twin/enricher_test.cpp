// Enrichers (twin/enricher.hpp) on a real twin and store: what one derives is part of the write that
// triggered it (the same change event, the same stored record, the same query indexes), and nothing
// more is derived once it is removed.
#include "twin/enricher.hpp"

#include <gtest/gtest.h>

#include <mutex>

#include "jsonld/context_store.hpp"
#include "scratch_dir.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"
#include "twin/twin.hpp"

namespace ct::twin {
namespace {

using namespace std::chrono_literals;

model::Term vocab(const std::string& name) {
  return model::Term::intern("https://uri.etsi.org/ngsi-ld/default-context/" + name);
}

// Derives `doubled` = 2 × `level` on Sensors, in writes that wrote `level`.
class Doubler final : public Enricher {
 public:
  void enrich(const Enrichment& write) override {
    if (!write.entity.has_type(vocab("Sensor"))) return;
    const auto* level = write.entity.find(vocab("level"));
    if (level == nullptr || !write.wrote(*level) || !level->value.is_number()) return;
    model::Attribute doubled;
    doubled.name = vocab("doubled");
    doubled.value = 2 * level->value.to_number<double>();
    doubled.observed_at = level->observed_at;
    write.put(std::move(doubled));
    ++calls;
  }
  std::atomic<int> calls{0};
};

class Recorder final : public ChangeConsumer {
 public:
  std::string_view name() const override { return "recorder"; }
  void consume(std::span<const ChangeEvent> events) override {
    std::lock_guard lock(mutex);
    seen.insert(seen.end(), events.begin(), events.end());
  }
  std::mutex mutex;
  std::vector<ChangeEvent> seen;
};

class EnricherTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void TearDown() override { close(); }
  void open() {
    store_ = std::move(storage::open_rocksdb_store({dir_.path(), /*sync=*/false}).value());
    twin_ = std::make_unique<Twin>(*store_);
    ASSERT_TRUE(twin_->load().ok());
  }
  void close() {
    twin_.reset();
    store_.reset();
  }
  jsonld::DecodedEntity decode(const std::string& text) {
    return jsonld::decode_entity(json::parse(text).as_object(), *contexts_.core(), {}).value();
  }
  std::optional<double> doubled(const std::string& id) {
    std::optional<double> out;
    (void)twin_->read("", id, [&](const model::Entity& e) {
      if (const auto* a = e.find(vocab("doubled"))) out = a->value.to_number<double>();
    });
    return out;
  }

  test_support::ScratchDir dir_{"enricher"};  // outlives the store
  Recorder recorder_;  // before the twin, which detaches it when it goes
  Doubler doubler_;
  jsonld::ContextStore contexts_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Twin> twin_;
};

TEST_F(EnricherTest, WhatItDerivesIsPartOfTheWriteThatTriggeredIt) {
  twin_->add_enricher(&doubler_);
  twin_->changes().attach(recorder_);
  ASSERT_TRUE(twin_->create("", decode(R"({"id":"urn:s1","type":"Sensor","level":{"type":"Property","value":4}})")).ok());
  EXPECT_EQ(doubled("urn:s1"), 8);
  auto merged = twin_->merge("", "urn:s1", decode(R"({"level":{"type":"Property","value":5}})"));
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(doubled("urn:s1"), 10);
  // A write that did not write `level` derives nothing; an entity of another type is left alone.
  ASSERT_TRUE(twin_->merge("", "urn:s1", decode(R"({"note":{"type":"Property","value":"x"}})")).ok());
  ASSERT_TRUE(twin_->create("", decode(R"({"id":"urn:o1","type":"Other","level":{"type":"Property","value":1}})")).ok());
  EXPECT_EQ(doubled("urn:o1"), std::nullopt);
  EXPECT_EQ(doubler_.calls.load(), 2);
  // In batches too.
  std::vector<jsonld::DecodedEntity> batch;
  batch.push_back(decode(R"({"id":"urn:s2","type":"Sensor","level":{"type":"Property","value":1}})"));
  batch.push_back(decode(R"({"id":"urn:s1","type":"Sensor","level":{"type":"Property","value":6}})"));
  (void)twin_->batch_upsert("", std::move(batch), UpsertMode::Update);
  EXPECT_EQ(doubled("urn:s2"), 2);
  EXPECT_EQ(doubled("urn:s1"), 12);

  // One change event per write, whose written instances include the derived one.
  ASSERT_TRUE(twin_->changes().wait_consumed(recorder_, twin_->changes().published(), 20s));
  std::vector<bool> wrote_doubled;
  {
    std::lock_guard lock(recorder_.mutex);
    for (const auto& e : recorder_.seen) {
      if (e.entity->id != "urn:s1") continue;
      bool found = false;
      for (const auto& [name, dataset] : e.written) found = found || name == vocab("doubled");
      wrote_doubled.push_back(found);
    }
  }
  EXPECT_EQ(wrote_doubled, (std::vector<bool>{true, true, false, true}));

  // Indexed with the write: a query on the derived attribute finds it.
  EntityQuery query;
  query.q = query::parse_q("doubled==12", *contexts_.core()).value();
  std::vector<std::string> found;
  ASSERT_TRUE(twin_->query("", query, 0, 10, [&](const model::Entity& e) { found.push_back(e.id); }).ok());
  EXPECT_EQ(found, std::vector<std::string>{"urn:s1"});

  // Stored with the write: there after a restart, with no enricher at all.
  twin_->remove_enricher(&doubler_);
  twin_->changes().detach(recorder_);
  close();
  open();
  EXPECT_EQ(doubled("urn:s1"), 12);
  EXPECT_EQ(doubled("urn:s2"), 2);
}

TEST_F(EnricherTest, ARemovedEnricherDerivesNothingMore) {
  twin_->add_enricher(&doubler_);
  ASSERT_TRUE(twin_->create("", decode(R"({"id":"urn:s1","type":"Sensor","level":{"type":"Property","value":4}})")).ok());
  twin_->remove_enricher(&doubler_);
  ASSERT_TRUE(twin_->merge("", "urn:s1", decode(R"({"level":{"type":"Property","value":7}})")).ok());
  EXPECT_EQ(doubled("urn:s1"), 8);
  EXPECT_EQ(doubler_.calls.load(), 1);
}

}  // namespace
}  // namespace ct::twin
