#include "ingest/ultralight.hpp"

#include <algorithm>
#include <string>

#include "common/text.hpp"

namespace ct::ingest {
namespace {

bool is_ul_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim_ul_blanks(std::string_view s) {
  while (!s.empty() && is_ul_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ul_blank(s.back())) s.remove_suffix(1);
  return s;
}

Problem too_large(std::size_t size, std::size_t limit) {
  return {ProblemKind::PayloadTooLarge, "UltraLight payload of " + std::to_string(size) +
                                            " bytes exceeds the limit of " + std::to_string(limit) + " bytes"};
}

// Walks the '|'-separated fields of one group. Offsets are from the start of the whole payload, so
// that a problem points at the byte a person can find.
class FieldCursor {
 public:
  FieldCursor(std::string_view payload, std::size_t begin, std::size_t end)
      : payload_(payload), pos_(begin), end_(end) {}

  // The next field, trimmed, and the offset where it starts (after leading blanks).
  std::string_view next(std::size_t& offset) {
    const std::size_t start = pos_;
    const auto bar = std::find(payload_.begin() + static_cast<std::ptrdiff_t>(start),
                               payload_.begin() + static_cast<std::ptrdiff_t>(end_), '|');
    const std::size_t stop = static_cast<std::size_t>(bar - payload_.begin());
    pos_ = stop + 1;
    std::string_view field = payload_.substr(start, stop - start);
    std::size_t lead = 0;
    while (lead < field.size() && is_ul_blank(field[lead])) ++lead;
    offset = start + lead;
    return trim_ul_blanks(field);
  }

 private:
  std::string_view payload_;
  std::size_t pos_;
  std::size_t end_;
};

std::string group_name(std::size_t number) { return "UltraLight group " + std::to_string(number); }

std::string at_byte(std::size_t offset) { return " at byte " + std::to_string(offset); }

// Decodes the group payload[begin, end) into a reading appended to `readings`; a blank group adds none.
Status decode_group(std::string_view payload, std::size_t begin, std::size_t end, std::size_t number,
                    std::vector<Reading>& readings) {
  while (begin < end && is_ul_blank(payload[begin])) ++begin;
  if (begin == end) return {};
  if (payload[begin] == '|') ++begin;  // `|t|23`, which the IoT Agent accepts

  const auto first = payload.begin() + static_cast<std::ptrdiff_t>(begin);
  const auto last = payload.begin() + static_cast<std::ptrdiff_t>(end);
  const std::size_t field_count = static_cast<std::size_t>(std::count(first, last, '|')) + 1;
  FieldCursor fields(payload, begin, end);
  Reading reading;
  reading.measures.reserve(field_count / 2);
  std::size_t offset = 0;

  if (field_count % 2 == 1) {
    // Either the UltraLight 2.0 leading timestamp, or a key without a value.
    const std::string_view head = fields.next(offset);
    reading.observed_at = parse_instant(head);
    if (!reading.observed_at) {
      if (field_count == 1)
        return bad_request(group_name(number) + ": " + describe_text(head) + at_byte(offset) +
                           " is neither a key|value pair nor a timestamp");
      FieldCursor rest(payload, begin, end);
      std::string_view last_field;
      for (std::size_t i = 0; i < field_count; ++i) last_field = rest.next(offset);
      return bad_request(group_name(number) + " has " + std::to_string(field_count) +
                         " fields, not key|value pairs (nor a leading timestamp): " + describe_text(last_field) +
                         at_byte(offset) + " has no value");
    }
  }

  for (std::size_t i = field_count % 2; i < field_count; i += 2) {
    std::size_t key_offset = 0, value_offset = 0;
    const std::string_view key = fields.next(key_offset);
    const std::string_view value = fields.next(value_offset);
    if (key.empty()) return bad_request(group_name(number) + ": empty key" + at_byte(key_offset));
    if (key == kTimeInstantKey) {
      reading.observed_at = parse_instant(value);
      if (!reading.observed_at)
        return bad_request(group_name(number) + ": TimeInstant " + describe_text(value) + at_byte(value_offset) +
                           " is not an ISO 8601 date-time");
      continue;
    }
    reading.measures.push_back({key, value});
  }
  readings.push_back(std::move(reading));
  return {};
}

}  // namespace

Result<DecodedPayload> decode_ultralight(std::string_view payload, std::size_t max_payload_bytes) {
  if (payload.size() > max_payload_bytes) return too_large(payload.size(), max_payload_bytes);
  if (!is_valid_utf8(payload)) return bad_request("UltraLight payload is not valid UTF-8");

  DecodedPayload decoded;
  decoded.text = PayloadText(payload.size());
  // One copy, and every key and value is a view into it.
  const std::string_view text = decoded.text.keep(payload);
  std::size_t number = 0;
  for (std::size_t begin = 0; begin <= text.size();) {
    const std::size_t hash = std::min(text.find('#', begin), text.size());
    if (auto st = decode_group(text, begin, hash, ++number, decoded.readings); !st) return st.problem();
    begin = hash + 1;
  }
  if (decoded.readings.empty()) return bad_request("UltraLight payload has no measures");
  return decoded;
}

Result<CommandResult> decode_ultralight_command_result(std::string_view payload, std::size_t max_payload_bytes) {
  if (payload.size() > max_payload_bytes) return too_large(payload.size(), max_payload_bytes);
  if (!is_valid_utf8(payload)) return bad_request("UltraLight command result is not valid UTF-8");
  const std::string_view text = trim_ul_blanks(payload);
  const std::size_t bar = text.find('|');
  const std::string_view head = text.substr(0, bar);
  const std::size_t at = head.find('@');
  if (at == std::string_view::npos)
    return bad_request("UltraLight command result " + describe_text(text) +
                       " has no '@': expected <device>@<command>|<result>");
  const std::string_view device = trim_ul_blanks(head.substr(0, at));
  const std::string_view command = trim_ul_blanks(head.substr(at + 1));
  if (device.empty()) return bad_request("UltraLight command result " + describe_text(text) + " names no device");
  if (command.empty()) return bad_request("UltraLight command result " + describe_text(text) + " names no command");
  const std::string_view result = bar == std::string_view::npos ? std::string_view() : trim_ul_blanks(text.substr(bar + 1));
  return CommandResult{std::string(device), std::string(command), json::string(result)};
}

}  // namespace ct::ingest
