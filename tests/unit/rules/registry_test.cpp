// The rule registry on its own: definitions stored and read back, the watched types writers ask
// about, the changes it reports, and what it refuses.
#include "rules/registry.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "storage/rocksdb/rocksdb_store.hpp"

namespace ct::rules {
namespace {

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("citytwin-registry-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store_ = std::move(storage::open_rocksdb_store({dir_, /*sync=*/false}).value());
    twin_ = std::make_unique<twin::Twin>(*store_);
    ASSERT_TRUE(twin_->load().ok());
    registry_ = make();
  }
  void TearDown() override {
    registry_.reset();
    twin_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<RuleRegistry> make() {
    return std::make_unique<RuleRegistry>(*twin_, *store_, contexts_, clock_,
                                          [this](const std::string& tenant, const std::string& id) {
                                            // Reported once the registry shows it.
                                            seen_when_reported_.push_back(registry_->find(tenant, id).rule != nullptr);
                                            changed_.emplace_back(tenant, id);
                                          });
  }
  Result<storage::Sequence> put(const std::string& tenant, const char* text, bool must_be_new = true,
                                Timestamp created_at = kNoTimestamp) {
    return registry_->put(tenant, json::parse(text).as_object(), "", must_be_new, created_at);
  }
  std::vector<model::Term> types(const char* name) { return {model::Term::intern(contexts_.core()->expand(name))}; }

  std::filesystem::path dir_;
  ManualClock clock_{1'700'000'000'000};
  jsonld::ContextStore contexts_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<twin::Twin> twin_;
  std::unique_ptr<RuleRegistry> registry_;
  std::vector<RuleKey> changed_;
  std::vector<bool> seen_when_reported_;
};

constexpr const char* kRule = R"({"id":"r1","watch":{"type":"Sensor"},"when":"level>5","actions":[{"alert":{"category":"t"}}]})";

TEST_F(RegistryTest, DefinitionsAreStoredReportedAndReadBack) {
  auto put_at = put("t1", kRule);
  ASSERT_TRUE(put_at.ok()) << put_at.problem().detail;
  EXPECT_EQ(changed_, (std::vector<RuleKey>{{"t1", "r1"}}));
  EXPECT_EQ(seen_when_reported_, std::vector<bool>{true});
  const auto record = registry_->find("t1", "r1");
  ASSERT_TRUE(record.rule);
  EXPECT_EQ(record.rule->created_at, clock_.now()) << "stamped by the registry's clock";
  EXPECT_FALSE(registry_->find("t2", "r1").rule) << "rules belong to their tenant";
  clock_.advance(std::chrono::seconds(5));
  auto changed_at = put("t1", R"({"id":"r1","watch":{"type":"Sensor"},"when":"level>6","actions":[{"alert":{"category":"t"}}]})",
                        /*must_be_new=*/false, record.rule->created_at);  // as RulesEngine::update() does
  ASSERT_TRUE(changed_at.ok());
  EXPECT_EQ(registry_->find("t1", "r1").rule->modified_at, clock_.now());
  ASSERT_TRUE(store_->wait_durable(*changed_at).ok());

  auto reread = make();  // as after a restart
  ASSERT_TRUE(reread->restore().ok());
  const auto back = reread->find("t1", "r1");
  ASSERT_TRUE(back.rule);
  EXPECT_EQ(back.rule->definition.at("when"), json::value("level>6"));
  EXPECT_EQ(back.rule->created_at, record.rule->created_at);
  EXPECT_EQ(reread->all(), (std::vector<RuleKey>{{"t1", "r1"}}));
}

TEST_F(RegistryTest, WritersAskWhetherAnEnabledRuleWatchesATypeOfTheirTenant) {
  EXPECT_FALSE(registry_->watches("t1", types("Sensor")));
  ASSERT_TRUE(put("t1", kRule).ok());
  EXPECT_TRUE(registry_->watches("t1", types("Sensor")));
  EXPECT_FALSE(registry_->watches("t1", types("Lamp")));
  EXPECT_FALSE(registry_->watches("t2", types("Sensor")));
  ASSERT_TRUE(put("t1", R"({"id":"r1","watch":{"type":"Sensor"},"when":"level>5","enabled":false,
                           "actions":[{"alert":{"category":"t"}}]})", false).ok());
  EXPECT_FALSE(registry_->watches("t1", types("Sensor"))) << "a disabled rule watches nothing";
  ASSERT_TRUE(registry_->remove("t1", "r1").ok());
  EXPECT_FALSE(registry_->find("t1", "r1").rule);
  EXPECT_EQ(changed_.size(), 3u);
}

TEST_F(RegistryTest, RefusesDuplicatesUnknownRulesAndMissingTargets) {
  ASSERT_TRUE(put("t1", kRule).ok());
  auto again = put("t1", kRule);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.problem().kind, ProblemKind::AlreadyExists);
  auto unknown = put("t1", R"({"id":"nope","watch":{"type":"Sensor"},"when":"level>5","actions":[{"alert":{"category":"t"}}]})",
                     /*must_be_new=*/false);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.problem().kind, ProblemKind::ResourceNotFound);
  EXPECT_EQ(registry_->remove("t1", "nope").problem().kind, ProblemKind::ResourceNotFound);
  auto target = put("t1", R"({"id":"c","watch":{"type":"Sensor"},"when":"level>5",
                              "actions":[{"command":{"device":"urn:ngsi-ld:Lamp:none","command":"on"}}]})");
  ASSERT_FALSE(target.ok());
  EXPECT_EQ(target.problem().detail, "actions[0].command: the entity urn:ngsi-ld:Lamp:none does not exist");
  EXPECT_EQ(changed_.size(), 1u) << "refusals change nothing";
  std::size_t total = 0;
  EXPECT_EQ(registry_->list("t1", 0, 10, total).size(), 1u);
  EXPECT_EQ(total, 1u);
}

}  // namespace
}  // namespace ct::rules
