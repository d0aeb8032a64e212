#include "common/json.hpp"

#include <gtest/gtest.h>

#include "json_printer.hpp"

namespace ct {

TEST(Json, WritesNumbersInShortestDecimalForm) {
  EXPECT_EQ(to_text(json::parse(R"({"a":0.54,"b":12.2,"c":500,"d":-3.712247222222222,"e":1e300})")),
            R"({"a":0.54,"b":12.2,"c":500,"d":-3.712247222222222,"e":1e+300})");
}

TEST(Json, EscapesStrings) {
  json::value v = json::string("quote\" backslash\\ newline\n tab\t bell\x07 é");
  EXPECT_EQ(to_text(v), "\"quote\\\" backslash\\\\ newline\\n tab\\t bell\\u0007 é\"");
  EXPECT_EQ(json::parse(to_text(v)), v);
}

TEST(Json, RejectsMalformedInputWithAProblem) {
  auto r = parse_json("{\"a\": ");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problem().kind, ProblemKind::BadRequestData);
  EXPECT_FALSE(parse_json("{\"a\": \"\xff\xfe\"}").ok()) << "invalid UTF-8";
  EXPECT_FALSE(parse_json("").ok());
}

TEST(Json, LimitsNesting) {
  const std::string ok = std::string(64, '[') + std::string(64, ']');
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  EXPECT_TRUE(parse_json(ok).ok());
  auto r = parse_json(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.problem().detail.find("deeper"), std::string::npos);
}

TEST(Problem, RendersRfc7807Body) {
  Problem p{ProblemKind::AlreadyExists, "entity x already exists"};
  auto body = json::parse(p.to_json()).as_object();
  EXPECT_EQ(body.at("type"), "https://uri.etsi.org/ngsi-ld/errors/AlreadyExists");
  EXPECT_EQ(body.at("status"), 409);
  EXPECT_EQ(body.at("detail"), "entity x already exists");
  EXPECT_EQ((Problem{ProblemKind::LdContextNotAvailable, ""}.status()), 503);
  EXPECT_EQ((Problem{ProblemKind::UnsupportedMediaType, ""}.status()), 415);
}

}  // namespace ct
