#pragma once
// Turning a measured value into the value of the attribute a device is provisioned with: the
// object_id → name mapping declares a type, and the payload's value (text for UltraLight, any JSON
// value for JSON) must become a value of that type, or be refused with a reason.
#include <cstdint>
#include <string_view>

#include "common/json.hpp"
#include "common/result.hpp"
#include "ingest/expression.hpp"
#include "ingest/measure.hpp"

namespace ct::ingest {

// The attribute types the IoT Agents know, and what a value becomes for each.
enum class ValueType : std::uint8_t {
  Number,    // "Number", "Float": a double, from a number or numeric text ("23.5", " -1e3 ")
  Integer,   // "Integer": an int64, from an integral number or text; 23.5 is refused, not rounded
  Boolean,   // "Boolean": from true/false, 1/0, or that text ("true", "FALSE", "1", "0")
  Text,      // "Text", "String", "TextUnrestricted": a string (numbers and booleans as their text)
  DateTime,  // "DateTime": ISO 8601 text, normalized to YYYY-MM-DDTHH:MM:SS.sssZ
  GeoPoint,  // "geo:point", "Point": "lat,lon" text → {"type":"Point","coordinates":[lon,lat]}
  GeoJson,   // "geo:json", "GeoProperty": a GeoJSON geometry (object or its text), or "lat,lon"
  AsIs,      // any other name: the value as the payload carried it
};

// Names match ignoring ASCII case, as in the IoT Agents. Resolve them once, at provisioning.
ValueType value_type_from_name(std::string_view declared_type);
std::string_view value_type_name(ValueType type);  // "Number", "Integer", ..., "as is"

// Converts `value` to `type`. A null stays null whatever the type: it is a device reporting no
// reading, which callers drop (as the IoT Agents do). A value that does not convert gives
// BadRequestData naming `key` (when given), the value (cut short) and the type. Geometries are
// checked with model::validate_geometry.
Result<json::value> convert(const MeasureValue& value, ValueType type, std::string_view key = {});
Result<json::value> convert(const MeasureValue& value, std::string_view declared_type, std::string_view key = {});

// Reads `value` as a number (a number, or numeric text), applies `expression` and converts the
// result to `type`. Refuses values that are not numbers and results that are not finite.
Result<json::value> convert(const MeasureValue& value, ValueType type, const Expression& expression,
                            std::string_view key = {});

}  // namespace ct::ingest
