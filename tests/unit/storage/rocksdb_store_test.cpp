#include "storage/rocksdb/rocksdb_store.hpp"

#include <gtest/gtest.h>

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
