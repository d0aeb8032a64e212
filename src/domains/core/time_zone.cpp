#include "domains/core/time_zone.hpp"

#include <charconv>
#include <cstdio>
#include <stdexcept>

#include <date/date.h>
#include <date/tz.h>

namespace ct::domains {
namespace {

using namespace std::chrono;

const date::time_zone* zone_of(const void* zone) { return static_cast<const date::time_zone*>(zone); }

constexpr Timestamp kFixedOffsetMs = 8 * 3600 * 1000;  // UTC+8, if the system has no tz database

date::year_month_day to_ymd(const LocalDate& d) {
  return date::year_month_day{date::year{d.year}, date::month{d.month}, date::day{d.day}};
}

LocalDate from_ymd(const date::year_month_day& ymd) {
  return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day())};
}

bool parse_int(std::string_view text, int& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Result<LocalDate> parse_local_date(std::string_view text) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !parse_int(text.substr(0, 4), y) ||
      !parse_int(text.substr(5, 2), m) || !parse_int(text.substr(8, 2), d) || m < 1 || d < 1)
    return bad_request("'" + std::string(text) + "' is not a date YYYY-MM-DD");
  LocalDate date{y, static_cast<unsigned>(m), static_cast<unsigned>(d)};
  if (!to_ymd(date).ok()) return bad_request("'" + std::string(text) + "' is not a date YYYY-MM-DD");
  return date;
}

std::string format_local_date(const LocalDate& date) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", date.year, date.month, date.day);
  return text;
}

LocalDate add_days(const LocalDate& date, int days) {
  return from_ymd(date::year_month_day{date::sys_days{to_ymd(date)} + date::days{days}});
}

unsigned days_in_month(int year, unsigned month) {
  return static_cast<unsigned>(
      date::year_month_day_last{date::year{year}, date::month_day_last{date::month{month}}}.day());
}

Result<TimeZone> TimeZone::find(std::string_view iana_name) {
  try {
    const auto* zone = date::locate_zone(iana_name);
    return TimeZone(std::string(iana_name), zone);
  } catch (const std::exception&) {
    return bad_request("'" + std::string(iana_name) + "' is not a time zone of the IANA tz database");
  }
}

TimeZone TimeZone::default_zone() {
  static const TimeZone zone = [] {
    auto found = find("Asia/Shanghai");
    return found ? *found : TimeZone("Asia/Shanghai", nullptr);
  }();
  return zone;
}

Timestamp TimeZone::start_of_day(const LocalDate& date) const {
  const date::local_days local{to_ymd(date)};
  if (zone_ == nullptr)
    return duration_cast<milliseconds>(local.time_since_epoch()).count() - kFixedOffsetMs;
  // A nonexistent local midnight (a DST jump at 00:00) resolves to the first valid instant.
  const auto info = zone_of(zone_)->get_info(local);
  sys_seconds at;
  switch (info.result) {
    case date::local_info::unique: at = sys_seconds{local.time_since_epoch() - info.first.offset}; break;
    case date::local_info::ambiguous: at = sys_seconds{local.time_since_epoch() - info.first.offset}; break;
    case date::local_info::nonexistent: at = info.second.begin; break;
  }
  return duration_cast<milliseconds>(at.time_since_epoch()).count();
}

LocalDate TimeZone::date_of(Timestamp at) const {
  const sys_time<milliseconds> instant{milliseconds{at}};
  if (zone_ == nullptr)
    return from_ymd(date::year_month_day{floor<date::days>(instant + milliseconds{kFixedOffsetMs})});
  const auto local = zone_of(zone_)->to_local(instant);
  return from_ymd(date::year_month_day{floor<date::days>(local)});
}

}  // namespace ct::domains
