#include "query/q.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "json_printer.hpp"

#include "common/text.hpp"
#include "jsonld/context_store.hpp"
#include "jsonld/entity_codec.hpp"
#include "query/regex.hpp"

namespace ct::query {
namespace {

constexpr const char* kStation = R"({
  "id": "urn:ngsi-ld:AirQualityObserved:dongsi", "type": "AirQualityObserved",
  "pm25": {"type": "Property", "value": 75.5, "unitCode": "GQ", "observedAt": "2024-01-01T08:00:00Z",
           "reliability": {"type": "Property", "value": 0.9,
                           "source": {"type": "Property", "value": "sensor"}}},
  "count": {"type": "Property", "value": 42, "createdAt": "2023-06-01T00:00:00Z", "modifiedAt": "2024-02-01T00:00:00Z"},
  "big": {"type": "Property", "value": 18446744073709551615},
  "status": {"type": "Property", "value": "ok"},
  "quote": {"type": "Property", "value": "say \"hi\""},
  "active": {"type": "Property", "value": true},
  "name": {"type": "LanguageProperty", "languageMap": {"zh": "东四", "en": "Dongsi"}},
  "refDevice": {"type": "Relationship", "object": "urn:ngsi-ld:Device:d1"},
  "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [116.417, 39.929]}},
  "address": {"type": "Property",
              "value": {"streetAddress": "Dongsi", "city": {"name": "Beijing", "district": "Dongcheng"}}},
  "dateObserved": {"type": "Property", "value": "2024-01-01T08:00:00Z"},
  "dayObserved": {"type": "Property", "value": "2024-01-01"},
  "openingTime": {"type": "Property", "value": "08:30:00"},
  "tags": {"type": "Property", "value": ["a", "b", 3]},
  "temperature": [{"type": "Property", "value": 20, "datasetId": "urn:ngsi-ld:dataset:indoor"},
                  {"type": "Property", "value": -5, "datasetId": "urn:ngsi-ld:dataset:outdoor"}]
})";

class Q : public ::testing::Test {
 protected:
  jsonld::ContextStore store;
  jsonld::ContextPtr ctx = store.core();
  model::Entity station = decode(kStation);

  model::Entity decode(const char* text) {
    jsonld::DecodeOptions options;
    options.trusted = true;  // so that createdAt/modifiedAt are kept
    auto r = jsonld::decode_entity(json::parse(text).as_object(), *ctx, options);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.problem().detail);
    model::Entity e;
    if (!r.ok()) return e;
    e.id = r->header.id;
    e.types = r->header.types;
    e.scopes = r->header.scopes;
    e.attributes = std::move(r->attributes);
    return e;
  }

  QExpression parse(std::string_view text) {
    auto r = parse_q(text, *ctx);
    EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.problem().detail);
    return r.ok() ? std::move(r).value() : QExpression{};
  }

  // Whether `text` parses and matches the station. A parse failure fails the test.
  bool q(std::string_view text) {
    auto r = parse_q(text, *ctx);
    if (!r.ok()) {
      ADD_FAILURE() << text << ": " << r.problem().detail;
      return false;
    }
    return r->matches(station);
  }

  std::string error(std::string_view text) {
    auto r = parse_q(text, *ctx);
    if (r.ok()) {
      ADD_FAILURE() << text << " parsed, but should not have";
      return {};
    }
    EXPECT_EQ(r.problem().kind, ProblemKind::BadRequestData);
    return r.problem().detail;
  }

  model::Term term(std::string_view name) { return model::Term::intern(ctx->expand(name)); }
};

TEST_F(Q, ComparesNumbers) {
  EXPECT_TRUE(q("count==42"));
  EXPECT_FALSE(q("count==41"));
  EXPECT_FALSE(q("count!=42"));
  EXPECT_TRUE(q("count!=41"));
  EXPECT_TRUE(q("count>41"));
  EXPECT_FALSE(q("count>42"));
  EXPECT_TRUE(q("count>=42"));
  EXPECT_FALSE(q("count>=43"));
  EXPECT_TRUE(q("count<43"));
  EXPECT_FALSE(q("count<42"));
  EXPECT_TRUE(q("count<=42"));
  EXPECT_FALSE(q("count<=41"));
  EXPECT_TRUE(q("pm25==75.5"));
  EXPECT_TRUE(q("pm25>75"));
  EXPECT_FALSE(q("pm25>75.5"));
  EXPECT_TRUE(q("pm25<7.551e1"));
  EXPECT_TRUE(q("count==42.0"));  // an integer and a double with the same value are equal
  EXPECT_TRUE(q("count==4.2E1"));
  EXPECT_TRUE(q("count>-1"));
  EXPECT_TRUE(q("big>9223372036854775807"));  // uint64 above every int64
  EXPECT_TRUE(q("big>-1"));
  EXPECT_TRUE(q("big==18446744073709551615"));
}

