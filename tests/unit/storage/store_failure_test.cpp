// The RocksDB store on a volume at its reserve: groups are refused without being written, the
// failure handler runs before the waiters hear of it, and what was queued meanwhile fails too.
#include "storage/rocksdb/rocksdb_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

namespace ct::storage {
namespace {

TEST(StoreFailure, AGroupRefusedAtTheReserveFailsWithWhatWasQueuedBeforeTheHandlerReturned) {
  const auto dir = std::filesystem::temp_directory_path() / ("citytwin-unit-reserve-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    RocksDbOptions options{dir};
    options.reserve_bytes = 1ull << 62;  // no volume has that much free: every write meets the reserve
    auto opened = open_rocksdb_store(options);
    ASSERT_TRUE(opened.ok()) << opened.problem().detail;
    Store& store = **opened;
    std::vector<Sequence> handled;
    Sequence queued_in_handler = 0;
    store.set_failure_handler([&](Sequence durable) {
      handled.push_back(durable);
      // A write made while the twin is rolling back may build on what is undone: it fails too.
      if (queued_in_handler == 0) queued_in_handler = store.enqueue({{Collection::Meta, "b", std::string("2")}});
    });
    const Sequence seq = store.enqueue({{Collection::Meta, "a", std::string("1")}});
    const auto refused = store.wait_durable(seq);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.problem().kind, ProblemKind::InsufficientStorage);
    EXPECT_EQ(refused.problem().detail.find(dir.string()), std::string::npos);
    ASSERT_NE(queued_in_handler, 0u);
    const auto also = store.wait_durable(queued_in_handler);
    ASSERT_FALSE(also.ok());
    EXPECT_EQ(also.problem().kind, ProblemKind::InsufficientStorage);
    EXPECT_EQ(handled, (std::vector<Sequence>{0, 0}));  // once per failed group, nothing durable
    // A late waiter of a failed sequence still hears of the failure.
    bool told = false;
    store.when_durable(seq, [&](const Status& st) { told = !st.ok(); });
    EXPECT_TRUE(told);
    EXPECT_FALSE(store.get(Collection::Meta, "a")->has_value());
    EXPECT_FALSE(store.admit(false).ok());
    const auto health = store.health();
    EXPECT_FALSE(health.writable);
    EXPECT_EQ(health.reason, "storage full");
    EXPECT_EQ(health.refused_groups, 1u);  // the second group failed with the first, unmeasured
    store.set_failure_handler({});
    store.close();
  }
  // Nothing was written, and no LOG file lies beside the data: RocksDB logs through spdlog.
  EXPECT_FALSE(std::filesystem::exists(dir / "LOG"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ct::storage
