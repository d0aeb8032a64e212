#pragma once
// The JSON document type the API layers share (Boost.JSON), and the one way bodies are parsed:
// with a depth limit and strict UTF-8, answering a Problem that names what is wrong.
#include <boost/json.hpp>
#include <string_view>

#include "common/result.hpp"

namespace ct {

namespace json = boost::json;

inline constexpr std::size_t kMaxJsonDepth = 64;

// `storage` holds the parsed value (the default heap when empty); a json::monotonic_resource suits
// a large body read once and dropped whole.
Result<json::value> parse_json(std::string_view text, std::size_t max_depth = kMaxJsonDepth,
                               json::storage_ptr storage = {});

// Serializes compactly. Unlike json::serialize in Boost 1.81 (which prints 0.54 as 5.4E-1), numbers
// are written in their shortest round-trip decimal form, as people and other tools expect.
std::string to_text(const json::value& value);
void append_text(std::string& out, const json::value& value);
// Appends a finite double exactly as std::to_chars(first, last, d) writes it (the shortest form
// that reads back as `d`). Sensor readings and coordinates are mostly short decimals, which it
// writes with integer arithmetic; other values go to std::to_chars.
void append_double(std::string& out, double d);
// Appends `text` as a JSON string literal (quotes, backslashes and control characters escaped;
// UTF-8 passes through as it is).
void append_quoted(std::string& out, std::string_view text);

}  // namespace ct
