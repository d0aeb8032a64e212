#include "query/type_expression.hpp"

#include <gtest/gtest.h>

#include "jsonld/context_store.hpp"

namespace ct::query {
namespace {

class TypeExpressions : public ::testing::Test {
 protected:
  jsonld::ContextStore store;
  jsonld::ContextPtr ctx = store.core();

  model::Term type(std::string_view name) { return model::Term::intern(ctx->expand(name)); }
  std::vector<model::Term> types(std::initializer_list<std::string_view> names) {
    std::vector<model::Term> out;
    for (auto n : names) out.push_back(type(n));
    return out;
  }
  TypeExpression parse(std::string_view text) {
    auto r = parse_type_expression(text, *ctx);
    EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.problem().detail);
    return r.ok() ? std::move(r).value() : TypeExpression{};
  }
  bool matches(std::string_view text, std::initializer_list<std::string_view> entity_types) {
    auto r = parse_type_expression(text, *ctx);
    if (!r.ok()) {
      ADD_FAILURE() << text << ": " << r.problem().detail;
      return false;
    }
    return r->matches(types(entity_types));
  }
  std::string error(std::string_view text) {
    auto r = parse_type_expression(text, *ctx);
    if (r.ok()) {
      ADD_FAILURE() << text << " parsed, but should not have";
      return {};
    }
    EXPECT_EQ(r.problem().kind, ProblemKind::BadRequestData);
    return r.problem().detail;
  }
};

TEST_F(TypeExpressions, MatchesAPlainListOfTypes) {
  EXPECT_TRUE(matches("Building", {"Building"}));
  EXPECT_FALSE(matches("Building", {"Road"}));
  EXPECT_TRUE(matches("Building,Road", {"Road"}));
  EXPECT_TRUE(matches("Building,Road", {"Park", "Building"}));
  EXPECT_FALSE(matches("Building,Road", {"Park"}));
  EXPECT_FALSE(matches("Building", {}));
}

TEST_F(TypeExpressions, ExpandsNamesWithTheContext) {
  auto r = parse_type_expression("https://example.org/Tree", *ctx);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->matches({model::Term::intern("https://example.org/Tree")}));
  EXPECT_FALSE(r->matches(types({"Tree"})));  // the short name expands elsewhere (@vocab)
}

TEST_F(TypeExpressions, SupportsTheSelectionLanguage) {
  EXPECT_TRUE(matches("Building;Shop", {"Shop", "Building"}));
  EXPECT_FALSE(matches("Building;Shop", {"Building"}));
  EXPECT_TRUE(matches("(Building;Shop)|Road", {"Road"}));
  EXPECT_TRUE(matches("(Building;Shop)|Road", {"Building", "Shop"}));
  EXPECT_FALSE(matches("(Building;Shop)|Road", {"Shop"}));
  // ';' binds tighter than '|' and ',': Road | (Building ; Shop)
  EXPECT_TRUE(matches("Road|Building;Shop", {"Road"}));
  EXPECT_FALSE(matches("Road|Building;Shop", {"Building"}));
  EXPECT_FALSE(matches("(Road|Building);Shop", {"Building"}));
  EXPECT_TRUE(matches("(Road,Building);Shop", {"Building", "Shop"}));
}

TEST_F(TypeExpressions, ListsTheTypesOfAPlainOr) {
  EXPECT_EQ(parse("Building").any_of(), std::optional(types({"Building"})));
  EXPECT_EQ(parse("Building,Road|Park").any_of(), std::optional(types({"Building", "Road", "Park"})));
  EXPECT_EQ(parse("(Building,Road)|(Park)|Road").any_of(), std::optional(types({"Building", "Road", "Park"})));
  EXPECT_EQ(parse("Building;Shop").any_of(), std::nullopt);
  EXPECT_EQ(parse("Road|(Building;Shop)").any_of(), std::nullopt);
  EXPECT_EQ(TypeExpression().any_of(), std::nullopt);
  EXPECT_TRUE(TypeExpression().matches({}));
}

TEST_F(TypeExpressions, NamesThePositionOfEachError) {
  EXPECT_EQ(error(""), "type: expected a type name at position 0 in \"\"");
  EXPECT_EQ(error("A,"), "type: expected a type name at position 2 in \"A,\"");
  EXPECT_EQ(error("A,,B"), "type: expected a type name at position 2 in \"A,,B\"");
  EXPECT_EQ(error("A;|B"), "type: expected a type name at position 2 in \"A;|B\"");
  EXPECT_EQ(error("(A;B"), "type: expected ')' at position 4 in \"(A;B\" (to close the '(' at position 0)");
  EXPECT_EQ(error("A)"), "type: unexpected ')' with no matching '(' at position 1 in \"A)\"");
  EXPECT_EQ(error("A(B)"), "type: expected ',', '|', ';' or the end at position 1 in \"A(B)\"");
  EXPECT_EQ(error("A B"), "type: invalid type name \"A B\" at position 0 in \"A B\"");
  EXPECT_EQ(error("()"), "type: expected a type name at position 1 in \"()\"");
  const std::string deep = std::string(33, '(') + "A" + std::string(33, ')');
  EXPECT_EQ(error(deep), "type: parentheses nested deeper than 32 levels at position 32 in \"" + deep + "\"");
}

}  // namespace
}  // namespace ct::query
