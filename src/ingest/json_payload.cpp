#include "ingest/json_payload.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

namespace ct::ingest {
namespace {

namespace dom = simdjson::dom;

// One simdjson parser per thread. It keeps its buffers (and the padded copy of the input that
// simdjson reads ahead into) at the size of the largest payload seen, so decoding allocates nothing
// inside simdjson once a thread has warmed up. The views it hands out live until the next parse on
// this thread: the decoders copy what they keep into the DecodedPayload before returning.
class ThreadParser {
 public:
  simdjson::simdjson_result<dom::element> parse(std::string_view payload) {
    // Sets the depth limit, which every later growth of the parser keeps.
    if (setup_error_) setup_error_ = parser_.allocate(kInitialCapacity, kMaxJsonPayloadDepth);
    if (setup_error_) return setup_error_;
    if (payload.size() + simdjson::SIMDJSON_PADDING > input_capacity_) {
      input_capacity_ = std::max(payload.size(), kInitialCapacity) + simdjson::SIMDJSON_PADDING;
      input_ = std::make_unique_for_overwrite<char[]>(input_capacity_);
    }
    std::memcpy(input_.get(), payload.data(), payload.size());
    std::memset(input_.get() + payload.size(), 0, simdjson::SIMDJSON_PADDING);
    return parser_.parse(input_.get(), payload.size(), /*realloc_if_needed=*/false);
  }

