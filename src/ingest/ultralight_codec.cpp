// The UltraLight 2.0 codec (ultralight.hpp), registered as "UltraLight" in codec.cpp.
#include "ingest/codec.hpp"
#include "ingest/ultralight.hpp"

namespace ct::ingest {
namespace {

class UltraLightCodec final : public PayloadCodec {
 public:
  Result<DecodedPayload> decode(std::string_view payload, std::size_t max_payload_bytes) const override {
    return decode_ultralight(payload, max_payload_bytes);
  }
  Result<std::vector<CommandResult>> decode_command_results(std::string_view payload,
                                                            std::size_t max_payload_bytes) const override {
    auto decoded = decode_ultralight_command_result(payload, max_payload_bytes);
    if (!decoded) return decoded.problem();
    std::vector<CommandResult> out;
    out.push_back(std::move(decoded).value());
    return out;
  }
  // <device>@<cmd>|<value>, several joined by '#'.
  std::string encode_commands(std::string_view device_id,
                              std::span<const std::pair<std::string, json::value>> commands) const override {
    std::string out;
    for (const auto& [command, value] : commands) {
      if (!out.empty()) out.push_back('#');
      out.append(device_id).append("@").append(command).append("|");
      out += value.is_string() ? std::string(value.as_string()) : to_text(value);
    }
    return out;
  }
  std::string_view content_type() const override { return "text/plain"; }
  bool recognizes(std::string_view protocol) const override {
    return protocol.find("ul") != std::string_view::npos || protocol.find("ultralight") != std::string_view::npos;
  }
};

}  // namespace

std::unique_ptr<PayloadCodec> make_ultralight_codec() { return std::make_unique<UltraLightCodec>(); }

}  // namespace ct::ingest
