#include "history/duration.hpp"

#include <cstdio>
#include <string>

#include "common/text.hpp"

namespace ct::history {
namespace {

constexpr std::int64_t kSecondMs = 1000, kMinuteMs = 60 * kSecondMs, kHourMs = 60 * kMinuteMs,
                       kDayMs = 24 * kHourMs, kWeekMs = 7 * kDayMs;
// More fraction digits than this cannot matter at millisecond precision for any unit up to a week.
constexpr std::size_t kMaxFractionDigits = 9;

Problem fault(std::string_view text, std::string_view what) {
  // Quote at most a short prefix: the text is client input and goes back into a problem body.
  std::string quoted = printable_utf8(text.substr(0, 64));
  if (text.size() > 64) quoted += "...";
  return bad_request("invalid duration '" + quoted + "': " + std::string(what));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Result<std::int64_t> parse_duration_ms(std::string_view text) {
  if (text.empty()) return fault(text, "empty");
  if (text.front() == '-' || text.front() == '+') return fault(text, "a duration cannot have a sign");
  if (text.front() != 'P') return fault(text, "a duration starts with 'P', e.g. PT1H or P1D");

  // Designators in the order ISO 8601 requires; 'M' means months before 'T' and minutes after it.
  struct Unit {
    char designator;
    bool in_time;
    std::int64_t ms;  // 0 for the calendar units refused below
  };
  static constexpr Unit kUnits[] = {{'Y', false, 0},           {'M', false, 0},       {'W', false, kWeekMs},
                                    {'D', false, kDayMs},      {'H', true, kHourMs},  {'M', true, kMinuteMs},
                                    {'S', true, kSecondMs}};
  constexpr std::size_t kUnitCount = sizeof(kUnits) / sizeof(kUnits[0]);

  std::size_t pos = 1;
  std::size_t next_unit = 0;  // units before this one are already used or out of order
  bool in_time = false;
  bool time_has_component = false;
  bool any_component = false;
  bool fraction_seen = false;
  std::int64_t total = 0;

  while (pos < text.size()) {
    if (text[pos] == 'T') {
      if (in_time) return fault(text, "'T' appears twice");
      in_time = true;
      ++pos;
      continue;
    }
    if (fraction_seen) return fault(text, "only the last component may have a fraction");

    const std::size_t int_start = pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    const std::string_view int_digits = text.substr(int_start, pos - int_start);
    std::string_view fraction_digits;
    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
      const std::size_t fraction_start = ++pos;
      while (pos < text.size() && is_digit(text[pos])) ++pos;
      fraction_digits = text.substr(fraction_start, pos - fraction_start);
      if (fraction_digits.empty()) return fault(text, "a decimal point must be followed by digits");
      fraction_seen = true;
    }
    if (int_digits.empty()) return fault(text, "expected a number before each designator");
    if (pos >= text.size()) return fault(text, "the number at the end has no designator (Y, M, W, D, H, M or S)");

    const char designator = text[pos++];
    std::size_t unit = next_unit;
    while (unit < kUnitCount && !(kUnits[unit].designator == designator && kUnits[unit].in_time == in_time)) ++unit;
    if (unit == kUnitCount) {
      for (const Unit& u : kUnits)
        if (u.designator == designator && u.in_time == in_time)
          return fault(text, std::string("'") + designator + "' is repeated or out of order");
      if (!in_time && (designator == 'H' || designator == 'S'))
        return fault(text, "hours, minutes and seconds come after 'T', e.g. PT1H");
      return fault(text, std::string("unknown designator '") + designator + "'");
    }
    if (kUnits[unit].ms == 0)
      return fault(text, "years and months have no fixed length in milliseconds; use days or weeks (e.g. P30D)");
    next_unit = unit + 1;
    any_component = true;
    time_has_component = time_has_component || in_time;

    // Whole part, with overflow checks: a number of any length is client input.
    const std::int64_t unit_ms = kUnits[unit].ms;
    std::int64_t whole = 0;
    for (char c : int_digits) {
      if (__builtin_mul_overflow(whole, 10, &whole) || __builtin_add_overflow(whole, c - '0', &whole))
        return fault(text, "too long");
    }
    std::int64_t component_ms = 0;
    if (__builtin_mul_overflow(whole, unit_ms, &component_ms)) return fault(text, "too long");

    // Fraction: exact, as unit_ms * digits / 10^n, and only if that is a whole number of ms.
    while (!fraction_digits.empty() && fraction_digits.back() == '0') fraction_digits.remove_suffix(1);
    if (fraction_digits.size() > kMaxFractionDigits) return fault(text, "finer than a millisecond");
    std::int64_t numerator = 0, denominator = 1;
    for (char c : fraction_digits) {
      numerator = numerator * 10 + (c - '0');
      denominator *= 10;
    }
    // unit_ms <= 6.048e8 and numerator < 1e9: the product fits in int64.
    const std::int64_t scaled = numerator * unit_ms;
    if (scaled % denominator != 0) return fault(text, "finer than a millisecond");
    if (__builtin_add_overflow(component_ms, scaled / denominator, &component_ms) ||
        __builtin_add_overflow(total, component_ms, &total))
      return fault(text, "too long");
  }
  if (in_time && !time_has_component) return fault(text, "'T' must be followed by hours, minutes or seconds");
  if (!any_component) return fault(text, "no component; e.g. PT1H or P1D");
  return total;
}

}  // namespace ct::history

namespace ct::history {

std::string format_duration_ms(std::int64_t ms) {
  if (ms <= 0) return "PT0S";
  std::string out = "P";
  if (ms >= kDayMs) {
    out += std::to_string(ms / kDayMs) + "D";
    ms %= kDayMs;
  }
  if (ms == 0) return out;
  out += "T";
  if (ms >= kHourMs) {
    out += std::to_string(ms / kHourMs) + "H";
    ms %= kHourMs;
  }
  if (ms >= kMinuteMs) {
    out += std::to_string(ms / kMinuteMs) + "M";
    ms %= kMinuteMs;
  }
  if (ms > 0) {
    out += std::to_string(ms / kSecondMs);
    if (ms % kSecondMs) {
      char fraction[8];
      std::snprintf(fraction, sizeof fraction, ".%03d", static_cast<int>(ms % kSecondMs));
      out += fraction;
    }
    out += "S";
  }
  return out;
}

}  // namespace ct::history