 private:
  static constexpr std::size_t kInitialCapacity = 4096;
  dom::parser parser_;
  simdjson::error_code setup_error_ = simdjson::UNINITIALIZED;
  std::unique_ptr<char[]> input_;
  std::size_t input_capacity_ = 0;
};

Problem parse_problem(simdjson::error_code error, std::string_view what) {
  switch (error) {
    case simdjson::EMPTY: return bad_request("empty JSON " + std::string(what));
    case simdjson::UTF8_ERROR: return bad_request("JSON " + std::string(what) + " is not valid UTF-8");
    case simdjson::DEPTH_ERROR:
      return bad_request("JSON " + std::string(what) + " nests deeper than " + std::to_string(kMaxJsonPayloadDepth) +
                         " levels");
    case simdjson::NUMBER_ERROR:
      return bad_request("JSON " + std::string(what) + " has a malformed or out-of-range number");
    case simdjson::MEMALLOC:
    case simdjson::CAPACITY: return {ProblemKind::InternalError, "no memory to parse a JSON " + std::string(what)};
    default: return bad_request("malformed JSON " + std::string(what) + ": " + simdjson::error_message(error));
  }
}

Result<dom::element> parse(std::string_view payload, std::size_t max_payload_bytes, std::string_view what) {
  if (payload.size() > max_payload_bytes)
    return Problem{ProblemKind::PayloadTooLarge, "JSON " + std::string(what) + " of " + std::to_string(payload.size()) +
                                                     " bytes exceeds the limit of " +
                                                     std::to_string(max_payload_bytes) + " bytes"};
  thread_local ThreadParser parser;
  dom::element root;
  if (const auto error = parser.parse(payload).get(root)) return parse_problem(error, what);
  return root;
}

std::string_view type_name(dom::element_type type) {
  switch (type) {
    case dom::element_type::ARRAY: return "an array";
    case dom::element_type::OBJECT: return "an object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE: return "a number";
    case dom::element_type::STRING: return "a string";
    case dom::element_type::BOOL: return "a boolean";
    case dom::element_type::NULL_VALUE: return "null";
  }
  return "a JSON value";
}

// Nested values leave simdjson's buffers as Boost.JSON values. Duplicate keys: the last one wins, as
// in the JavaScript the IoT Agents run on.
json::value to_json(dom::element element) {
  switch (element.type()) {
    case dom::element_type::OBJECT: {
      const dom::object members = element.get_object().value_unsafe();
      json::object out;
      out.reserve(members.size());
      for (const auto [key, value] : members) out.insert_or_assign(key, to_json(value));
      return out;
    }
    case dom::element_type::ARRAY: {
      const dom::array items = element.get_array().value_unsafe();
      json::array out;
      out.reserve(items.size());
      for (const dom::element item : items) out.push_back(to_json(item));
      return out;
    }
    case dom::element_type::INT64: return element.get_int64().value_unsafe();
    case dom::element_type::UINT64: return element.get_uint64().value_unsafe();
    case dom::element_type::DOUBLE: return element.get_double().value_unsafe();
    case dom::element_type::STRING: return json::string(element.get_string().value_unsafe());
    case dom::element_type::BOOL: return element.get_bool().value_unsafe();
    case dom::element_type::NULL_VALUE: return nullptr;
  }
  return nullptr;
}

MeasureValue to_measure_value(dom::element element, PayloadText& text) {
  switch (element.type()) {
    case dom::element_type::INT64: return element.get_int64().value_unsafe();
    // Beyond int64: a double, like any JSON number that is not a small integer.
    case dom::element_type::UINT64: return static_cast<double>(element.get_uint64().value_unsafe());
    case dom::element_type::DOUBLE: return element.get_double().value_unsafe();
    case dom::element_type::STRING: return text.keep(element.get_string().value_unsafe());
    case dom::element_type::BOOL: return element.get_bool().value_unsafe();
    case dom::element_type::NULL_VALUE: return Null{};
    case dom::element_type::OBJECT:
    case dom::element_type::ARRAY: return to_json(element);
  }
  return Null{};
}

Status decode_reading(dom::object members, DecodedPayload& out) {
  Reading reading;
  reading.measures.reserve(members.size());
  for (const auto [key, value] : members) {
    if (key == kTimeInstantKey) {
      std::string_view text;
      const bool is_text = value.get_string().get(text) == simdjson::SUCCESS;
      const auto when = is_text ? parse_instant(text) : std::nullopt;
      if (!when)
        return bad_request("TimeInstant " + (is_text ? describe_text(text) : std::string(type_name(value.type()))) +
                           " is not an ISO 8601 date-time");
      reading.observed_at = when;
      continue;
    }
    reading.measures.push_back({out.text.keep(key), to_measure_value(value, out.text)});
  }
  out.readings.push_back(std::move(reading));
  return {};
}

}  // namespace

Result<DecodedPayload> decode_json(std::string_view payload, std::size_t max_payload_bytes) {
  auto root = parse(payload, max_payload_bytes, "payload");
  if (!root) return std::move(root).problem();

  DecodedPayload decoded;
  // Decoded text is never longer than its JSON form, so this one buffer holds every key and string.
  decoded.text = PayloadText(payload.size());
  if (root->is_object()) {
    if (auto st = decode_reading(root->get_object().value_unsafe(), decoded); !st) return st.problem();
    return decoded;
  }
  if (!root->is_array())
    return bad_request("a JSON measure payload must be an object or an array of objects, not " +
                       std::string(type_name(root->type())));
  const dom::array items = root->get_array().value_unsafe();
  decoded.readings.reserve(items.size());
  std::size_t index = 0;
  for (const dom::element item : items) {
    if (!item.is_object())
      return bad_request("element " + std::to_string(index) + " of the JSON measure array is " +
                         std::string(type_name(item.type())) + ", not an object");
    if (auto st = decode_reading(item.get_object().value_unsafe(), decoded); !st) return st.problem();
    ++index;
  }
  return decoded;
}

Result<std::vector<CommandResult>> decode_json_command_results(std::string_view payload,
                                                               std::size_t max_payload_bytes) {
  auto root = parse(payload, max_payload_bytes, "command result");
  if (!root) return std::move(root).problem();
  dom::object members;
  if (root->get(members) != simdjson::SUCCESS || members.size() == 0)
    return bad_request("a JSON command result must be an object with a member per command: {\"<command>\": <result>}");
  std::vector<CommandResult> results;
  results.reserve(members.size());
  for (const auto [key, value] : members) {
    if (key.empty()) return bad_request("a JSON command result names an empty command");
    results.push_back({std::string(), std::string(key), to_json(value)});
  }
  return results;
}

}  // namespace ct::ingest
