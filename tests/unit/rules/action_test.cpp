// Rule actions through their one registration point (the Action variant): each registered type is
// parsed by its name, takes the part in firing and clearing its type declares, and refuses what it
// cannot run with a message naming the member.
#include "rules/action.hpp"

#include <gtest/gtest.h>

#include "jsonld/context_store.hpp"

namespace ct::rules {
namespace {

class ActionTest : public ::testing::Test {
 protected:
  Result<Action> parse(const char* text) { return parse_action(json::parse(text), 0, *contexts_.core()); }
  jsonld::ContextStore contexts_;
};

TEST_F(ActionTest, EachRegisteredActionIsParsedByItsName) {
  const std::pair<const char*, std::string_view> cases[] = {
      {R"({"alert":{"category":"environment"}})", "alert"},
      {R"({"incident":{}})", "incident"},
      {R"({"update":{"attributes":{"on":{"type":"Property","value":true}}}})", "update"},
      {R"({"command":{"device":"urn:ngsi-ld:Lamp:1","command":"switchOn"}})", "command"},
      {R"({"notify":{"uri":"http://127.0.0.1:9/hook"}})", "notify"}};
  for (const auto& [text, name] : cases) {
    auto action = parse(text);
    ASSERT_TRUE(action.ok()) << text << ": " << action.problem().detail;
    EXPECT_EQ(action_name(*action), name);
    EXPECT_EQ(runs_first(*action), name == "alert") << name;
    EXPECT_EQ(runs_on_clear(*action), name == "alert" || name == "notify") << name;
  }
  EXPECT_EQ(action_target(parse(R"({"command":{"device":"urn:ngsi-ld:Lamp:1","command":"switchOn"}})").value()),
            "urn:ngsi-ld:Lamp:1");
  EXPECT_EQ(action_target(parse(R"({"update":{"attributes":{"on":{"type":"Property","value":true}}}})").value()), "");
}

TEST_F(ActionTest, RefusalsNameTheMemberAtFault) {
  auto detail = [&](const char* text) {
    auto action = parse(text);
    EXPECT_FALSE(action.ok()) << text;
    return action ? std::string() : action.problem().detail;
  };
  EXPECT_EQ(detail(R"({"explode":{}})"), "actions[0]: unknown action \"explode\" (alert, incident, update, command, notify)");
  EXPECT_EQ(detail(R"({"alert":{}, "notify":{}})"),
            "actions[0]: must be an object with one member: alert, incident, update, command or notify");
  EXPECT_EQ(detail(R"({"alert":{}})"), "actions[0].alert.category: is required");
  EXPECT_EQ(detail(R"({"alert":[]})"), "actions[0].alert: must be an object");
  EXPECT_EQ(detail(R"({"command":{"device":"lamp","command":"on"}})"), "actions[0].command.device: must be a URI");
  EXPECT_EQ(detail(R"({"notify":{"uri":"urn:citytwin:websocket"}})"),
            "actions[0].notify.uri: must be an http, https or mqtt URI");
}

}  // namespace
}  // namespace ct::rules
