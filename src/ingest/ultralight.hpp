#pragma once
// UltraLight 2.0, the text protocol of the FIWARE IoT Agent for UltraLight, as devices send it over
// MQTT (/<apikey>/<device_id>/attrs), HTTP (POST /iot/d?k=…&i=…) and CoAP.
//
// Measures:  t|23.5|h|40
//   - key|value pairs separated by '|'. There is no escaping: '|' and '#' always separate, so
//     neither can occur in a key or a value.
//   - Several readings in one payload: groups separated by '#' (t|23.5#t|24.1). Blank groups (a
//     trailing '#' or line break) are skipped.
//   - The time of observation: a leading timestamp (2024-01-01T08:00:00Z|t|23.5, the UltraLight 2.0
//     syntax) or a TimeInstant|<date-time> pair anywhere in the group. It becomes observed_at, not
//     a measure.
//   - Keys and values are trimmed of spaces, tabs and line breaks. A value may be empty (the empty
//     text); a key may not. One '|' before the first key is ignored, as the IoT Agent does.
//   - Values are text: UltraLight is untyped, the provisioned attribute type gives them meaning.
//
// Command answers (on /cmdexe):  <device>@<command>|<result>
#include <string_view>

#include "common/result.hpp"
#include "ingest/measure.hpp"

namespace ct::ingest {

// Decodes a measure payload. Fails with BadRequestData naming the group and the byte offset of the
// fault (an odd number of fields, an empty key, a TimeInstant that is not a date-time), or when the
// payload is not UTF-8 or holds no measure group; with PayloadTooLarge beyond `max_payload_bytes`.
Result<DecodedPayload> decode_ultralight(std::string_view payload,
                                         std::size_t max_payload_bytes = kDefaultMaxPayloadBytes);

// Decodes a command answer. The result is everything after the first '|' (trimmed; empty if there
// is no '|'), as a JSON string. Fails with BadRequestData if there is no '@', or the device or the
// command is empty.
Result<CommandResult> decode_ultralight_command_result(std::string_view payload,
                                                       std::size_t max_payload_bytes = kDefaultMaxPayloadBytes);

}  // namespace ct::ingest
