#pragma once
// GeoJSON geometries as NGSI-LD GeoProperty values (RFC 7946, WGS84 longitude/latitude).
#include <string_view>

#include "common/json.hpp"
#include "common/result.hpp"

namespace ct::model {

// True when `value` is an object whose "type" names a GeoJSON geometry type: used to tell a
// GeoProperty from a plain Property in the concise and simplified forms.
bool looks_like_geometry(const json::value& value);

// Checks a geometry fully: known type; positions of 2 or 3 numbers with longitude in [-180, 180]
// and latitude in [-90, 90]; LineStrings of at least 2 positions; linear rings closed and of at
// least 4 positions. The Problem names the fault.
Status validate_geometry(const json::value& value);

}  // namespace ct::model
