#include "common/time.hpp"

#include <chrono>

namespace ct {
namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

Timestamp now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::optional<Timestamp> parse_datetime(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!digits(s, 0, 4, year) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
      !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, hour) ||
      s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second))
    return std::nullopt;
  using namespace std::chrono;
  const year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                            std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;

  std::size_t pos = 19;
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    int scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) return std::nullopt;
  }
  int offset_minutes = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int oh, om;
      if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om) ||
          oh > 23 || om > 59)
        return std::nullopt;
      offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
      pos += 6;
    }
  }
  if (pos != s.size()) return std::nullopt;
  const auto days = sys_days{date}.time_since_epoch().count();
  const std::int64_t secs = static_cast<std::int64_t>(days) * 86400 + hour * 3600 + minute * 60 + second -
                            static_cast<std::int64_t>(offset_minutes) * 60;
  return secs * 1000 + millis;
}

std::string format_datetime(Timestamp ms) {
  using namespace std::chrono;
  std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const int millis = static_cast<int>(ms - secs * 1000);
  std::int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  const int rem = static_cast<int>(secs - days * 86400);
  const year_month_day date{sys_days{std::chrono::days{days}}};
  // Written digit by digit: this runs for every attribute of every stored or rendered entity.
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&out](std::size_t pos, int value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10) out[pos + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
  };
  const int year = static_cast<int>(date.year());
  if (year < 0 || year > 9999) return std::to_string(year) + out.substr(4);  // outside ISO 8601's four digits
  put(0, year, 4);
  put(5, static_cast<int>(static_cast<unsigned>(date.month())), 2);
  put(8, static_cast<int>(static_cast<unsigned>(date.day())), 2);
  put(11, rem / 3600, 2);
  put(14, rem % 3600 / 60, 2);
  put(17, rem % 60, 2);
  put(20, millis, 3);
  return out;
}

}  // namespace ct