TEST_F(Q, NeverCoercesBetweenStringsAndNumbers) {
  EXPECT_FALSE(q("count==\"42\""));
  EXPECT_FALSE(q("count!=\"42\""));  // not comparable: not a match either way
  EXPECT_FALSE(q("status==1"));
  EXPECT_FALSE(q("status!=1"));
  EXPECT_FALSE(q("status>1"));
  EXPECT_FALSE(q("active==\"true\""));
  EXPECT_FALSE(q("active==1"));
}

TEST_F(Q, ComparesStrings) {
  EXPECT_TRUE(q("status==\"ok\""));
  EXPECT_FALSE(q("status==\"OK\""));
  EXPECT_FALSE(q("status!=\"ok\""));
  EXPECT_TRUE(q("status!=\"bad\""));
  EXPECT_TRUE(q("status>\"a\""));
  EXPECT_FALSE(q("status<\"a\""));
  EXPECT_TRUE(q("status<=\"ok\""));
  EXPECT_TRUE(q(R"(quote=="say \"hi\"")"));
  EXPECT_TRUE(q(R"(quote=="say \u0022hi\u0022")"));
  EXPECT_TRUE(q(R"(name=="\u4e1c\u56db")"));  // 东四
  EXPECT_FALSE(q(R"(status=="ok\n")"));
}

TEST_F(Q, ComparesBooleans) {
  EXPECT_TRUE(q("active==true"));
  EXPECT_FALSE(q("active==false"));
  EXPECT_TRUE(q("active!=false"));
  EXPECT_FALSE(q("active!=true"));
  EXPECT_TRUE(q("active==false,true"));
}

TEST_F(Q, MatchesRanges) {
  EXPECT_TRUE(q("count==40..45"));
  EXPECT_TRUE(q("count==42..42"));
  EXPECT_FALSE(q("count==43..50"));
  EXPECT_TRUE(q("count!=43..50"));
  EXPECT_FALSE(q("count!=40..45"));
  EXPECT_TRUE(q("pm25==75.4..75.6"));
  EXPECT_TRUE(q("status==\"a\"..\"p\""));
  EXPECT_FALSE(q("status==\"p\"..\"z\""));
  EXPECT_TRUE(q("dateObserved==2023-12-31T00:00:00Z..2024-01-02T00:00:00Z"));
  EXPECT_FALSE(q("dateObserved==2024-01-01T08:00:01Z..2024-01-02T00:00:00Z"));
  EXPECT_TRUE(q("dayObserved==2023-12-01..2024-01-31"));
  EXPECT_TRUE(q("openingTime==08:00:00..09:00:00"));
  EXPECT_FALSE(q("status==1..100"));  // a string is not in a range of numbers
}

TEST_F(Q, MatchesValueLists) {
  EXPECT_TRUE(q("count==1,42,3"));
  EXPECT_FALSE(q("count==1,2"));
  EXPECT_TRUE(q("status==\"x\",\"ok\""));
  EXPECT_TRUE(q("count!=1,2"));
  EXPECT_FALSE(q("count!=1,42"));
  EXPECT_TRUE(q("count==\"a\",42"));  // mixed kinds: each compares with what it can
  EXPECT_TRUE(q("refDevice==urn:ngsi-ld:Device:d2,urn:ngsi-ld:Device:d1"));
}

TEST_F(Q, ComparesDatesTimesAndDateTimes) {
  EXPECT_TRUE(q("dateObserved>2023-12-31T23:59:59Z"));
  EXPECT_FALSE(q("dateObserved>2024-01-01T08:00:00Z"));
  EXPECT_TRUE(q("dateObserved>=2024-01-01T08:00:00.000Z"));
  // An instant however written: 09:00 at +01:00 is 08:00Z.
  EXPECT_TRUE(q("dateObserved==2024-01-01T09:00:00+01:00"));
  EXPECT_TRUE(q("dateObserved<2024-01-01T08:00:00.001Z"));
  // A date is a whole UTC day.
  EXPECT_TRUE(q("dateObserved==2024-01-01"));
  EXPECT_FALSE(q("dateObserved<2024-01-01"));
  EXPECT_TRUE(q("dateObserved<2024-01-02"));
  EXPECT_TRUE(q("dayObserved==2024-01-01"));
  EXPECT_TRUE(q("dayObserved<2024-01-01T00:00:01Z"));  // a date value is its first instant
  EXPECT_TRUE(q("openingTime>08:00:00"));
  EXPECT_FALSE(q("openingTime<08:00:00"));
  EXPECT_TRUE(q("openingTime==08:30:00Z"));
  EXPECT_TRUE(q("openingTime==08:30:00.000"));
  // Quoted, a date-time is a string: compared as text.
  EXPECT_TRUE(q("dateObserved==\"2024-01-01T08:00:00Z\""));
  EXPECT_FALSE(q("dateObserved==\"2024-01-01T09:00:00+01:00\""));
  // Numbers are not dates.
  EXPECT_FALSE(q("count<2024-01-01"));
}

TEST_F(Q, MatchesPatterns) {
  EXPECT_TRUE(q("status~=o."));
  EXPECT_TRUE(q("status~=^ok$"));
  EXPECT_FALSE(q("status~=K"));
  EXPECT_TRUE(q("status~=(?i)K"));
  EXPECT_TRUE(q("status!~=x"));
  EXPECT_FALSE(q("status!~=ok"));
  EXPECT_TRUE(q("name~=Dong"));     // any language of a LanguageProperty
  EXPECT_TRUE(q("name~=^东.$"));   // one character is one code point
  EXPECT_TRUE(q("refDevice~=Device:d\\d$"));
  EXPECT_TRUE(q("tags~=^b$"));      // any element of an array
  EXPECT_FALSE(q("count~=4"));      // numbers are not strings
  EXPECT_FALSE(q("count!~=4"));
  // A bare pattern ends at a top-level ';', '|' or ')'; its own groups may hold them.
  EXPECT_TRUE(q("status~=(ko|ok);count==42"));
  EXPECT_TRUE(q("(status~=x|count==42)"));
  EXPECT_TRUE(q("status~=[;|)]|count==42"));
  EXPECT_FALSE(q("status~=[;|)]"));
  // Quoted, a pattern may hold anything.
  EXPECT_TRUE(q(R"(status~="ko|ok")"));
  EXPECT_TRUE(q(R"(quote~="\"hi\"$")"));
}

TEST_F(Q, FollowsSubAttributesAndCompoundValues) {
  EXPECT_TRUE(q("pm25.reliability>0.5"));
  EXPECT_FALSE(q("pm25.reliability>0.95"));
  EXPECT_TRUE(q("pm25.reliability.source==\"sensor\""));
  EXPECT_TRUE(q("pm25.reliability"));
  EXPECT_FALSE(q("pm25.missing"));
  EXPECT_FALSE(q("pm25.missing==1"));
  EXPECT_TRUE(q("!pm25.missing"));
  EXPECT_FALSE(q("!pm25.reliability"));
  EXPECT_TRUE(q("address[streetAddress]==\"Dongsi\""));
  EXPECT_TRUE(q("address[city.name]==\"Beijing\""));
  EXPECT_TRUE(q("address[city][district]==\"Dongcheng\""));
  EXPECT_TRUE(q("address[city]"));
  EXPECT_FALSE(q("address[zip]"));
  EXPECT_TRUE(q("!address[zip]"));
  EXPECT_FALSE(q("address[streetAddress.x]"));  // a string has no members
  EXPECT_TRUE(q("location[type]==\"Point\""));
  EXPECT_TRUE(q("location[coordinates]==116.417"));  // any element of the array
  EXPECT_TRUE(q("name[en]==\"Dongsi\""));  // a key into a languageMap picks the language
  EXPECT_FALSE(q("name[en]==\"东四\""));
  EXPECT_FALSE(q("address==\"Dongsi\""));  // an object compares with nothing
}

TEST_F(Q, ReadsMetadata) {
  EXPECT_TRUE(q("pm25.observedAt>2023-12-31T00:00:00Z"));
  EXPECT_FALSE(q("pm25.observedAt>2024-01-01T08:00:00Z"));
  EXPECT_TRUE(q("pm25.observedAt==2024-01-01"));
  EXPECT_TRUE(q("pm25.observedAt==\"2024-01-01T09:00:00+01:00\""));  // a quoted date-time, as an instant
  EXPECT_FALSE(q("pm25.observedAt==\"yesterday\""));
  EXPECT_FALSE(q("pm25.observedAt==1704096000000"));  // not a number
  EXPECT_TRUE(q("pm25.observedAt"));
  EXPECT_FALSE(q("count.observedAt"));
  EXPECT_TRUE(q("!count.observedAt"));
  EXPECT_FALSE(q("pm25.reliability.observedAt"));
  EXPECT_TRUE(q("pm25.unitCode==\"GQ\""));
  EXPECT_FALSE(q("pm25.unitCode==\"CEL\""));
  EXPECT_FALSE(q("count.unitCode"));
  EXPECT_TRUE(q("count.createdAt<2023-06-02T00:00:00Z"));
  EXPECT_TRUE(q("count.modifiedAt==2024-02-01"));
  EXPECT_FALSE(q("count.modifiedAt>2024-02-01T00:00:00Z"));
  EXPECT_TRUE(q("temperature.datasetId==urn:ngsi-ld:dataset:outdoor"));
  EXPECT_TRUE(q("temperature.datasetId==\"urn:ngsi-ld:dataset:indoor\""));
  EXPECT_FALSE(q("temperature.datasetId==urn:ngsi-ld:dataset:attic"));
  EXPECT_FALSE(q("count.datasetId"));
}

TEST_F(Q, MatchesWhenAnyDatasetInstanceMatches) {
  EXPECT_TRUE(q("temperature>10"));   // indoor
  EXPECT_TRUE(q("temperature<0"));    // outdoor
  EXPECT_FALSE(q("temperature>30"));
  EXPECT_TRUE(q("temperature==20;temperature==-5"));
  EXPECT_TRUE(q("temperature!=20"));  // the outdoor instance differs
  EXPECT_FALSE(q("temperature!=20,-5"));
  EXPECT_TRUE(q("temperature==-10..-1"));
}

TEST_F(Q, ComparesTheObjectOfRelationships) {
  EXPECT_TRUE(q("refDevice==urn:ngsi-ld:Device:d1"));
  EXPECT_TRUE(q("refDevice==\"urn:ngsi-ld:Device:d1\""));
  EXPECT_FALSE(q("refDevice==urn:ngsi-ld:Device:d2"));
  EXPECT_TRUE(q("refDevice!=urn:ngsi-ld:Device:d2"));
  EXPECT_TRUE(q("refDevice"));
}

TEST_F(Q, ComparesAnyStringOfALanguageProperty) {
  EXPECT_TRUE(q("name==\"Dongsi\""));
  EXPECT_TRUE(q("name==\"东四\""));
  EXPECT_FALSE(q("name==\"Xidan\""));
  EXPECT_TRUE(q("name!=\"Xidan\""));
  EXPECT_FALSE(q("name!=\"Dongsi\""));
}

TEST_F(Q, ComparesAnyElementOfAnArray) {
  EXPECT_TRUE(q("tags==\"a\""));
  EXPECT_TRUE(q("tags==3"));
  EXPECT_FALSE(q("tags==\"c\""));
  EXPECT_TRUE(q("tags!=\"c\""));
  EXPECT_FALSE(q("tags!=\"a\""));  // the array holds "a"
  EXPECT_TRUE(q("tags>2"));
}

TEST_F(Q, TestsExistence) {
  EXPECT_TRUE(q("pm25"));
  EXPECT_FALSE(q("humidity"));
  EXPECT_TRUE(q("!humidity"));
  EXPECT_FALSE(q("!pm25"));
  EXPECT_TRUE(q("temperature"));
}

TEST_F(Q, AndBindsTighterThanOr) {
  // count==1 | (count==42 ; status=="bad")
  EXPECT_FALSE(q("count==1|count==42;status==\"bad\""));
  EXPECT_TRUE(q("(count==1|count==42);status==\"ok\""));
  // count==42 | (count==1 ; status=="bad")
  EXPECT_TRUE(q("count==42|count==1;status==\"bad\""));
  // (count==1 ; status=="ok") | active==true
  EXPECT_TRUE(q("count==1;status==\"ok\"|active==true"));
  EXPECT_FALSE(q("count==1;(status==\"ok\"|active==true)"));
  EXPECT_TRUE(q("((count==42))"));
}

TEST_F(Q, AcceptsNestingUpTo32Levels) {
  const std::string deep = std::string(32, '(') + "count==42" + std::string(32, ')');
  EXPECT_TRUE(q(deep));
  const std::string too_deep = std::string(33, '(') + "count==42" + std::string(33, ')');
  EXPECT_EQ(error(too_deep), "q: parentheses nested deeper than 32 levels at position 32 in \"" + too_deep + "\"");
}

TEST_F(Q, NamesThePositionOfEachError) {
  EXPECT_EQ(error(""), "q: expected an attribute name at position 0 in \"\"");
  EXPECT_EQ(error("temp>>3"),
            "q: unknown operator '>>' (expected ==, !=, >, >=, <, <=, ~= or !~=) at position 4 in \"temp>>3\"");
  EXPECT_EQ(error("temp=3"),
            "q: unknown operator '=' (expected ==, !=, >, >=, <, <=, ~= or !~=) at position 4 in \"temp=3\"");
  EXPECT_EQ(error("(temp==1"), "q: expected ')' at position 8 in \"(temp==1\" (to close the '(' at position 0)");
  EXPECT_EQ(error("temp==1)"), "q: unexpected ')' with no matching '(' at position 7 in \"temp==1)\"");
  EXPECT_EQ(error("temp=="), "q: expected a value at position 6 in \"temp==\"");
  EXPECT_EQ(error("temp==1;"), "q: expected an attribute name at position 8 in \"temp==1;\"");
  EXPECT_EQ(error("temp==1|"), "q: expected an attribute name at position 8 in \"temp==1|\"");
  EXPECT_EQ(error("()"), "q: expected an attribute name at position 1 in \"()\"");
  EXPECT_EQ(error("temp==1 "), "q: expected ';', '|' or ')' at position 7 in \"temp==1 \"");
  EXPECT_EQ(error("te mp==1"), "q: expected an operator, ';', '|' or ')' at position 2 in \"te mp==1\"");
  EXPECT_EQ(error("temp==1x"), "q: invalid value \"1x\" (strings must be in double quotes) at position 6 in \"temp==1x\"");
  EXPECT_EQ(error("temp==abc"), "q: invalid value \"abc\" (strings must be in double quotes) at position 6 in \"temp==abc\"");
  EXPECT_EQ(error("temp==2024-13-01"),
            "q: invalid value \"2024-13-01\" (strings must be in double quotes) at position 6 in \"temp==2024-13-01\"");
  EXPECT_EQ(error("te{mp==1"), "q: invalid name \"te{mp\" at position 0 in \"te{mp==1\"");
  EXPECT_EQ(error("temp==\"abc"), "q: unterminated string at position 6 in \"temp==\"abc\"");
  EXPECT_EQ(error(R"(temp=="a\qb")"), "q: invalid escape in string at position 8 in \"temp==\"a\\qb\"\"");
  EXPECT_EQ(error(R"(temp=="\ud800")"),
            "q: invalid \\u escape (a high surrogate without its low half) at position 7 in \"temp==\"\\ud800\"\"");
  EXPECT_EQ(error("temp==1.."), "q: expected a value at position 9 in \"temp==1..\"");
  EXPECT_EQ(error("temp==1,"), "q: expected a value at position 8 in \"temp==1,\"");
  EXPECT_EQ(error("temp==1..\"a\""),
            "q: the bounds of a range must be two numbers, strings, dates, date-times or times at position 6 in "
            "\"temp==1..\"a\"\"");
  EXPECT_EQ(error("temp==true..false"),
            "q: the bounds of a range must be two numbers, strings, dates, date-times or times at position 6 in "
            "\"temp==true..false\"");
  EXPECT_EQ(error("temp>1..3"), "q: a range (..) is allowed only with == or != at position 6 in \"temp>1..3\"");
  EXPECT_EQ(error("temp>1,2"), "q: a list of values is allowed only with == or != at position 6 in \"temp>1,2\"");
  EXPECT_EQ(error("flag>true"), "q: true and false can be compared only with == or != at position 5 in \"flag>true\"");
  EXPECT_EQ(error("temp==1e999"), "q: number out of range at position 6 in \"temp==1e999\"");
  EXPECT_EQ(error("temp.observedAt.x"), "q: nothing may follow .observedAt at position 15 in \"temp.observedAt.x\"");
  EXPECT_EQ(error("temp[a"), "q: expected '.' or ']' at position 6 in \"temp[a\" (to close the '[' at position 4)");
  EXPECT_EQ(error("temp[]"), "q: expected a key of the compound value at position 5 in \"temp[]\"");
  EXPECT_EQ(error("temp."), "q: expected a sub-attribute name after '.' at position 5 in \"temp.\"");
  EXPECT_EQ(error("!temp==1"),
            "q: '!' (the attribute is absent) cannot be combined with an operator at position 5 in \"!temp==1\"");
  EXPECT_EQ(error("name~="), "q: expected a regular expression at position 6 in \"name~=\"");
  // Regex faults carry RE2's explanation and the position where the pattern starts.
  EXPECT_EQ(error("name~=(ab"), "q: invalid regular expression: missing ): (ab at position 6 in \"name~=(ab\"");
  EXPECT_EQ(error("name~=a{2,1}"),
            "q: invalid regular expression: invalid repetition size: {2,1} at position 6 in \"name~=a{2,1}\"");
  EXPECT_NE(error("name~=(?=a)").find("invalid regular expression"), std::string::npos) << "no look-arounds";
  EXPECT_NE(error("name~=(a)\\1").find("invalid regular expression"), std::string::npos) << "no back-references";
  EXPECT_EQ(error("name~=\"ab"), "q: unterminated regular expression at position 6 in \"name~=\"ab\"");
  const std::string long_pattern = "name~=" + std::string(kMaxRegexLength + 1, 'a');
  EXPECT_NE(error(long_pattern).find("longer than 1024 bytes at position 6"), std::string::npos);
}

TEST_F(Q, QuotesHostileInputSafelyInErrors) {
  const std::string long_query = std::string(250, 'a') + "==";
  const std::string detail = error(long_query);
  EXPECT_NE(detail.find("expected a value at position 252"), std::string::npos);
  EXPECT_LT(detail.size(), 300u);  // the query is shown cut short
  const std::string invalid_utf8 = "name==\"\xff\xfe";
  EXPECT_TRUE(is_valid_utf8(error(invalid_utf8)));
}

TEST_F(Q, ExpandsNamesWithTheContextButNotCompoundKeys) {
  model::Entity e = decode(R"({"id": "urn:x:1", "type": "T",
      "https://example.org/speed": {"type": "Property", "value": {"max": 5},
                                    "https://example.org/unit": {"type": "Property", "value": "kmh"}}})");
  json::object defs;
  defs["ex"] = "https://example.org/";
  defs["speed"] = "https://example.org/speed";
  jsonld::Context custom;
  custom.add_definitions(defs);
  custom.seal(ctx.get());
  auto r = parse_q("speed[max]==5;speed.ex:unit==\"kmh\"", custom);
  ASSERT_TRUE(r.ok()) << r.problem().detail;
  EXPECT_TRUE(r->matches(e));
  EXPECT_EQ(r->attributes(), std::vector<model::Term>{model::Term::intern("https://example.org/speed")});
  // With the core context alone, "speed" is another attribute.
  EXPECT_FALSE(parse("speed[max]==5").matches(e));
}

// Smart Data Model attributes expand to IRIs with dots in their host and path; written in full in q,
// those dots are part of the name, and only a '.' after the last '/' starts a sub-attribute.
TEST_F(Q, KeepsTheDotsOfAttributesNamedByFullIris) {
  model::Entity e = decode(R"({"id": "urn:x:1", "type": "T",
      "https://smartdatamodels.org/dataModel.Transportation/averageVehicleSpeed":
          {"type": "Property", "value": 42.5, "observedAt": "2012-03-01T08:00:00Z",
           "https://smartdatamodels.org/dataModel.Transportation/laneId": {"type": "Property", "value": 2}}})");
  const std::string speed = "https://smartdatamodels.org/dataModel.Transportation/averageVehicleSpeed";
  EXPECT_TRUE(parse(speed + "<50").matches(e));
  EXPECT_FALSE(parse(speed + ">50").matches(e));
  EXPECT_TRUE(parse(speed).matches(e));
  EXPECT_TRUE(parse(speed + ".observedAt<2012-03-02T00:00:00Z").matches(e));
  EXPECT_TRUE(parse(speed + ".https://smartdatamodels.org/dataModel.Transportation/laneId==2").matches(e));
  EXPECT_EQ(parse(speed + "<50").attributes(), std::vector<model::Term>{model::Term::intern(speed)});
  EXPECT_NE(error("https://smartdatamodels.org/{bad}<5").find("invalid name"), std::string::npos);
}

