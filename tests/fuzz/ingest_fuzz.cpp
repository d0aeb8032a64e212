// libFuzzer target for the device payload decoders, provisioning bodies and MQTT topics. The input
// is decoded as an UltraLight payload, a JSON payload, an UltraLight and a JSON command answer, a
// provisioning body and a topic, and compiled as an expression. Whatever
// is refused must be refused with a BadRequestData (or PayloadTooLarge) that says something; whatever
// is accepted is checked:
//   - UltraLight: keys and values hold no separator and no edge blanks, and re-encoding the readings
//     decodes to the same readings;
//   - JSON: Boost.JSON accepts the same text and agrees on every key and value; and a payload that
//     Boost.JSON accepts in the right shape must decode;
//   - every measure converts to every value type, or is refused with a reason; what converts
//     serializes to valid JSON, and geometries validate;
//   - an expression still compiles, with the same results, from its own source and in parentheses.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "common/json.hpp"
#include "common/text.hpp"
#include "ingest/conversion.hpp"
#include "ingest/expression.hpp"
#include "ingest/json_payload.hpp"
#include "ingest/mqtt_adapter.hpp"
#include "ingest/provisioning.hpp"
#include "ingest/ultralight.hpp"
#include "model/geometry.hpp"

namespace {

using namespace ct::ingest;
namespace json = ct::json;

constexpr ValueType kTypes[] = {ValueType::Number,   ValueType::Integer,  ValueType::Boolean, ValueType::Text,
                                ValueType::DateTime, ValueType::GeoPoint, ValueType::GeoJson, ValueType::AsIs};
constexpr double kSamples[] = {0.0, 1.0, -1.0, 23.5, 1e308, -1e-308};

void check(bool condition) {
  if (!condition) __builtin_trap();
}

void check_refusal(const ct::Problem& problem) {
  check(problem.kind == ct::ProblemKind::BadRequestData || problem.kind == ct::ProblemKind::PayloadTooLarge);
  check(!problem.detail.empty());
  check(ct::is_valid_utf8(problem.detail));
}

void check_converted(const ct::Result<json::value>& converted, ValueType type) {
  if (!converted) return check_refusal(converted.problem());
  const std::string text = ct::to_text(*converted);
  check(ct::parse_json(text).ok());  // valid UTF-8, finite numbers
  if ((type == ValueType::GeoPoint || type == ValueType::GeoJson) && !converted->is_null())
    check(ct::model::validate_geometry(*converted).ok());
  if (type == ValueType::Integer && !converted->is_null()) check(converted->is_int64());
  if (type == ValueType::Number && !converted->is_null()) check(converted->is_double());
  if (type == ValueType::Boolean && !converted->is_null()) check(converted->is_bool());
}

void convert_every_way(const Measure& m, const Expression* expression) {
  for (const ValueType type : kTypes) {
    check_converted(convert(m.value, type, m.key), type);
    if (expression) check_converted(convert(m.value, type, *expression, m.key), type);
  }
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

void check_ultralight_field(std::string_view field) {
  check(field.find_first_of("|#") == std::string_view::npos);
  check(field.empty() || (!is_blank(field.front()) && !is_blank(field.back())));
}

// The readings written back as UltraLight, with the time of observation as a TimeInstant pair.
std::string encode(const DecodedPayload& decoded) {
  std::string out;
  for (const Reading& r : decoded.readings) {
    if (!out.empty()) out += '#';
    std::string group;
    if (r.observed_at) group = r.measures.empty() ? ct::format_datetime(*r.observed_at)
                                                  : "TimeInstant|" + ct::format_datetime(*r.observed_at);
    for (const Measure& m : r.measures)
      group.append(group.empty() ? "" : "|").append(m.key).append("|").append(std::get<std::string_view>(m.value));
    out += group;
  }
  return out;
}

bool same_readings(const DecodedPayload& a, const DecodedPayload& b) {
  if (a.readings.size() != b.readings.size()) return false;
  for (std::size_t i = 0; i < a.readings.size(); ++i) {
    const Reading &x = a.readings[i], &y = b.readings[i];
    if (x.observed_at != y.observed_at || x.measures.size() != y.measures.size()) return false;
    for (std::size_t j = 0; j < x.measures.size(); ++j)
      if (x.measures[j].key != y.measures[j].key || x.measures[j].value != y.measures[j].value) return false;
  }
  return true;
}

void exercise_ultralight(std::string_view text, const Expression* expression) {
  auto decoded = decode_ultralight(text);
  if (!decoded) return check_refusal(decoded.problem());
  check(!decoded->readings.empty());
  for (const Reading& r : decoded->readings)
    for (const Measure& m : r.measures) {
      check(!m.key.empty() && m.key != kTimeInstantKey);
      check_ultralight_field(m.key);
      check_ultralight_field(std::get<std::string_view>(m.value));
      convert_every_way(m, expression);
    }
  auto again = decode_ultralight(encode(*decoded));
  check(again.ok() && same_readings(*decoded, *again));
}

// Boost.JSON's view of one measure value, for comparison with simdjson's.
bool agrees(const MeasureValue& value, const json::value& expected) {
  if (std::holds_alternative<Null>(value)) return expected.is_null();
  if (const auto* b = std::get_if<bool>(&value)) return expected.is_bool() && expected.get_bool() == *b;
  if (const auto* s = std::get_if<std::string_view>(&value)) return expected.is_string() && expected.get_string() == *s;
  if (const auto* i = std::get_if<std::int64_t>(&value)) return expected.is_int64() && expected.get_int64() == *i;
  if (const auto* d = std::get_if<double>(&value)) {
    if (!expected.is_number()) return false;
    const double e = expected.to_number<double>();  // Boost 1.81 may round the last bit differently
    return *d == e || std::fabs(*d - e) <= 1e-15 * std::fmax(std::fabs(*d), std::fabs(e));
  }
  return std::get<json::value>(value).kind() == expected.kind();
}

std::size_t depth(const json::value& v) {
  std::size_t deepest = 0;
  if (const auto* a = v.if_array())
    for (const auto& item : *a) deepest = std::max(deepest, depth(item));
  else if (const auto* o = v.if_object())
    for (const auto& [key, item] : *o) deepest = std::max(deepest, depth(item));
  else
    return 0;
  return deepest + 1;
}

bool has_digit_run(std::string_view text, std::size_t length) {
  std::size_t run = 0;
  for (const char c : text)
    if ((run = c >= '0' && c <= '9' ? run + 1 : 0) >= length) return true;
  return false;
}

void exercise_json(std::string_view text, const Expression* expression) {
  auto decoded = decode_json(text);
  auto reference = ct::parse_json(text);
  if (!decoded) {
    check_refusal(decoded.problem());
    // What Boost.JSON accepts in the right shape must decode. Left out: TimeInstant (whose checks are
    // ours), escapes (the parsers may differ on lone surrogates), integers beyond 64 bits (which
    // simdjson refuses) and payloads over the size limit.
    if (!reference || depth(*reference) > kMaxJsonPayloadDepth || text.size() > kDefaultMaxPayloadBytes ||
        has_digit_run(text, 20) ||
        text.find('\\') != std::string_view::npos || text.find(kTimeInstantKey) != std::string_view::npos)
      return;
    const json::value& doc = *reference;
    bool right_shape = doc.is_object();
    if (const auto* a = doc.if_array()) {
      right_shape = true;
      for (const auto& item : *a) right_shape = right_shape && item.is_object();
    }
    check(!right_shape);
    return;
  }
  check(reference.ok());
  const json::value& doc = *reference;
  check(doc.is_object() || doc.is_array());
  check(doc.is_object() ? decoded->readings.size() == 1 : decoded->readings.size() == doc.get_array().size());
  for (std::size_t i = 0; i < decoded->readings.size(); ++i) {
    const json::object& object = doc.is_object() ? doc.get_object() : doc.get_array()[i].get_object();
    for (const Measure& m : decoded->readings[i].measures) {
      const json::value* expected = object.if_contains(m.key);
      check(expected != nullptr);
      // With repeated keys Boost.JSON keeps one of them: compare only keys that occur once.
      std::size_t occurrences = 0;
      for (const Measure& other : decoded->readings[i].measures) occurrences += other.key == m.key;
      if (occurrences == 1) check(agrees(m.value, *expected));
      convert_every_way(m, expression);
    }
  }
}

void exercise_commands(std::string_view text) {
  if (auto r = decode_ultralight_command_result(text); r) {
    check(!r->device.empty() && !r->command.empty() && r->result.is_string());
    check(r->device.find('|') == std::string::npos && r->command.find('|') == std::string::npos);
  } else {
    check_refusal(r.problem());
  }
  if (auto r = decode_json_command_results(text); r) {
    check(!r->empty());
    for (const CommandResult& c : *r) check(c.device.empty() && !c.command.empty());
  } else {
    check_refusal(r.problem());
  }
}

bool same_result(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

const Expression* exercise_expression(std::string_view text, Expression& storage) {
  auto compiled = compile_expression(text);
  if (!compiled) {
    check_refusal(compiled.problem());
    return nullptr;
  }
  storage = std::move(compiled).value();
  auto again = compile_expression(storage.source());
  check(again.ok());
  auto wrapped = compile_expression("(" + std::string(storage.source()) + ")");
  for (const double x : kSamples) {
    check(same_result(storage.apply(x), again->apply(x)));
    if (wrapped) check(same_result(storage.apply(x), wrapped->apply(x)));
  }
  return &storage;
}

}  // namespace

// Provisioning bodies (devices and service groups) and MQTT topics: refused with a reason, or
// accepted with the identifiers that end up in topics and store keys well formed.
void exercise_provisioning(std::string_view text) {
  IngestTopic topic;
  if (parse_ingest_topic(text, topic)) {
    check(!topic.apikey.empty() && !topic.device_id.empty());
    check(topic.apikey.find('/') == std::string_view::npos && topic.device_id.find('/') == std::string_view::npos);
  }
  auto document = ct::parse_json(text);
  if (!document || !document->is_object()) return;
  if (auto device = parse_device(document->as_object(), "t", "/"); device) {
    check(!device->device_id.empty() && device->device_id.find_first_of("/+#") == std::string::npos);
  } else {
    check_refusal(device.problem());
  }
  if (auto group = parse_service_group(document->as_object(), "t", "/"); group) {
    check(!group->apikey.empty() && group->apikey.find_first_of("/+#") == std::string::npos);
  } else {
    check_refusal(group.problem());
  }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The first line doubles as an expression applied in the conversions of the whole input.
  Expression first_line, whole;
  const Expression* expression = exercise_expression(text.substr(0, text.find('\n')), first_line);
  exercise_expression(text, whole);
  exercise_ultralight(text, expression);
  exercise_json(text, expression);
  exercise_commands(text);
  exercise_provisioning(text);
  return 0;
}
