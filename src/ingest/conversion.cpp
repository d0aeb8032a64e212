#include "ingest/conversion.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <system_error>

#include "model/geometry.hpp"

namespace ct::ingest {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ignoring_case(std::string_view a, std::string_view lowercase) {
  if (a.size() != lowercase.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lowercase[i]) return false;
  return true;
}

// Numeric text as devices write it: optional blanks and sign, decimal digits, fraction, exponent.
// Not "inf", "nan" or hexadecimal, which std::from_chars would take or half-take.
std::optional<double> number_from_text(std::string_view text) {
  text = trim(text);
  const std::size_t digits_at = !text.empty() && (text.front() == '-' || text.front() == '+') ? 1 : 0;
  if (digits_at >= text.size() || !(is_digit(text[digits_at]) || text[digits_at] == '.')) return std::nullopt;
  if (text.front() == '+') text.remove_prefix(1);  // which std::from_chars does not take
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::general);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<std::int64_t> integer_from_text(std::string_view text) {
  text = trim(text);
  const std::size_t digits_at = !text.empty() && (text.front() == '-' || text.front() == '+') ? 1 : 0;
  if (digits_at >= text.size() || !is_digit(text[digits_at])) return std::nullopt;
  if (text.front() == '+') text.remove_prefix(1);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// [-2^63, 2^63): the doubles that fit an int64.
bool fits_int64(double d) { return d >= -9223372036854775808.0 && d < 9223372036854775808.0; }

template <class Number>
std::string number_text(Number n) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  return std::string(buf, end);
}

// Builds the BadRequestData for a value that does not convert.
class Refusal {
 public:
  Refusal(std::string_view key, const MeasureValue& value, ValueType type) : key_(key), value_(value), type_(type) {}

  Problem operator()(std::string_view why = {}) const {
    std::string detail = key_.empty() ? std::string() : "measure " + describe_text(key_) + ": ";
    detail += "value " + describe(value_) + " is not ";
    detail += type_ == ValueType::Integer ? "an " : "a ";
    detail += value_type_name(type_);
    if (!why.empty()) detail.append(" (").append(why).append(")");
    return bad_request(std::move(detail));
  }

 private:
  std::string_view key_;
  const MeasureValue& value_;
  ValueType type_;
};

Result<json::value> to_number(const MeasureValue& value, const Refusal& refuse) {
  if (const auto* d = std::get_if<double>(&value)) return json::value(*d);
  if (const auto* i = std::get_if<std::int64_t>(&value)) return json::value(static_cast<double>(*i));
  if (const auto* text = std::get_if<std::string_view>(&value))
    if (const auto n = number_from_text(*text)) return json::value(*n);
  return refuse();
}

Result<json::value> to_integer(const MeasureValue& value, const Refusal& refuse) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return json::value(*i);
  std::optional<double> number;
  if (const auto* d = std::get_if<double>(&value)) number = *d;
  if (const auto* text = std::get_if<std::string_view>(&value)) {
    if (const auto i = integer_from_text(*text)) return json::value(*i);
    number = number_from_text(*text);  // "40.0", "4e1"
  }
  if (!number) return refuse();
  if (!fits_int64(*number)) return refuse("out of the int64 range");
  if (std::trunc(*number) != *number) return refuse("it has a fraction");
  return json::value(static_cast<std::int64_t>(*number));
}

Result<json::value> to_boolean(const MeasureValue& value, const Refusal& refuse) {
  if (const auto* b = std::get_if<bool>(&value)) return json::value(*b);
  if (const auto* i = std::get_if<std::int64_t>(&value); i && (*i == 0 || *i == 1)) return json::value(*i == 1);
  if (const auto* d = std::get_if<double>(&value); d && (*d == 0 || *d == 1)) return json::value(*d == 1);
  if (const auto* text = std::get_if<std::string_view>(&value)) {
    const std::string_view t = trim(*text);
    if (equals_ignoring_case(t, "true") || t == "1") return json::value(true);
    if (equals_ignoring_case(t, "false") || t == "0") return json::value(false);
  }
  return refuse();
}

Result<json::value> to_string_value(const MeasureValue& value) {
  return std::visit(
      [](const auto& v) -> json::value {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Null>) return nullptr;
        else if constexpr (std::is_same_v<T, bool>) return json::string(v ? "true" : "false");
        else if constexpr (std::is_same_v<T, std::string_view>) return json::string(v);
        else if constexpr (std::is_same_v<T, json::value>) return json::string(ct::to_text(v));
        else return json::string(number_text(v));
      },
      value);
}

Result<json::value> to_date_time(const MeasureValue& value, const Refusal& refuse) {
  if (const auto* text = std::get_if<std::string_view>(&value))
    if (const auto when = parse_instant(trim(*text))) return json::value(json::string(format_datetime(*when)));
  return refuse("expected ISO 8601, like 2024-01-01T08:00:00Z");
}

Result<json::value> checked_geometry(json::value geometry, const Refusal& refuse) {
  if (auto st = model::validate_geometry(geometry); !st) return refuse(st.problem().detail);
  return geometry;
}

// "lat,lon", the order the IoT Agents (and NGSIv2's geo:point) use, → a GeoJSON Point, [lon, lat].
Result<json::value> point_from_text(std::string_view text, const Refusal& refuse) {
  const std::size_t comma = text.find(',');
  if (comma == std::string_view::npos) return refuse("expected \"latitude,longitude\"");
  const auto latitude = number_from_text(text.substr(0, comma));
  const auto longitude = number_from_text(text.substr(comma + 1));
  if (!latitude || !longitude) return refuse("expected \"latitude,longitude\"");
  return checked_geometry(json::object{{"type", "Point"}, {"coordinates", json::array{*longitude, *latitude}}}, refuse);
}

