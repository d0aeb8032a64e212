#pragma once
// Payload codecs: how a device's bytes become readings and its commands become bytes. The extension
// point for payload formats: a codec is one class in one file (ingest/<name>_codec.cpp), registered
// under a name by one line (CT_BUILT_IN_CODECS in codec.cpp, or register_codec() from anywhere,
// e.g. a test).
//
// Which codec decodes a message:
//   - A device is provisioned with a `protocol` (IoT Agent API). The codec for it is the one
//     registered under that name (case-insensitive), else the first whose recognizes() accepts it
//     (UltraLight: any protocol naming "ul"/"ultralight"; JSON: any naming "json"), else none.
//   - The IoT Agent's own formats (UltraLight, JSON) follow the transport, as the IoT Agents do:
//     the HTTP or CoAP resource names one (/iot/d, /iot/json); over MQTT the payload's first
//     character tells ('{' or '[': JSON). A device whose protocol names any other codec has every
//     message decoded by that codec, whatever the transport.
//   - Commands to a device are encoded by its codec (JSON when its protocol names none), and its
//     answers decoded by it.
//
// Contract for a codec: stateless or internally synchronized. decode() and the others are called
// concurrently from every ingest thread (HTTP workers, the MQTT and CoAP threads, the command
// threads), for the whole life of the program: a registered codec is never destroyed.
// Registration is for start-up (static initialization or before serving); lookups may run on any
// thread at any time.
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json.hpp"
#include "common/result.hpp"
#include "ingest/measure.hpp"

namespace ct::ingest {

class PayloadCodec {
 public:
  virtual ~PayloadCodec() = default;

  // Decodes a measure payload. BadRequestData for what does not parse (becomes a dropped
  // malformed_payload); PayloadTooLarge beyond `max_payload_bytes`.
  virtual Result<DecodedPayload> decode(std::string_view payload, std::size_t max_payload_bytes) const = 0;
  // Decodes a device's answer to commands: one result per command answered. A result may name the
  // device it comes from (CommandResult::device); one naming another device is refused by the caller.
  virtual Result<std::vector<CommandResult>> decode_command_results(std::string_view payload,
                                                                    std::size_t max_payload_bytes) const = 0;
  // The bytes that carry `commands` (name, value) to the device, in one message.
  virtual std::string encode_commands(std::string_view device_id,
                                      std::span<const std::pair<std::string, json::value>> commands) const = 0;
  // The Content-Type of what encode_commands() makes (HTTP push and poll).
  virtual std::string_view content_type() const = 0;
  // Whether a provisioning `protocol` (lower-cased) that is not its registered name means this codec.
  virtual bool recognizes(std::string_view protocol) const {
    (void)protocol;
    return false;
  }
};

using CodecFactory = std::function<std::unique_ptr<PayloadCodec>()>;

// Registers a codec under `name` (a provisioning protocol). False if the name is taken (compared
// case-insensitively). Usable as a static initializer:
//   static const bool kRegistered = register_codec("Acme-CSV", [] { return std::make_unique<AcmeCsv>(); });
bool register_codec(std::string name, CodecFactory factory);

// The codec registered under `name` (case-insensitive), or null.
const PayloadCodec* codec_named(std::string_view name);
// The codec a provisioning `protocol` means (see above), or null.
const PayloadCodec* codec_for_protocol(std::string_view protocol);

// The built-in codecs of the IoT Agent formats (also registered as "UltraLight" and "JSON").
const PayloadCodec& ultralight_codec();
const PayloadCodec& json_codec();

}  // namespace ct::ingest
