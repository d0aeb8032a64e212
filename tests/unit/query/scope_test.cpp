#include "query/scope.hpp"

#include <gtest/gtest.h>

namespace ct::query {
namespace {

using Scopes = std::vector<std::string>;

class Scope : public ::testing::Test {
 protected:
  static bool matches(std::string_view query, const Scopes& scopes) {
    auto r = parse_scope_q(query);
    if (!r.ok()) {
      ADD_FAILURE() << query << ": " << r.problem().detail;
      return false;
    }
    return r->matches(scopes);
  }
  static std::string error(std::string_view query) {
    auto r = parse_scope_q(query);
    if (r.ok()) {
      ADD_FAILURE() << query << " parsed, but should not have";
      return {};
    }
    EXPECT_EQ(r.problem().kind, ProblemKind::BadRequestData);
    return r.problem().detail;
  }
};

TEST_F(Scope, MatchesExactScopes) {
  EXPECT_TRUE(matches("/Beijing", {"/Beijing"}));
  EXPECT_FALSE(matches("/Beijing", {"/Beijing/Chaoyang"}));
  EXPECT_FALSE(matches("/Beijing", {"/Bei"}));
  EXPECT_FALSE(matches("/Bei", {"/Beijing"}));
  EXPECT_TRUE(matches("/Beijing/Chaoyang", {"/Beijing/Chaoyang"}));
  EXPECT_FALSE(matches("/Beijing/Chaoyang", {"/Beijing"}));
  EXPECT_TRUE(matches("/Beijing/Chaoyang", {"/Shanghai", "/Beijing/Chaoyang"}));  // any of the entity's scopes
}

TEST_F(Scope, HashMatchesTheScopeAndEverythingBelow) {
  EXPECT_TRUE(matches("/Beijing/#", {"/Beijing"}));
  EXPECT_TRUE(matches("/Beijing/#", {"/Beijing/Chaoyang"}));
  EXPECT_TRUE(matches("/Beijing/#", {"/Beijing/Chaoyang/Station1"}));
  EXPECT_FALSE(matches("/Beijing/#", {"/BeijingNorth"}));
  EXPECT_FALSE(matches("/Beijing/#", {"/Shanghai/Beijing"}));
  EXPECT_TRUE(matches("/#", {"/Anything/At/All"}));
  EXPECT_FALSE(matches("/#", {}));  // no scope at all
}

TEST_F(Scope, PlusMatchesExactlyOneLevel) {
  EXPECT_TRUE(matches("/Beijing/+/Station", {"/Beijing/Chaoyang/Station"}));
  EXPECT_FALSE(matches("/Beijing/+/Station", {"/Beijing/Station"}));
  EXPECT_FALSE(matches("/Beijing/+/Station", {"/Beijing/Chaoyang/North/Station"}));
  EXPECT_FALSE(matches("/Beijing/+/Station", {"/Beijing/Chaoyang/Station/Platform"}));
  EXPECT_TRUE(matches("/+", {"/Beijing"}));
  EXPECT_FALSE(matches("/+", {"/Beijing/Chaoyang"}));
  EXPECT_TRUE(matches("/+/#", {"/Beijing/Chaoyang"}));
  EXPECT_TRUE(matches("/+/Chaoyang/#", {"/Beijing/Chaoyang/A/B"}));
}

TEST_F(Scope, CombinesWithCommaOrSemicolonAndAndParentheses) {
  const Scopes both{"/Beijing/Chaoyang", "/Sensors/Air"};
  EXPECT_TRUE(matches("/Shanghai,/Beijing/#", both));
  EXPECT_FALSE(matches("/Shanghai,/Tianjin", both));
  EXPECT_TRUE(matches("/Beijing/#;/Sensors/+", both));  // each term may match a different scope
  EXPECT_FALSE(matches("/Beijing/#;/Shanghai", both));
  // ';' binds tighter: /Shanghai , (/Beijing/# ; /Sensors/Air)
  EXPECT_TRUE(matches("/Shanghai,/Beijing/#;/Sensors/Air", both));
  EXPECT_FALSE(matches("(/Shanghai,/Beijing/#);/Tianjin", both));
  EXPECT_TRUE(matches("(/Shanghai,/Beijing/#);/Sensors/#", both));
  EXPECT_TRUE(matches("((/Sensors/Air))", both));
}

TEST_F(Scope, TheEmptyQueryMatchesEverything) { EXPECT_TRUE(ScopeQuery().matches({})); }

TEST_F(Scope, NamesThePositionOfEachError) {
  EXPECT_EQ(error(""), "scopeQ: expected a scope starting with '/' at position 0 in \"\"");
  EXPECT_EQ(error("Beijing"), "scopeQ: expected a scope starting with '/' at position 0 in \"Beijing\"");
  EXPECT_EQ(error("/"), "scopeQ: expected a scope level after '/' at position 1 in \"/\"");
  EXPECT_EQ(error("/a//b"), "scopeQ: expected a scope level after '/' at position 3 in \"/a//b\"");
  EXPECT_EQ(error("/a/"), "scopeQ: expected a scope level after '/' at position 3 in \"/a/\"");
  EXPECT_EQ(error("/a/#/b"), "scopeQ: '#' must be the last level at position 3 in \"/a/#/b\"");
  EXPECT_EQ(error("/a/b+"), "scopeQ: '+' and '#' must be a whole level at position 4 in \"/a/b+\"");
  EXPECT_EQ(error("/a b"), "scopeQ: a scope level cannot hold blanks or controls at position 2 in \"/a b\"");
  EXPECT_EQ(error("/a,"), "scopeQ: expected a scope starting with '/' at position 3 in \"/a,\"");
  EXPECT_EQ(error("(/a"), "scopeQ: expected ')' at position 3 in \"(/a\" (to close the '(' at position 0)");
  EXPECT_EQ(error("/a)"), "scopeQ: unexpected ')' with no matching '(' at position 2 in \"/a)\"");
  EXPECT_EQ(error("/a(b"), "scopeQ: expected '/', ',', ';' or ')' at position 2 in \"/a(b\"");
  const std::string deep = std::string(33, '(') + "/a" + std::string(33, ')');
  EXPECT_EQ(error(deep), "scopeQ: parentheses nested deeper than 32 levels at position 32 in \"" + deep + "\"");
  EXPECT_TRUE(parse_scope_q(std::string(32, '(') + "/a" + std::string(32, ')')).ok());
}

TEST_F(Scope, ValidatesEntityScopes) {
  EXPECT_TRUE(is_valid_scope("/Beijing"));
  EXPECT_TRUE(is_valid_scope("/Beijing/Chaoyang"));
  EXPECT_FALSE(is_valid_scope(""));
  EXPECT_FALSE(is_valid_scope("/"));
  EXPECT_FALSE(is_valid_scope("Beijing"));
  EXPECT_FALSE(is_valid_scope("/Beijing/"));
  EXPECT_FALSE(is_valid_scope("/Beijing//Chaoyang"));
  EXPECT_FALSE(is_valid_scope("/Beijing/#"));
  EXPECT_FALSE(is_valid_scope("/Bei jing"));
  EXPECT_FALSE(is_valid_scope("/a,b"));
}

}  // namespace
}  // namespace ct::query
