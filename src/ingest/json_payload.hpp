#pragma once
// JSON payloads, as the FIWARE IoT Agent for JSON takes them over MQTT (/<apikey>/<device_id>/attrs),
// HTTP (POST /iot/json?k=…&i=…) and CoAP.
//
// Measures:  {"t":23.5,"h":40,"TimeInstant":"2024-01-01T08:00:00Z"}
//   - An object of object_id → value is one reading; an array of such objects is one reading each.
//   - TimeInstant (a date-time string) becomes the reading's observed_at, not a measure.
//   - Nested objects and arrays are kept whole, as json::value, for the attribute type to judge.
//   - The payload must be valid UTF-8 JSON, at most kMaxJsonPayloadDepth levels deep. Integers
//     beyond 64 bits (20 digits and more) are refused: simdjson 3.0 does not read them.
//
// Command answers (on /cmdexe):  {"<command>": <result>}, one member per command answered.
//
// Parsed with simdjson, with one parser per thread that keeps its buffers between payloads.
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "ingest/measure.hpp"

namespace ct::ingest {

// Levels of objects and arrays, the outermost one included.
inline constexpr std::size_t kMaxJsonPayloadDepth = 32;

// Decodes a measure payload. Fails with BadRequestData when the payload is not JSON (or not UTF-8,
// or too deep), is not an object or an array of objects, or has a TimeInstant that is not a
// date-time; with PayloadTooLarge beyond `max_payload_bytes`. An empty array is no reading.
Result<DecodedPayload> decode_json(std::string_view payload, std::size_t max_payload_bytes = kDefaultMaxPayloadBytes);

// Decodes a command answer: one CommandResult per member, in order, with an empty device. Fails with
// BadRequestData unless the payload is a non-empty JSON object whose keys are non-empty.
Result<std::vector<CommandResult>> decode_json_command_results(
    std::string_view payload, std::size_t max_payload_bytes = kDefaultMaxPayloadBytes);

}  // namespace ct::ingest
