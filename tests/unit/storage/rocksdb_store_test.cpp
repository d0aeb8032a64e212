#include "storage/rocksdb/rocksdb_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

namespace ct::storage {
namespace {

std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("citytwin-unit-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace

TEST(RocksDbStore, WritesAreDurableInOrderAndSurviveReopening) {
  const auto dir = fresh_dir("order");
  {
    auto store = open_rocksdb_store({dir});
    ASSERT_TRUE(store.ok());
    (*store)->enqueue({{Collection::Entities, tenant_key("t", "a"), std::string("1")}});
    (*store)->enqueue({{Collection::Entities, tenant_key("t", "a"), std::string("2")}});
    auto last = (*store)->enqueue({{Collection::Entities, tenant_key("t", "b"), std::string("3")},
                                   {Collection::Entities, tenant_key("u", "a"), std::string("4")}});
    ASSERT_TRUE((*store)->wait_durable(last).ok());
  }
  auto store = open_rocksdb_store({dir});
  ASSERT_TRUE(store.ok());
  std::vector<std::pair<std::string, std::string>> seen;
  ASSERT_TRUE((*store)->scan(Collection::Entities, tenant_key("t", ""), [&](std::string_view k, std::string_view v) {
    seen.emplace_back(k, v);
    return true;
  }).ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].second, "2") << "the last write to a key wins";
  EXPECT_EQ(seen[1].second, "3");
  auto other = (*store)->get(Collection::Entities, tenant_key("u", "a"));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(**other, "4");
  std::filesystem::remove_all(dir);
}

TEST(RocksDbStore, DeletesRemoveKeys) {
  const auto dir = fresh_dir("delete");
  auto store = open_rocksdb_store({dir});
  ASSERT_TRUE(store.ok());
  (*store)->enqueue({{Collection::Meta, "k", std::string("v")}});
  ASSERT_TRUE((*store)->wait_durable((*store)->enqueue({{Collection::Meta, "k", std::nullopt}})).ok());
  auto got = (*store)->get(Collection::Meta, "k");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  std::filesystem::remove_all(dir);
}

TEST(RocksDbStore, AnEmptyWriteIsDurableWithoutWaitingForAnotherWrite) {
  const auto dir = fresh_dir("empty");
  auto store = open_rocksdb_store({dir});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->wait_durable((*store)->enqueue({{Collection::Meta, "k", std::string("v")}})).ok());
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    EXPECT_TRUE((*store)->wait_durable((*store)->enqueue({})).ok());
    returned = true;
  });
  for (int waited = 0; waited < 5000 && !returned; waited += 10)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const bool returned_alone = returned;
  if (!returned_alone) (*store)->enqueue({{Collection::Meta, "unblock", std::string("1")}});  // let the thread end
  waiter.join();
  EXPECT_TRUE(returned_alone) << "an empty write waited for some later write";
  std::filesystem::remove_all(dir);
}

TEST(RocksDbStore, ConcurrentWritersShareCommitsAndEveryWaiterHears) {
  const auto dir = fresh_dir("group");
  auto store = open_rocksdb_store({dir});
  ASSERT_TRUE(store.ok());
  constexpr int kThreads = 4, kWrites = 500;
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t)
    writers.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        auto seq = (*store)->enqueue({{Collection::Entities, tenant_key("", std::to_string(t * kWrites + i)), std::string("x")}});
        (*store)->when_durable(seq, [&](const Status& s) {
          if (s.ok()) acknowledged.fetch_add(1);
        });
      }
    });
  for (auto& w : writers) w.join();
  (*store)->close();
  EXPECT_EQ(acknowledged.load(), kThreads * kWrites);
  std::filesystem::remove_all(dir);
}

TEST(RocksDbStore, WithinOneGroupTheLastWriteToAKeyWins) {
  const auto dir = fresh_dir("supersede");
  {
    auto store = open_rocksdb_store({dir});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->wait_durable((*store)->enqueue({{Collection::Meta, "deleted", std::string("old")}})).ok());
    // One enqueue is always one commit group.
    auto last = (*store)->enqueue({{Collection::Meta, "put", std::string("1")},
                                   {Collection::Meta, "deleted", std::string("2")},
                                   {Collection::Meta, "put", std::nullopt},
                                   {Collection::Meta, "put", std::string("3")},
                                   {Collection::Meta, "deleted", std::nullopt},
                                   {Collection::Rules, "put", std::string("another collection")}});
    ASSERT_TRUE((*store)->wait_durable(last).ok());
  }
  auto store = open_rocksdb_store({dir});
  ASSERT_TRUE(store.ok());
  auto put = (*store)->get(Collection::Meta, "put");
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(put->value_or("<none>"), "3");
  auto deleted = (*store)->get(Collection::Meta, "deleted");
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(deleted->has_value());
  auto other = (*store)->get(Collection::Rules, "put");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->value_or("<none>"), "another collection");
  std::filesystem::remove_all(dir);
}

// History keys go into the memtable from a per-series insert hint: scans must still see every
// record in key order, from the memtable and after a reopen (from the files).
TEST(RocksDbStore, HistorySeriesInsertedInAnyOrderAreScannedInKeyOrder) {
  const auto dir = fresh_dir("history-hint");
  const auto key = [](char kind, int entity, int time) {
    std::string k(1, kind);
    k.append("tenant").push_back('\0');
    k.append("urn:e:" + std::to_string(entity)).push_back('\0');
    if (kind == 'S') k.append("temperature").append(1, '\0').append(1, '\0');
    const std::string t = std::to_string(100000 + time);
    return k + t;
  };
  std::vector<std::string> expected;
  const auto check = [&](Store& store) {
    std::vector<std::string> seen;
    ASSERT_TRUE(store.scan(Collection::History, "", [&](std::string_view k, std::string_view) {
      seen.emplace_back(k);
      return true;
    }).ok());
    EXPECT_EQ(seen, expected);
  };
  {
    auto store = open_rocksdb_store({dir});
    ASSERT_TRUE(store.ok());
    Sequence last = 0;
    // Mostly appended per entity, some late and some earlier than what is already there.
    for (int time : {5, 6, 7, 1, 8, 3, 9, 2}) {
      std::vector<Write> writes;
      for (int entity : {3, 1, 2})
        for (char kind : {'E', 'S'}) {
          writes.push_back({Collection::History, key(kind, entity, time), std::string("v")});
          expected.push_back(key(kind, entity, time));
        }
      writes.push_back({Collection::History, "C-other-key-" + std::to_string(time), std::string("v")});
      expected.push_back("C-other-key-" + std::to_string(time));
      last = (*store)->enqueue(std::move(writes));
    }
    ASSERT_TRUE((*store)->wait_durable(last).ok());
    std::sort(expected.begin(), expected.end());
    check(**store);
  }
  auto store = open_rocksdb_store({dir});
  ASSERT_TRUE(store.ok());
  check(**store);
  std::filesystem::remove_all(dir);
}

TEST(RocksDbStore, WritesAfterCloseFail) {
  const auto dir = fresh_dir("closed");
  auto store = open_rocksdb_store({dir});
  ASSERT_TRUE(store.ok());
  (*store)->close();
  auto seq = (*store)->enqueue({{Collection::Meta, "k", std::string("v")}});
  EXPECT_FALSE((*store)->wait_durable(seq).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace ct::storage
