#pragma once
// A city's time zone, from the system's IANA tz database (Howard Hinnant's date/tz, which C++20's
// <chrono> time zones standardised; g++ 12 has not shipped them yet). Days and hours of reports
// are the city's local ones.
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "common/time.hpp"

namespace ct::domains {

struct LocalDate {
  int year = 1970;
  unsigned month = 1, day = 1;
  friend bool operator==(const LocalDate&, const LocalDate&) = default;
};

// "YYYY-MM-DD" (strictly: a real date); BadRequestData naming the text otherwise.
Result<LocalDate> parse_local_date(std::string_view text);
std::string format_local_date(const LocalDate& date);
// The day after (or `days` after; negative goes back).
LocalDate add_days(const LocalDate& date, int days);
// Days in the month of `year`/`month`.
unsigned days_in_month(int year, unsigned month);

class TimeZone {
 public:
  // BadRequestData naming `iana_name` if the tz database does not know it.
  static Result<TimeZone> find(std::string_view iana_name);
  // Asia/Shanghai (fixed UTC+8 if the system has no tz database).
  static TimeZone default_zone();

  const std::string& name() const { return name_; }
  // The instant local `date` begins (00:00, or the first valid local time on a DST jump).
  Timestamp start_of_day(const LocalDate& date) const;
  // The local date of an instant.
  LocalDate date_of(Timestamp at) const;

 private:
  TimeZone(std::string name, const void* zone) : name_(std::move(name)), zone_(zone) {}
  std::string name_;
  const void* zone_ = nullptr;  // a date::time_zone of the tz database; null: UTC+8 fixed
};

}  // namespace ct::domains
