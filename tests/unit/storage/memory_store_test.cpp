// The in-memory Store keeps the Store contract (storage/store.hpp) that unit tests rely on.
#include "storage/memory_store.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ct::storage {
namespace {

std::vector<std::string> keys(MemoryStore& store, Collection c, std::string_view prefix) {
  std::vector<std::string> out;
  EXPECT_TRUE(store.scan(c, prefix, [&](std::string_view key, std::string_view) {
    out.emplace_back(key);
    return true;
  }).ok());
  return out;
}

TEST(MemoryStoreTest, KeepsCollectionsApartInKeyOrderAndTheLastWriteWins) {
  MemoryStore store;
  const Sequence seq = store.enqueue({{Collection::History, "b", "1"},
                                      {Collection::History, "a", "2"},
                                      {Collection::Entities, "a", "3"},
                                      {Collection::History, "c", "4"},
                                      {Collection::History, "c", std::nullopt},
                                      {Collection::History, "ab", "5"}});
  EXPECT_TRUE(store.wait_durable(seq).ok());
  EXPECT_EQ(store.durable_sequence(), seq);
  EXPECT_EQ(keys(store, Collection::History, ""), (std::vector<std::string>{"a", "ab", "b"}));
  EXPECT_EQ(keys(store, Collection::History, "a"), (std::vector<std::string>{"a", "ab"}));
  EXPECT_EQ(store.get(Collection::Entities, "a").value(), std::optional<std::string>("3"));
  EXPECT_EQ(store.get(Collection::Entities, "b").value(), std::nullopt);
  std::vector<std::string> range;
  ASSERT_TRUE(store.scan_range(Collection::History, "aa", "b", [&](std::string_view key, std::string_view) {
    range.emplace_back(key);
    return true;
  }).ok());
  EXPECT_EQ(range, std::vector<std::string>{"ab"});
}

TEST(MemoryStoreTest, AScanMayWriteWhatItVisits) {
  MemoryStore store;
  store.enqueue({{Collection::History, "a", "1"}, {Collection::History, "b", "2"}});
  ASSERT_TRUE(store.scan(Collection::History, "", [&](std::string_view key, std::string_view) {
    store.enqueue({{Collection::History, std::string(key), std::nullopt}});
    return true;
  }).ok());
  EXPECT_EQ(store.size(Collection::History), 0u);
}

TEST(MemoryStoreTest, HeldGroupsAreInvisibleUntilSettledAndAFailureCallsTheHandlerFirst) {
  MemoryStore store;
  std::vector<std::string> order;
  store.set_failure_handler([&](Sequence durable) { order.push_back("handler " + std::to_string(durable)); });
  store.hold(true);
  const Sequence first = store.enqueue({{Collection::Meta, "k", "v"}});
  store.when_durable(first, [&](const Status& st) { order.push_back(st.ok() ? "first ok" : "first failed"); });
  EXPECT_EQ(store.get(Collection::Meta, "k").value(), std::nullopt);
  EXPECT_EQ(store.queued(), 1u);
  store.settle();
  EXPECT_EQ(store.get(Collection::Meta, "k").value(), std::optional<std::string>("v"));
  const Sequence second = store.enqueue({{Collection::Meta, "k", std::nullopt}});
  store.when_durable(second, [&](const Status& st) { order.push_back(st.ok() ? "second ok" : "second failed"); });
  store.settle(false);
  EXPECT_EQ(order, (std::vector<std::string>{"first ok", "handler " + std::to_string(first), "second failed"}));
  EXPECT_FALSE(store.wait_durable(second).ok());
  EXPECT_EQ(store.get(Collection::Meta, "k").value(), std::optional<std::string>("v"));
  store.close();
  EXPECT_FALSE(store.wait_durable(store.enqueue({{Collection::Meta, "x", "y"}})).ok());
}

}  // namespace
}  // namespace ct::storage
