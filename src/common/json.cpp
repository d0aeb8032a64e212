#include "common/json.hpp"

#include <charconv>
#include <cstdint>
#include <cmath>

namespace ct {

namespace {

// Boost.JSON reads 1e400 as infinity, which JSON cannot represent: such a value could not be
// written back, so it is refused on the way in.
bool all_numbers_finite(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_: return std::isfinite(v.get_double());
    case json::kind::array:
      for (const auto& item : v.get_array())
        if (!all_numbers_finite(item)) return false;
      return true;
    case json::kind::object:
      for (const auto& [key, item] : v.get_object())
        if (!all_numbers_finite(item)) return false;
      return true;
    default: return true;
  }
}

}  // namespace

Result<json::value> parse_json(std::string_view text, std::size_t max_depth, json::storage_ptr storage) {
  json::parse_options options;
  options.max_depth = max_depth;
  options.allow_invalid_utf8 = false;
  json::parser parser({}, options);
  parser.reset(std::move(storage));
  boost::system::error_code ec;
  const std::size_t consumed = parser.write(text.data(), text.size(), ec);
  if (ec) {
    if (ec == json::error::too_deep)
      return bad_request("JSON nesting is deeper than " + std::to_string(max_depth) + " levels");
    if (ec == json::error::syntax && !text.empty())
      return bad_request("malformed JSON (or invalid UTF-8) near byte " + std::to_string(consumed));
    return bad_request("malformed JSON: " + ec.message());
  }
  json::value value = parser.release();
  if (!all_numbers_finite(value)) return bad_request("a number in the body is out of range (beyond ±1.8e308)");
  return value;
}


void append_quoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t clean_from = 0;  // runs of characters that need no escaping are copied whole
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + clean_from, i - clean_from);
    clean_from = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(s.data() + clean_from, s.size() - clean_from);
  out.push_back('"');
}

namespace {

template <class Number>
void append_number(std::string& out, Number n) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

// Short decimals: |d| in [0.001, 10000) with at most 7 digits after the point. There the plain
// form is never longer than the scientific one, so it is the form std::to_chars picks, and
// m / 10^k (both exact, one correctly rounded division) is the double nearest to the decimal
// m·10^-k: if it equals d, those digits read back as d. The first such k gives the fewest digits.
bool append_short_decimal(std::string& out, double d) {
  static constexpr double kPowers[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7};
  const double magnitude = std::fabs(d);
  if (!(magnitude >= 1e-3 && magnitude < 1e4)) return false;
  for (int k = 0; k < 8; ++k) {
    const double scaled = magnitude * kPowers[k];
    const auto m = static_cast<std::uint64_t>(std::llround(scaled));
    if (static_cast<double>(m) / kPowers[k] != magnitude) continue;
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, m).ptr;
    const auto length = static_cast<int>(end - digits);
    if (d < 0) out.push_back('-');
    if (k == 0) {
      out.append(digits, end);
    } else if (length > k) {
      out.append(digits, end - k).push_back('.');
      out.append(end - k, end);
    } else {
      out.append("0.").append(static_cast<std::size_t>(k - length), '0');
      out.append(digits, end);
    }
    return true;
  }
  return false;
}

}  // namespace

void append_double(std::string& out, double d) {
  if (!append_short_decimal(out, d)) append_number(out, d);
}

void append_text(std::string& out, const json::value& value) {
  switch (value.kind()) {
    case json::kind::null: out += "null"; break;
    case json::kind::bool_: out += value.get_bool() ? "true" : "false"; break;
    case json::kind::int64: append_number(out, value.get_int64()); break;
    case json::kind::uint64: append_number(out, value.get_uint64()); break;
    case json::kind::double_: {
      const double d = value.get_double();
      if (std::isfinite(d))
        append_double(out, d);
      else
        out += "null";  // JSON has no NaN or infinity
      break;
    }
    case json::kind::string: append_quoted(out, value.get_string()); break;
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : value.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        append_text(out, item);
      }
      out.push_back(']');
      break;
    }
    case json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, item] : value.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        append_quoted(out, key);
        out.push_back(':');
        append_text(out, item);
      }
      out.push_back('}');
      break;
    }
  }
}


std::string to_text(const json::value& value) {
  std::string out;
  out.reserve(256);
  append_text(out, value);
  return out;
}

}  // namespace ct
