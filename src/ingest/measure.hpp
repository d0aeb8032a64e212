#pragma once
// What a device payload decodes to, before the device's provisioning gives it meaning: keys as the
// device wrote them (object_id) and values as the payload carried them. The decoders
// (ultralight.hpp, json_payload.hpp) produce it; conversion.hpp turns a value into an attribute value.
//
// Decoding runs for every message on the ingest path, so a decoded payload is flat and cheap: keys
// and texts are views, not strings, and they all point into one buffer the payload owns.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/json.hpp"
#include "common/time.hpp"

namespace ct::ingest {

// Payloads larger than this are refused unless a decoder is given another limit. Devices send tens
// to hundreds of bytes; the limit bounds what one message can cost.
inline constexpr std::size_t kDefaultMaxPayloadBytes = 64 * 1024;

// The measure key that carries the time of observation instead of a value (as in the IoT Agents).
inline constexpr std::string_view kTimeInstantKey = "TimeInstant";

using Null = std::monostate;

// A measured value as the payload carried it. UltraLight values are always text (the protocol is
// untyped); JSON values keep their JSON type: numbers with a fraction or exponent (or beyond int64)
// as double, other numbers as int64, and nested objects and arrays whole, as a json::value.
using MeasureValue = std::variant<Null, double, std::int64_t, bool, std::string_view, json::value>;

struct Measure {
  std::string_view key;  // the object_id the device uses, e.g. "t"
  MeasureValue value;
};

// The measures a device took together: one UltraLight group, or one JSON object.
struct Reading {
  std::vector<Measure> measures;  // in payload order; a key repeated in one reading appears twice
  std::optional<Timestamp> observed_at;  // from TimeInstant (or UltraLight's leading timestamp)
};

// Storage for the text a decoded payload refers to. Its buffer is sized once, when decoding starts,
// and never moves: views into it stay valid while the owner lives, however often it is moved.
class PayloadText {
 public:
  PayloadText() = default;
  explicit PayloadText(std::size_t capacity);
  PayloadText(PayloadText&& other) noexcept;
  PayloadText& operator=(PayloadText&& other) noexcept;

  // Copies `text` in and returns the copy. Text beyond the capacity goes to a block of its own
  // (the decoders never need that: decoded text is never longer than the payload it came from).
  std::string_view keep(std::string_view text);

 private:
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
  std::vector<std::unique_ptr<char[]>> overflow_;
};

// A decoded payload: one reading per UltraLight group or per JSON object. Every key and text view
// in `readings` points into `text`, so the payload it came from may be dropped at once. Move-only:
// a copy would point into the original's storage.
struct DecodedPayload {
  std::vector<Reading> readings;
  PayloadText text;

  std::size_t measure_count() const;
};

// A device's answer to a command (on /cmdexe or its HTTP equivalent). Rare, so it owns its text.
struct CommandResult {
  std::string device;   // UltraLight answers name the device; JSON ones leave it empty (the topic names it)
  std::string command;
  json::value result;   // UltraLight: a string; JSON: whatever the device sent
};

// parse_datetime, limited to the instants format_datetime writes back as ISO 8601: years 0000 to 9999
// in UTC (0000-01-01T00:00:00+01:00 would otherwise be year -1, which no reader takes).
std::optional<Timestamp> parse_instant(std::string_view text);

// For problem details: the value as short, printable, valid-UTF-8 text, JSON-quoted if it is text,
// and cut to about `max_bytes` (with "…" when cut).
std::string describe(const MeasureValue& value, std::size_t max_bytes = 48);
std::string describe_text(std::string_view text, std::size_t max_bytes = 48);

}  // namespace ct::ingest