TEST_F(Q, ExposesRequiredTermsForThePlanner) {
  auto terms = parse("count>1;status==\"ok\";pm25.unitCode==\"GQ\";tags!=\"x\";count==1..5;status==\"a\",2;"
                     "dateObserved>=2024-01-01T00:00:00Z;address[city]==\"B\";pm25.reliability==1;active==true;"
                     "name~=x;pm25;(count==1|count==2)")
                   .required_terms();
  ASSERT_EQ(terms.size(), 6u);
  EXPECT_EQ(terms[0].attribute, term("count"));
  EXPECT_EQ(terms[0].op, IndexableTerm::Greater);
  EXPECT_EQ(terms[0].value, json::value(1));
  EXPECT_EQ(terms[0].kind, IndexableTerm::Kind::Number);
  EXPECT_EQ(terms[1].attribute, term("status"));
  EXPECT_EQ(terms[1].op, IndexableTerm::Equal);
  EXPECT_EQ(terms[1].value, json::value("ok"));
  EXPECT_EQ(terms[1].kind, IndexableTerm::Kind::String);
  EXPECT_EQ(terms[2].op, IndexableTerm::Range);
  EXPECT_EQ(terms[2].value, json::value(1));
  EXPECT_EQ(terms[2].upper, json::value(5));
  EXPECT_EQ(terms[3].op, IndexableTerm::OneOf);
  EXPECT_EQ(terms[3].values, (std::vector<json::value>{json::value("a"), json::value(2)}));
  EXPECT_EQ(terms[3].kinds, (std::vector<IndexableTerm::Kind>{IndexableTerm::Kind::String, IndexableTerm::Kind::Number}));
  EXPECT_EQ(terms[4].attribute, term("dateObserved"));
  EXPECT_EQ(terms[4].op, IndexableTerm::GreaterEqual);
  EXPECT_EQ(terms[4].value, json::value("2024-01-01T00:00:00Z"));
  EXPECT_EQ(terms[4].kind, IndexableTerm::Kind::DateTime);
  EXPECT_EQ(terms[4].ms, 1704067200000);
  EXPECT_EQ(terms[5].attribute, term("active"));
  EXPECT_EQ(terms[5].value, json::value(true));
  EXPECT_EQ(terms[5].kind, IndexableTerm::Kind::Boolean);

  auto decimal = parse("pm25<=7.5").required_terms();
  ASSERT_EQ(decimal.size(), 1u);
  EXPECT_EQ(decimal[0].op, IndexableTerm::LessEqual);
  EXPECT_EQ(decimal[0].value, json::value(7.5));
  auto date_range = parse("dayObserved==2024-01-01..2024-01-02").required_terms();
  ASSERT_EQ(date_range.size(), 1u);
  EXPECT_EQ(date_range[0].kind, IndexableTerm::Kind::Date);
  EXPECT_EQ(date_range[0].ms, 1704067200000);
  EXPECT_EQ(date_range[0].upper_ms, 1704067200000 + 86400000);

  EXPECT_TRUE(parse("count>1|status==\"ok\"").required_terms().empty());  // neither is required
  EXPECT_TRUE(parse("count!=1").required_terms().empty());
  EXPECT_EQ(parse("(count>1;status==\"ok\");active==true").required_terms().size(), 3u);  // nested ANDs
  EXPECT_EQ(parse("count<1").required_terms().front().op, IndexableTerm::Less);
  EXPECT_TRUE(QExpression().required_terms().empty());
}

