// The JSON codec of the IoT Agent for JSON (json_payload.hpp), registered as "JSON" in codec.cpp.
#include "ingest/codec.hpp"
#include "ingest/json_payload.hpp"

namespace ct::ingest {
namespace {

class JsonCodec final : public PayloadCodec {
 public:
  Result<DecodedPayload> decode(std::string_view payload, std::size_t max_payload_bytes) const override {
    return decode_json(payload, max_payload_bytes);
  }
  Result<std::vector<CommandResult>> decode_command_results(std::string_view payload,
                                                            std::size_t max_payload_bytes) const override {
    return decode_json_command_results(payload, max_payload_bytes);
  }
  // {"<cmd>": value, ...}
  std::string encode_commands(std::string_view,
                              std::span<const std::pair<std::string, json::value>> commands) const override {
    json::object o;
    for (const auto& [command, value] : commands) o[command] = value;
    return to_text(o);
  }
  std::string_view content_type() const override { return "application/json"; }
  bool recognizes(std::string_view protocol) const override { return protocol.find("json") != std::string_view::npos; }
};

}  // namespace

std::unique_ptr<PayloadCodec> make_json_codec() { return std::make_unique<JsonCodec>(); }

}  // namespace ct::ingest
