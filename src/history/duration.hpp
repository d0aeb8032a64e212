#pragma once
// ISO 8601 durations as exact milliseconds: the aggrPeriodDuration of NGSI-LD temporal queries and
// the windows of rules (`avg(pm25, PT1H)`).
//
// Accepted: P[nW][nD][T[nH][nM][nS]], with at least one component, components in that order and
// each at most once, e.g. PT15M, PT1H, P1D, P1W, P1DT12H, PT0S, PT0.5S. The last component may
// have a fraction ('.' or ','), as ISO 8601 allows, if the result is a whole number of
// milliseconds (PT0.25H, PT1.5S; not PT0.0001S).
//
// A day is 24 hours and a week 7 days: instants are UTC milliseconds, with no daylight saving.
// Years and months are refused (BadRequestData), since they have no fixed length in milliseconds
// and buckets here are fixed periods; P1Y and P1M ask for calendar buckets, which would need
// calendar arithmetic rather than a wrong 365- or 30-day guess.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace ct::history {

// The duration in milliseconds (>= 0), or BadRequestData naming the fault and quoting the text.
Result<std::int64_t> parse_duration_ms(std::string_view text);
// The shortest form parse_duration_ms reads back to `ms` (days, hours, minutes, seconds): P90D, PT1H,
// P1DT12H, PT0.5S; PT0S for 0 or less.
std::string format_duration_ms(std::int64_t ms);

}  // namespace ct::history