Result<json::value> to_geo_point(const MeasureValue& value, const Refusal& refuse) {
  if (const auto* text = std::get_if<std::string_view>(&value)) return point_from_text(*text, refuse);
  if (const auto* raw = std::get_if<json::value>(&value)) {
    const auto* object = raw->if_object();
    const auto* type = object ? object->if_contains("type") : nullptr;
    if (!type || !type->is_string() || type->get_string() != "Point")
      return refuse("expected \"latitude,longitude\" or a GeoJSON Point");
    return checked_geometry(*raw, refuse);
  }
  return refuse("expected \"latitude,longitude\"");
}

Result<json::value> to_geo_json(const MeasureValue& value, const Refusal& refuse) {
  if (const auto* raw = std::get_if<json::value>(&value)) return checked_geometry(*raw, refuse);
  if (const auto* text = std::get_if<std::string_view>(&value)) {
    const std::string_view t = trim(*text);
    if (t.empty() || t.front() != '{') return point_from_text(t, refuse);
    auto parsed = parse_json(t);
    if (!parsed) return refuse(parsed.problem().detail);
    return checked_geometry(std::move(parsed).value(), refuse);
  }
  return refuse("expected a GeoJSON geometry");
}

json::value as_is(const MeasureValue& value) {
  return std::visit(
      [](const auto& v) -> json::value {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Null>) return nullptr;
        else if constexpr (std::is_same_v<T, std::string_view>) return json::string(v);
        else return json::value(v);
      },
      value);
}

struct TypeName {
  std::string_view lowercase;
  ValueType type;
};
constexpr std::array<TypeName, 12> kTypeNames = {{
    {"number", ValueType::Number},
    {"float", ValueType::Number},
    {"integer", ValueType::Integer},
    {"boolean", ValueType::Boolean},
    {"text", ValueType::Text},
    {"string", ValueType::Text},
    {"textunrestricted", ValueType::Text},
    {"datetime", ValueType::DateTime},
    {"geo:point", ValueType::GeoPoint},
    {"point", ValueType::GeoPoint},
    {"geo:json", ValueType::GeoJson},
    {"geoproperty", ValueType::GeoJson},
}};

// Floating-point scaling leaves results like 23.000000000000004 where the reading was integral.
double snap_to_integer(double d) {
  const double nearest = std::round(d);
  return std::fabs(d - nearest) <= 1e-9 * std::max(1.0, std::fabs(d)) ? nearest : d;
}

}  // namespace

ValueType value_type_from_name(std::string_view declared_type) {
  for (const auto& [name, type] : kTypeNames)
    if (equals_ignoring_case(declared_type, name)) return type;
  return ValueType::AsIs;
}

std::string_view value_type_name(ValueType type) {
  switch (type) {
    case ValueType::Number: return "Number";
    case ValueType::Integer: return "Integer";
    case ValueType::Boolean: return "Boolean";
    case ValueType::Text: return "Text";
    case ValueType::DateTime: return "DateTime";
    case ValueType::GeoPoint: return "geo:point";
    case ValueType::GeoJson: return "geo:json";
    case ValueType::AsIs: return "as is";
  }
  return "as is";
}

Result<json::value> convert(const MeasureValue& value, ValueType type, std::string_view key) {
  if (std::holds_alternative<Null>(value)) return json::value(nullptr);
  const Refusal refuse(key, value, type);
  switch (type) {
    case ValueType::Number: return to_number(value, refuse);
    case ValueType::Integer: return to_integer(value, refuse);
    case ValueType::Boolean: return to_boolean(value, refuse);
    case ValueType::Text: return to_string_value(value);
    case ValueType::DateTime: return to_date_time(value, refuse);
    case ValueType::GeoPoint: return to_geo_point(value, refuse);
    case ValueType::GeoJson: return to_geo_json(value, refuse);
    case ValueType::AsIs: return as_is(value);
  }
  return as_is(value);
}

Result<json::value> convert(const MeasureValue& value, std::string_view declared_type, std::string_view key) {
  return convert(value, value_type_from_name(declared_type), key);
}

Result<json::value> convert(const MeasureValue& value, ValueType type, const Expression& expression,
                            std::string_view key) {
  if (std::holds_alternative<Null>(value)) return json::value(nullptr);
  std::optional<double> input;
  if (const auto* d = std::get_if<double>(&value)) input = *d;
  if (const auto* i = std::get_if<std::int64_t>(&value)) input = static_cast<double>(*i);
  if (const auto* text = std::get_if<std::string_view>(&value)) input = number_from_text(*text);
  if (!input) {
    const Refusal refuse(key, value, ValueType::Number);
    return refuse("the expression " + describe_text(expression.source()) + " needs one");
  }
  double result = expression.apply(*input);
  if (!std::isfinite(result))
    return bad_request((key.empty() ? std::string() : "measure " + describe_text(key) + ": ") + "expression " +
                       describe_text(expression.source()) + " gives " + number_text(result) + " for " +
                       describe(value));
  if (type == ValueType::Integer) result = snap_to_integer(result);
  return convert(MeasureValue(result), type, key);
}

}  // namespace ct::ingest
