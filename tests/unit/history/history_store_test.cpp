#include "history/history_store.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <chrono>
#include <future>
#include <thread>

#include "history/series_codec.hpp"
#include "storage/memory_store.hpp"
#include "twin/twin.hpp"

namespace ct::history {
namespace {

constexpr Timestamp kDay0 = 1'709'251'200'000;  // 2024-03-01T00:00:00Z
const std::string kTemp = "https://example.org/temperature";

// The outcome of a deletion, which runs on the history's rewrite thread.
template <class Delete>
Status finished(Delete&& start) {
  auto outcome = std::make_shared<std::promise<Status>>();
  auto done = outcome->get_future();
  start([outcome](const Status& status) { outcome->set_value(status); });
  return done.get();
}

class HistoryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  // A restart: a new history over what the store holds.
  void open() {
    history_.reset();
    history_ = std::make_unique<HistoryStore>(*store_);
  }
  Status delete_instance(const std::string& attribute, const std::string& id) {
    return finished([&](auto done) { history_->delete_instance("", "urn:e:1", attribute, id, std::move(done)); });
  }
  // Records `value` of `attribute` observed at `time` (a raw record), durably.
  void record(const std::string& attribute, Timestamp time, json::value value, const std::string& dataset = {},
              const std::string& unit = {}) {
    model::Attribute a;
    a.name = model::Term::intern(attribute);
    a.dataset_id = model::Term::intern(dataset);
    a.value = std::move(value);
    a.observed_at = time;
    if (!unit.empty()) a.unit_code = model::Term::intern(unit);
    std::vector<storage::Write> writes;
    history_->record_instance("", "urn:e:1", a, time, writes);
    ASSERT_TRUE(store_->wait_durable(store_->enqueue(std::move(writes))).ok());
  }
  std::vector<SeriesPoint> points(Timestamp from, Timestamp to) {
    std::vector<SeriesPoint> out;
    EXPECT_TRUE(history_->numeric_points("", "urn:e:1", kTemp, from, to, [&](Timestamp t, double v) {
      out.push_back({t, v});
    }).ok());
    return out;
  }
  std::size_t raw_count() {
    std::size_t n = 0;
    EXPECT_TRUE(store_->scan(storage::Collection::History, "S", [&](std::string_view key, std::string_view) {
      n += key.size() > 9 && key[key.size() - 13] == 'R';
      return true;
    }).ok());
    return n;
  }