TEST_F(Q, ListsTheAttributesItReads) {
  EXPECT_EQ(parse("count>1|pm25.observedAt>2024-01-01T00:00:00Z;!count;address[city];(name~=x)").attributes(),
            (std::vector<model::Term>{term("count"), term("pm25"), term("address"), term("name")}));
}

TEST_F(Q, TheEmptyExpressionMatchesEverything) {
  EXPECT_TRUE(QExpression().matches(station));
  EXPECT_TRUE(QExpression().attributes().empty());
}

TEST_F(Q, RegexesHaveLinearCostAndBoundedInputs) {
  std::string as(4000, 'a');
  model::Entity e = decode(("{\"id\": \"urn:x:1\", \"type\": \"T\", \"text\": {\"type\": \"Property\", \"value\": \"" +
                            as + "\"}, \"long\": {\"type\": \"Property\", \"value\": \"" + as + as + "\"}}")
                               .c_str());
  const auto started = std::chrono::steady_clock::now();
  // Catastrophic for a backtracking engine: 2^4000 paths.
  EXPECT_FALSE(parse("text~=(a*)*b").matches(e));
  EXPECT_FALSE(parse("text~=(a|aa)+$b").matches(e));
  EXPECT_TRUE(parse("text~=^(a+)+$").matches(e));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  // Strings above 4 KB are never matched, and do not satisfy !~= either.
  EXPECT_FALSE(parse("long~=a").matches(e));
  EXPECT_FALSE(parse("long!~=b").matches(e));
}

