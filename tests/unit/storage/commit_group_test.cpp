#include "storage/commit_group.hpp"

#include <gtest/gtest.h>

namespace ct::storage {
namespace {

std::vector<std::string> describe(const std::vector<const Write*>& writes) {
  std::vector<std::string> out;
  for (const auto* w : writes)
    out.push_back(std::string(collection_name(w->collection)) + ":" + w->key + "=" + w->value.value_or("<deleted>"));
  return out;
}

}  // namespace

TEST(EffectiveWrites, TheLastWriteQueuedForAKeySupersedesTheOthers) {
  const std::vector<Write> group = {
      {Collection::Entities, "b", std::string("b1")},
      {Collection::Entities, "a", std::string("a1")},
      {Collection::History, "a", std::string("history a")},
      {Collection::Entities, "b", std::string("b2")},
      {Collection::Entities, "a", std::nullopt},
      {Collection::Entities, "c", std::nullopt},
      {Collection::Entities, "c", std::string("c after its deletion")},
      {Collection::Entities, "b", std::string("b3")},
  };
  std::vector<const Write*> effective;
  effective_writes(group, effective);
  EXPECT_EQ(describe(effective), (std::vector<std::string>{"entities:a=<deleted>", "entities:b=b3",
                                                          "entities:c=c after its deletion", "history:a=history a"}));
}

TEST(EffectiveWrites, DistinctKeysAreAllKeptInKeyOrder) {
  std::vector<Write> group;
  for (int i = 99; i >= 0; --i) group.push_back({Collection::Meta, std::to_string(1000 + i), std::string("v")});
  std::vector<const Write*> effective = {nullptr};  // reused storage is cleared first
  effective_writes(group, effective);
  ASSERT_EQ(effective.size(), group.size());
  for (std::size_t i = 0; i < effective.size(); ++i) EXPECT_EQ(effective[i]->key, std::to_string(1000 + i));
}

TEST(EffectiveWrites, AnEmptyGroupWritesNothing) {
  std::vector<const Write*> effective;
  effective_writes({}, effective);
  EXPECT_TRUE(effective.empty());
}

}  // namespace ct::storage
