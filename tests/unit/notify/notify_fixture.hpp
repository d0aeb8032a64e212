#pragma once
// A real twin on a temporary store whose change events the notify tests capture, so that they
// match and render the events the twin really makes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "jsonld/context_store.hpp"
#include "notify/subscription.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"
#include "twin/twin.hpp"

namespace ct::notify::testing {

// Keeps every change event the twin makes, as a consumer of its change stream (the events as
// delivered: durable, with their sequence). Read `events` after waiting for the stream.
class CapturingConsumer : public twin::ChangeConsumer {
 public:
  std::string_view name() const override { return "capture"; }
  void consume(std::span<const twin::ChangeEvent> delivered) override {
    events.insert(events.end(), delivered.begin(), delivered.end());
  }
  std::vector<twin::ChangeEvent> events;
};

class NotifyTest : public ::testing::Test {
 public:  // the helpers are used by free functions of the tests too
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("citytwin-notify-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store_ = std::move(storage::open_rocksdb_store({dir_}).value());
    twin_ = std::make_unique<twin::Twin>(*store_);
    ASSERT_TRUE(twin_->load().ok());
    twin_->changes().attach(observer_);
  }
  void TearDown() override {
    twin_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  ContextRef core() { return ContextRef{nullptr, contexts_.core()}; }

  Subscription subscription(const char* text, const ContextRef* ctx = nullptr) {
    auto s = parse_subscription(json::parse(text).as_object(), ctx ? *ctx : core(), contexts_, now_ms());
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.problem().detail);
    return s.ok() ? std::move(s).value() : Subscription{};
  }
  // The Problem detail of a body that must be refused (empty when it was accepted).
  std::string refusal(const char* text) {
    auto s = parse_subscription(json::parse(text).as_object(), core(), contexts_, now_ms());
    if (s.ok()) return {};
    EXPECT_EQ(s.problem().kind, ProblemKind::BadRequestData);
    return s.problem().detail;
  }

  jsonld::DecodedEntity decode(const char* text, bool merge = false) {
    jsonld::DecodeOptions options;
    options.allow_null_values = merge;
    return jsonld::decode_entity(json::parse(text).as_object(), *contexts_.core(), options).value();
  }
  // The event of the write (the last one the twin made).
  const twin::ChangeEvent& last_event() {
    EXPECT_TRUE(twin_->changes().wait_consumed(observer_, twin_->changes().published(), std::chrono::seconds(10)));
    return observer_.events.back();
  }
  const twin::ChangeEvent& create(const char* text) {
    EXPECT_TRUE(twin_->create("", decode(text)).ok());
    return last_event();
  }
  const twin::ChangeEvent& merge(const char* id, const char* text) {
    EXPECT_TRUE(twin_->merge("", id, decode(text, true)).ok());
    return last_event();
  }
  const twin::ChangeEvent& remove(const char* id) {
    EXPECT_TRUE(twin_->remove("", id).ok());
    return last_event();
  }

  std::filesystem::path dir_;
  jsonld::ContextStore contexts_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<twin::Twin> twin_;
  CapturingConsumer observer_;  // declared after the twin: detached by TearDown's twin_.reset()
};

}  // namespace ct::notify::testing