TEST_F(Q, ParsesHostileInputInLinearTime) {
  const auto started = std::chrono::steady_clock::now();
  std::string many;
  for (int i = 0; i < 50000; ++i) many += "count>1;";
  many += "count==42";
  EXPECT_TRUE(q(many));
  EXPECT_NE(error(std::string(100000, '(')).find("nested deeper than 32 levels at position 32"), std::string::npos);
  EXPECT_NE(error("a==" + std::string(100000, '1') + "x").find("invalid value"), std::string::npos);
  EXPECT_NE(error("a" + std::string(100000, '=')).find("unknown operator"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST_F(Q, EvaluatesConcurrently) {
  const QExpression expression = parse("name~=(?i)dong.i;count==40..45|status==\"x\"");
  std::atomic<int> matched{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) matched += expression.matches(station) ? 1 : 0;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(matched.load(), 4000);
}

// The regex wrapper: RE2 is tested by its authors; these check what we rely on.
TEST(QRegex, SearchesAnywhereAndHonoursAnchorsCaseAndUtf8) {
  auto search = [](std::string_view pattern, std::string_view text) {
    Regex re;
    std::string error;
    EXPECT_TRUE(re.compile(pattern, error)) << pattern << ": " << error;
    return re.search(text);
  };
  EXPECT_TRUE(search("abc", "xxabcxx"));
  EXPECT_FALSE(search("^bc", "abc"));
  EXPECT_TRUE(search("^\\d{3}-\\d{4}$", "555-1234"));
  EXPECT_TRUE(search("\\bcat\\b", "a cat here"));
  EXPECT_FALSE(search("\\bcat\\b", "concatenate"));
  EXPECT_TRUE(search("(?i)^hello$", "HeLLo"));
  EXPECT_TRUE(search("^东+四$", "东东四"));
  EXPECT_FALSE(search("a", std::string(kMaxRegexSubjectLength + 1, 'a'))) << "over-long subjects never match";
}

TEST(QRegex, RefusesWhatCannotRunInLinearTime) {
  for (const char* bad : {"(a", "a)", "[a", "*a", "(a)\\1", "(?<=a)b", "((a{1000}){1000}){1000}"}) {
    Regex re;
    std::string error;
    EXPECT_FALSE(re.compile(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  Regex re;
  std::string error;
  EXPECT_FALSE(re.compile(std::string(kMaxRegexLength + 1, 'a'), error));
}

}  // namespace
}  // namespace ct::query
