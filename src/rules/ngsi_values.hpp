#pragma once
// NGSI-LD attribute values in normalized form, for the entities rules write (alerts, incidents).
// Pure functions: any thread.
#include <string>
#include <string_view>

#include "common/json.hpp"
#include "common/time.hpp"

namespace ct::rules {

inline json::object property(json::value value) { return json::object{{"type", "Property"}, {"value", std::move(value)}}; }
inline json::object property(const std::string& text) { return property(json::value(json::string(text))); }
inline json::object property(const char* text) { return property(json::value(json::string(text))); }
inline json::object property(std::string_view text) { return property(json::value(json::string(text))); }
inline json::value date_time(Timestamp at) {
  return json::object{{"@type", "DateTime"}, {"@value", format_datetime(at)}};
}

}  // namespace ct::rules
