// The built-in codecs behind the registry: which protocol names which codec, and how each carries
// commands (the decoders themselves are tested in ultralight_test and json_payload_test).
#include "ingest/codec.hpp"

#include <gtest/gtest.h>

namespace ct::ingest {
namespace {

TEST(Codecs, ProtocolsOfTheIoTAgentsNameTheirCodec) {
  EXPECT_EQ(codec_for_protocol("PDI-IoTA-UltraLight"), &ultralight_codec());
  EXPECT_EQ(codec_for_protocol("IoTA-UL"), &ultralight_codec());
  EXPECT_EQ(codec_for_protocol("UltraLight"), &ultralight_codec());
  EXPECT_EQ(codec_for_protocol("PDI-IoTA-JSON"), &json_codec());
  EXPECT_EQ(codec_for_protocol("json"), &json_codec());
  EXPECT_EQ(codec_for_protocol(""), nullptr);
  EXPECT_EQ(codec_for_protocol("LoRaWAN"), nullptr);
}

TEST(Codecs, UltraLightCarriesCommandsAsDeviceAtCommandPipeValue) {
  const std::pair<std::string, json::value> commands[] = {{"ping", json::value("42")}, {"dim", json::value(30)}};
  EXPECT_EQ(ultralight_codec().encode_commands("lamp1", std::span(commands).first(1)), "lamp1@ping|42");
  EXPECT_EQ(ultralight_codec().encode_commands("lamp1", commands), "lamp1@ping|42#lamp1@dim|30");
  EXPECT_EQ(ultralight_codec().content_type(), "text/plain");
  auto answer = ultralight_codec().decode_command_results("lamp1@ping|pong", kDefaultMaxPayloadBytes);
  ASSERT_TRUE(answer.ok());
  ASSERT_EQ(answer->size(), 1u);
  EXPECT_EQ((*answer)[0].device, "lamp1");
  EXPECT_EQ((*answer)[0].command, "ping");
}

TEST(Codecs, JsonCarriesCommandsAsOneObject) {
  const std::pair<std::string, json::value> commands[] = {{"ping", json::value("42")}, {"dim", json::value(30)}};
  EXPECT_EQ(json::parse(json_codec().encode_commands("lamp1", commands)), json::parse(R"({"ping":"42","dim":30})"));
  EXPECT_EQ(json_codec().content_type(), "application/json");
  auto answer = json_codec().decode_command_results(R"({"ping":"pong"})", kDefaultMaxPayloadBytes);
  ASSERT_TRUE(answer.ok());
  ASSERT_EQ(answer->size(), 1u);
  EXPECT_TRUE((*answer)[0].device.empty());
}

}  // namespace
}  // namespace ct::ingest
