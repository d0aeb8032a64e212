#include "jsonld/context_store.hpp"

#include <gtest/gtest.h>

#include "jsonld/builtin_contexts.hpp"

namespace ct::jsonld {

TEST(ContextStore, EveryBuiltinContextParses) {
  for (const auto& builtin : builtin_contexts()) {
    auto doc = parse_json(builtin.document);
    ASSERT_TRUE(doc.ok()) << builtin.url;
    EXPECT_TRUE(doc->as_object().contains("@context")) << builtin.url;
  }
}

TEST(ContextStore, CoreContextExpandsCoreTermsAndDefaultsTheRest) {
  ContextStore store;
  auto core = store.core();
  EXPECT_EQ(core->expand("location"), "https://uri.etsi.org/ngsi-ld/location");
  EXPECT_EQ(core->expand("pm25"), "https://uri.etsi.org/ngsi-ld/default-context/pm25");
  EXPECT_EQ(core->compact("https://uri.etsi.org/ngsi-ld/default-context/pm25"), "pm25");
  EXPECT_EQ(core->compact("https://uri.etsi.org/ngsi-ld/location"), "location");
  EXPECT_EQ(core->expand("urn:x:y"), "urn:x:y") << "absolute IRIs stay as they are";
}

TEST(ContextStore, SmartDataModelContextsAreAvailableOffline) {
  ContextStore store;  // no fetcher: nothing can come from the network
  auto ctx = store.resolve_url("https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld");
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ((*ctx)->expand("AirQualityObserved"), "https://smartdatamodels.org/dataModel.Environment/AirQualityObserved");
  EXPECT_EQ((*ctx)->compact("https://smartdatamodels.org/dataModel.Environment/AirQualityObserved"), "AirQualityObserved");
  EXPECT_EQ((*ctx)->expand("location"), "https://uri.etsi.org/ngsi-ld/location") << "core terms stay protected";
}

TEST(ContextStore, InlineContextsAndCompactIris) {
  ContextStore store;
  auto ctx = store.resolve(json::parse(R"({"ex":"https://example.org/ns#","speed":"ex:speed","Road":"https://example.org/Road"})"));
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ((*ctx)->expand("speed"), "https://example.org/ns#speed");
  EXPECT_EQ((*ctx)->expand("ex:flow"), "https://example.org/ns#flow");
  EXPECT_EQ((*ctx)->compact("https://example.org/ns#speed"), "speed");
  EXPECT_EQ((*ctx)->expand("Road"), "https://example.org/Road");
}

TEST(ContextStore, UnknownRemoteContextIsNotAvailable) {
  int fetches = 0;
  ContextStore store([&](const std::string&) -> Result<std::string> {
    ++fetches;
    return Problem{ProblemKind::LdContextNotAvailable, "connection refused"};
  });
  auto ctx = store.resolve_url("http://127.0.0.1:9/missing.jsonld");
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.problem().kind, ProblemKind::LdContextNotAvailable);
  EXPECT_EQ(fetches, 1);
}

TEST(ContextStore, FetchedContextsAreCached) {
  int fetches = 0;
  ContextStore store([&](const std::string&) -> Result<std::string> {
    ++fetches;
    return std::string(R"({"@context":{"flow":"https://example.org/flow"}})");
  });
  for (int i = 0; i < 3; ++i) {
    auto ctx = store.resolve_url("http://127.0.0.1:9/ctx.jsonld");
    ASSERT_TRUE(ctx.ok());
    EXPECT_EQ((*ctx)->expand("flow"), "https://example.org/flow");
  }
  EXPECT_EQ(fetches, 1);
}

TEST(ContextStore, RegisteredContextsResolveByTheirUrl) {
  ContextStore store;
  auto url = store.register_context(json::parse(R"({"@context":{"valve":"https://example.org/valve"}})"));
  ASSERT_TRUE(url.ok());
  auto ctx = store.resolve_url(*url);
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ((*ctx)->expand("valve"), "https://example.org/valve");
  EXPECT_TRUE(store.remove(*url).ok());
  EXPECT_FALSE(store.get(*url).ok());
}

}  // namespace ct::jsonld
