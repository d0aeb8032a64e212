#pragma once
// Instants as milliseconds since the Unix epoch (UTC), the precision NGSI-LD renders.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ct {

using Timestamp = std::int64_t;  // milliseconds since 1970-01-01T00:00:00Z
inline constexpr Timestamp kNoTimestamp = INT64_MIN;

Timestamp now_ms();

// Parses an ISO 8601 / RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM].
// A date-time without an offset is taken as UTC. Returns nullopt for anything else.
std::optional<Timestamp> parse_datetime(std::string_view text);

// Renders YYYY-MM-DDTHH:MM:SS.sssZ.
std::string format_datetime(Timestamp ms);

}  // namespace ct