  std::unique_ptr<storage::MemoryStore> store_ = std::make_unique<storage::MemoryStore>();
  std::unique_ptr<HistoryStore> history_;
};

TEST_F(HistoryStoreTest, NumericPointsMergeDatasetsInTimeOrderWithinTheRange) {
  record(kTemp, kDay0 + 3000, 3.5, "urn:ds:b");
  record(kTemp, kDay0 + 1000, 1);
  record(kTemp, kDay0 + 2000, 2.25, "urn:ds:a");
  record(kTemp, kDay0 + 4000, "warm");  // not numeric: left out
  record("https://example.org/other", kDay0 + 1500, 9);
  EXPECT_EQ(points(kDay0, kDay0 + 10'000),
            (std::vector<SeriesPoint>{{kDay0 + 1000, 1}, {kDay0 + 2000, 2.25}, {kDay0 + 3000, 3.5}}));
  EXPECT_EQ(points(kDay0 + 1000, kDay0 + 3000), (std::vector<SeriesPoint>{{kDay0 + 1000, 1}, {kDay0 + 2000, 2.25}}));
}

TEST_F(HistoryStoreTest, CompactionKeepsEveryPointOnceAndSurvivesRestart) {
  std::vector<SeriesPoint> expected;
  for (int i = 0; i < 3 * 24; ++i) {
    const Timestamp t = kDay0 + i * 3'600'000;
    expected.push_back({t, 20 + i * 0.1});
    record(kTemp, t, 20 + i * 0.1, {}, "CEL");
  }
  auto before = points(kDay0, kDay0 + 3 * kBucketMs);
  auto stats = history_->compact(kDay0 + 2 * kBucketMs + 5, 0);  // the first two days are over
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->blocks_written, 2u);
  EXPECT_EQ(stats->raws_compacted, 48u);
  EXPECT_EQ(raw_count(), 24u);
  EXPECT_EQ(points(kDay0, kDay0 + 3 * kBucketMs), before);
  // A late point for a compacted day is merged into its block by the next compaction.
  record(kTemp, kDay0 + 1800'000, 99, {}, "CEL");
  expected.insert(expected.begin() + 1, {kDay0 + 1800'000, 99});
  ASSERT_TRUE(history_->compact(kDay0 + 3 * kBucketMs, 0).ok());
  EXPECT_EQ(raw_count(), 0u);
  open();
  EXPECT_EQ(points(kDay0, kDay0 + 3 * kBucketMs), expected);
  // The unit code survives compaction.
  auto series = history_->series_of("", "urn:e:1").value();
  ASSERT_EQ(series.size(), 1u);
  std::size_t seen = 0;
  ASSERT_TRUE(history_->read("", series[0], kDay0, kDay0 + kBucketMs, [&](const HistoryInstance& i) {
    EXPECT_EQ(i.attribute.unit_code.str(), "CEL");
    ++seen;
  }).ok());
  EXPECT_EQ(seen, 25u);
}

TEST_F(HistoryStoreTest, LaterPassesLookOnlyAtWhatWasRecordedYetMissNothing) {
  record(kTemp, kDay0 + 1000, 1);
  open();  // raws from before a restart: the first pass looks at everything
  ASSERT_EQ(history_->compact(kDay0 + 2 * kBucketMs, 0)->raws_compacted, 1u);
  record(kTemp, kDay0 + kBucketMs + 1000, 2);  // today's: not compactable yet
  EXPECT_EQ(history_->compact(kDay0 + kBucketMs + 5000, 0)->raws_compacted, 0u);
  record("https://example.org/other", kDay0 + 500, 3);  // a late point of another attribute, day 0
  auto stats = history_->compact(kDay0 + 3 * kBucketMs, 0);  // day 1 is over now
  EXPECT_EQ(stats->raws_compacted, 2u);
  EXPECT_EQ(stats->blocks_written, 2u);
  EXPECT_EQ(raw_count(), 0u);
  EXPECT_EQ(history_->compact(kDay0 + 4 * kBucketMs, 0)->blocks_written, 0u);
}

TEST_F(HistoryStoreTest, MixedDaysStayRaw) {
  record(kTemp, kDay0 + 1000, 1);
  record(kTemp, kDay0 + 2000, "two");
  ASSERT_TRUE(history_->compact(kDay0 + 2 * kBucketMs, 0).ok());
  EXPECT_EQ(raw_count(), 2u);
}

TEST_F(HistoryStoreTest, DeleteInstanceFromRawAndFromBlock) {
  for (int i = 0; i < 5; ++i) record(kTemp, kDay0 + i * 1000, i);
  record(kTemp, kDay0 + kBucketMs + 1000, 7);
  ASSERT_TRUE(history_->compact(kDay0 + kBucketMs + 5000, 0).ok());  // day 0 in a block, day 1 raw
  auto series = history_->series_of("", "urn:e:1").value();
  std::vector<std::string> ids;
  ASSERT_TRUE(history_->read("", series[0], kDay0, kDay0 + 2 * kBucketMs, [&](const HistoryInstance& i) {
    ids.push_back(i.instance_id);
  }).ok());
  ASSERT_EQ(ids.size(), 6u);
  EXPECT_TRUE(delete_instance(kTemp, ids[2]).ok());
  EXPECT_TRUE(delete_instance(kTemp, ids[5]).ok());
  EXPECT_EQ(delete_instance(kTemp, ids[5]).problem().kind, ProblemKind::ResourceNotFound);
  EXPECT_EQ(delete_instance(kTemp, "urn:ngsi-ld:history:zz").problem().kind,
            ProblemKind::ResourceNotFound);
  EXPECT_EQ(points(kDay0, kDay0 + 2 * kBucketMs),
            (std::vector<SeriesPoint>{{kDay0, 0}, {kDay0 + 1000, 1}, {kDay0 + 3000, 3}, {kDay0 + 4000, 4}}));
}

// Waits (with a deadline) until `condition` holds: for what another thread does.
template <class Condition>
bool eventually(Condition condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST_F(HistoryStoreTest, ADeletionRunsOffTheCallersThreadAndAnswersOnceDurable) {
  for (int i = 0; i < 3; ++i) record(kTemp, kDay0 + i * 1000, i);
  store_->hold(true);
  std::promise<Status> outcome;
  auto answer = outcome.get_future();
  std::thread::id answered_on;
  history_->delete_attribute("", "urn:e:1", kTemp, std::nullopt, [&](const Status& status) {
    answered_on = std::this_thread::get_id();
    outcome.set_value(status);
  });
  // The call returned at once; the rewrite thread has queued the deletion and waits for the store.
  ASSERT_TRUE(eventually([&] { return store_->queued() == 1; }));
  EXPECT_EQ(answer.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  // Meanwhile a reader does not wait for it, and still sees the history.
  EXPECT_EQ(points(kDay0, kDay0 + kBucketMs).size(), 3u);
  store_->settle();
  EXPECT_TRUE(answer.get().ok());
  EXPECT_NE(answered_on, std::this_thread::get_id());
  EXPECT_TRUE(points(kDay0, kDay0 + kBucketMs).empty());
}

TEST_F(HistoryStoreTest, ARetentionPolicyTakesEffectOnceDurableAndNotIfItsWriteFails) {
  store_->hold(true);
  auto set = history_->set_retention("", std::string(kAnyType), RetentionPolicy{kBucketMs, 0, 0});
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE(history_->retention("").empty());
  bool replied_after = false;
  store_->when_durable(*set, [&](const Status&) { replied_after = history_->retention("").size() == 1; });
  store_->settle();
  EXPECT_TRUE(replied_after);  // a reply sent once durable sees the policy
  ASSERT_TRUE(history_->set_retention("", std::string(kAnyType), std::nullopt).ok());
  store_->settle(false);
  EXPECT_EQ(history_->retention("").size(), 1u);
  store_->hold(false);
  EXPECT_EQ(history_->set_retention("", "x", RetentionPolicy{0, 0, 0}).problem().kind, ProblemKind::BadRequestData);
  open();  // what is kept is what was durable
  ASSERT_TRUE(history_->load_retention().ok());
  EXPECT_EQ(history_->retention("").size(), 1u);
}

TEST_F(HistoryStoreTest, RecordsTwinChangesAndDeletionsAtomicallyWithThem) {
  twin::Twin twin(*store_);
  ASSERT_TRUE(twin.load().ok());
  twin.add_contributor(history_.get());
  jsonld::DecodedEntity e;
  e.header.id = "urn:e:1";
  e.header.types.push_back(model::Term::intern("https://example.org/Sensor"));
  model::Attribute a;
  a.name = model::Term::intern(kTemp);
  a.value = 21.5;
  a.observed_at = kDay0;
  e.attributes.push_back(a);
  auto created = twin.create("", std::move(e));
  ASSERT_TRUE(created.ok());
  auto removed = twin.delete_attribute("", "urn:e:1", model::Term::intern(kTemp), {}, false);
  ASSERT_TRUE(removed.ok());
  ASSERT_TRUE(store_->wait_durable(removed->sequence).ok());
  auto series = history_->series_of("", "urn:e:1").value();
  ASSERT_EQ(series.size(), 1u);
  std::vector<HistoryInstance> seen;
  ASSERT_TRUE(history_->read("", series[0], INT64_MIN / 2, INT64_MAX, [&](const HistoryInstance& i) {
    seen.push_back(i);
  }).ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].number, 21.5);
  EXPECT_TRUE(seen[1].deleted);
  // A change of origin TemporalBackfill (the temporal API's own) is not recorded twice.
  ASSERT_TRUE(twin.remove("", "urn:e:1", {twin::Origin::TemporalBackfill, {}}).ok());
  EXPECT_EQ(history_->series_of("", "urn:e:1").value().size(), 1u);
  EXPECT_TRUE(finished([&](auto done) { history_->delete_entity("", "urn:e:1", 0, std::move(done)); }).ok());
  EXPECT_TRUE(history_->series_of("", "urn:e:1").value().empty());
}

TEST_F(HistoryStoreTest, OneEventRecordPerChangeIsReadUnsplitAndSplitOnce) {
  const std::string kHumidity = "https://example.org/humidity", kNote = "https://example.org/note";
  auto change = [&](twin::Twin& twin, double base) {
    jsonld::DecodedEntity e;
    e.header.id = "urn:e:1";
    e.header.types.push_back(model::Term::intern("https://example.org/Sensor"));
    model::Attribute t;
    t.name = model::Term::intern(kTemp);
    t.value = base;
    t.observed_at = kDay0 + static_cast<Timestamp>(base) * 1000;
    t.unit_code = model::Term::intern("CEL");
    model::Attribute t2 = t;
    t2.dataset_id = model::Term::intern("urn:ds:2");
    t2.value = std::int64_t{7};
    model::Attribute h;
    h.name = model::Term::intern(kHumidity);
    h.value = base + 0.5;
    h.observed_at = t.observed_at;
    model::Attribute note;
    note.name = model::Term::intern(kNote);
    note.value = json::object{{"text", "hello"}};
    note.observed_at = t.observed_at;
    e.attributes = {t, t2, h, note};
    auto done = twin.batch_upsert("", {std::move(e)}, twin::UpsertMode::Update);
    ASSERT_TRUE(store_->wait_durable(done.sequence).ok());
  };
  auto count = [&](char kind) {
    std::size_t n = 0;
    EXPECT_TRUE(store_->scan(storage::Collection::History, std::string(1, kind), [&](std::string_view, std::string_view) {
      ++n;
      return true;
    }).ok());
    return n;
  };
  auto instances = [&](const std::string& attribute) {
    std::vector<HistoryInstance> out;
    auto all = history_->series_of("", "urn:e:1");
    EXPECT_TRUE(all.ok());
    if (!all.ok()) return out;
    const std::vector<SeriesId> series_list = *all;
    for (const auto& series : series_list) {
      if (series.attribute != attribute) continue;
      EXPECT_TRUE(history_->read("", series, INT64_MIN / 2, INT64_MAX, [&](const HistoryInstance& i) {
        out.push_back(i);
      }).ok());
    }
    return out;
  };
  {
    twin::Twin twin(*store_);
    ASSERT_TRUE(twin.load().ok());
    twin.add_contributor(history_.get());
    change(twin, 20);
    change(twin, 21);
  }
  EXPECT_EQ(count('E'), 2u);  // one key per change, none per attribute
  EXPECT_EQ(count('S'), 0u);
  // A restart, then the compactor's first pass finds the entity by its events alone.
  open();
  ASSERT_TRUE(history_->compact(now_ms() + kBucketMs, 0).ok());  // changes are timed by the clock
  EXPECT_EQ(count('E'), 0u);
  EXPECT_EQ(count('S'), 3u + 2u);  // day blocks of both temperatures and the humidity, the notes raw
  EXPECT_EQ(points(INT64_MIN / 2, INT64_MAX).size(), 4u);  // both datasets, the int too
  auto notes = instances(kNote);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0].attribute.value.at("text"), "hello");
  auto humidity = instances(kHumidity);
  ASSERT_EQ(humidity.size(), 2u);
  EXPECT_EQ(humidity[1].number, 21.5);
  // Read before compacting: the raws get the ids they keep (the event's time and counter).
  {
    twin::Twin twin(*store_);
    ASSERT_TRUE(twin.load().ok());
    twin.add_contributor(history_.get());
    change(twin, 22);
  }
  auto first = instances(kNote);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(count('E'), 1u);  // a read merges the unsplit event in memory; it writes nothing
  EXPECT_EQ(instances(kTemp).size(), 6u);
  ASSERT_TRUE(history_->compact(now_ms() + kBucketMs, 0).ok());
  EXPECT_EQ(count('E'), 0u);
  auto again = instances(kNote);
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[2].instance_id, first[2].instance_id);
  EXPECT_TRUE(delete_instance(kNote, first[2].instance_id).ok());
  EXPECT_EQ(instances(kNote).size(), 2u);
  EXPECT_EQ(instances(kTemp).size(), 6u);
  // An instance still in an unsplit event can be deleted by the id a read gave.
  {
    twin::Twin twin(*store_);
    ASSERT_TRUE(twin.load().ok());
    twin.add_contributor(history_.get());
    change(twin, 23);
  }
  auto latest = instances(kNote);
  ASSERT_EQ(latest.size(), 3u);
  EXPECT_EQ(count('E'), 1u);
  EXPECT_TRUE(delete_instance(kNote, latest[2].instance_id).ok());
  EXPECT_EQ(instances(kNote).size(), 2u);
  EXPECT_EQ(instances(kTemp).size(), 8u);
}

// Event records keep plain values in binary (decimal-scaled varints, time deltas, GeoJSON Points):
// whatever the value, what is read back is bit for bit what was written. (Raw records are JSON text,
// so an integral double such as 0.0 comes back as the integer 0, and -0.0 as 0: compared as numbers.)
TEST_F(HistoryStoreTest, EventRecordsRoundTripEveryKindOfValueExactly) {
  const std::string kBase = "https://example.org/";
  const std::vector<json::value> numbers = {
      21.3, 0.5, 0.0, 0.1 + 0.2, 1e300, -4.9e-324, 123456789.123, -7.25, 1e-13, 3.0e15,
      std::int64_t{INT64_MIN}, std::int64_t{INT64_MAX}, std::int64_t{-5}, std::int64_t{0}};
  jsonld::DecodedEntity e;
  e.header.id = "urn:e:1";
  e.header.types.push_back(model::Term::intern(kBase + "Sensor"));
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    model::Attribute a;
    a.name = model::Term::intern(kBase + "n" + std::to_string(i));
    a.value = numbers[i];
    if (i % 3 == 1) a.observed_at = kDay0 + static_cast<Timestamp>(i) * 1000;  // before the change time
    if (i % 4 == 2) a.unit_code = model::Term::intern("CEL");
    if (i % 5 == 3) a.dataset_id = model::Term::intern("urn:ds:" + std::to_string(i));
    e.attributes.push_back(a);
  }
  auto point = [](json::array coordinates) {
    return json::object{{"type", "Point"}, {"coordinates", std::move(coordinates)}};
  };
  const std::vector<json::value> places = {point({116.001, 39.9}), point({-0.5, 51.25, 12.125}),
                                           point({0.1 + 0.2, 1e-300}),
                                           point({std::int64_t{116}, 39.9}),  // an integer: kept as JSON
                                           json::object{{"type", "LineString"}, {"coordinates", json::array{json::array{1.5, 2.5}, json::array{3.5, 4.5}}}}};
  for (std::size_t i = 0; i < places.size(); ++i) {
    model::Attribute a;
    a.name = model::Term::intern(kBase + "place" + std::to_string(i));
    a.kind = model::AttributeKind::GeoProperty;
    a.value = places[i];
    if (i == 1) a.observed_at = kDay0;
    e.attributes.push_back(a);
  }
  twin::Twin twin(*store_);
  ASSERT_TRUE(twin.load().ok());
  twin.add_contributor(history_.get());
  const auto written = e.attributes;
  auto done = twin.batch_upsert("", {std::move(e)}, twin::UpsertMode::Update);
  ASSERT_TRUE(store_->wait_durable(done.sequence).ok());
  auto removal = twin.delete_attribute("", "urn:e:1", model::Term::intern(kBase + "n0"), {}, false);
  ASSERT_TRUE(removal.ok());
  ASSERT_TRUE(store_->wait_durable(removal->sequence).ok());

  auto same = [](const json::value& a, const json::value& b) -> bool {
    if (a.is_double() || b.is_double()) {
      auto as_double = [](const json::value& v) { return v.is_double() ? v.get_double() : static_cast<double>(v.is_int64() ? v.get_int64() : 0); };
      return a.is_number() && b.is_number() && std::bit_cast<std::uint64_t>(as_double(a)) == std::bit_cast<std::uint64_t>(as_double(b));
    }
    if (a.kind() != b.kind()) return false;
    if (a.is_array()) {
      const auto &x = a.get_array(), &y = b.get_array();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i)
        if (!(x[i].is_double() && y[i].is_double() ? std::bit_cast<std::uint64_t>(x[i].get_double()) == std::bit_cast<std::uint64_t>(y[i].get_double()) : x[i] == y[i]))
          return false;
      return true;
    }
    return a == b;
  };
  for (const auto& w : written) {
    const SeriesId series{"urn:e:1", std::string(w.name.str()), std::string(w.dataset_id.str())};
    std::vector<HistoryInstance> found;
    ASSERT_TRUE(history_->read("", series, INT64_MIN / 2, INT64_MAX, [&](const HistoryInstance& i) { found.push_back(i); }).ok());
    const bool removed = w.name.str() == kBase + "n0";
    ASSERT_EQ(found.size(), removed ? 2u : 1u) << w.name.str();
    const auto& got = found.front().attribute;
    EXPECT_EQ(got.kind, w.kind) << w.name.str();
    if (w.kind == model::AttributeKind::GeoProperty && got.value.is_object() && w.value.is_object()) {
      EXPECT_EQ(got.value.at("type"), w.value.at("type")) << w.name.str();
      EXPECT_TRUE(same(got.value.at("coordinates"), w.value.at("coordinates"))) << w.name.str() << ": " << to_text(got.value);
    } else {
      EXPECT_TRUE(same(got.value, w.value)) << w.name.str() << ": " << to_text(got.value);
    }
    if (w.observed_at != kNoTimestamp) {
      EXPECT_EQ(got.observed_at, w.observed_at) << w.name.str();
    }
    EXPECT_EQ(found.front().time, w.observed_at != kNoTimestamp ? w.observed_at : found.front().changed_at);
    EXPECT_EQ(got.unit_code, w.unit_code) << w.name.str();
    EXPECT_EQ(got.dataset_id, w.dataset_id) << w.name.str();
    if (removed) {
      EXPECT_TRUE(found.back().deleted);
    }
  }
}

}  // namespace
}  // namespace ct::history
