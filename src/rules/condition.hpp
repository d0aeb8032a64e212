#pragma once
// Rule conditions: the NGSI-LD q language (query/q.hpp), whose terms may also be window functions
// over an ISO 8601 duration ending now:
//
//   condition = term *( ";" term )            every term must hold (AND)
//   term      = window op number / any q term (pm25>75, status=="on", ...)
//   window    = avg(attr, D) / min(attr, D) / max(attr, D) / sum(attr, D)
//             / delta(attr, D)                 last value minus the first value in the window
//             / count(D) / count(attr, D)      updates of the entity (or of attr) in the window
//             / zscore(attr, D)                (latest - mean of the others) / their standard deviation
//   op        = "==" / "!=" / ">" / ">=" / "<" / "<="
//
// A condition without window functions is any q expression, "|" and parentheses included; with
// window functions its terms are joined by ";" only. A window function over no value does not
// hold (except count, which is 0); zscore needs 3 earlier values and a non-zero deviation.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"
#include "jsonld/context.hpp"
#include "model/entity.hpp"
#include "query/q.hpp"
#include "rules/window.hpp"

namespace ct::rules {

enum class WindowFunction : std::uint8_t { Avg, Min, Max, Sum, Count, Delta, ZScore };
enum class Comparison : std::uint8_t { Equal, NotEqual, Greater, GreaterEqual, Less, LessEqual };

struct WindowTerm {
  WindowFunction function = WindowFunction::Avg;
  model::Term attribute;  // expanded; empty for count(D): every update of the entity
  std::int64_t window_ms = 0;
  Comparison comparison = Comparison::Greater;
  double threshold = 0;
};

class Condition {
 public:
  // The q part (terms without window functions); absent when every term is a window function.
  const std::optional<query::QExpression>& q() const { return q_; }
  const std::vector<WindowTerm>& windows() const { return windows_; }
  // The attributes whose values the windows keep (empty term: the entity's update count).
  std::vector<model::Term> window_attributes() const;
  // Every attribute the condition reads, for choosing which changes wake it.
  std::vector<model::Term> attributes() const;
  std::int64_t longest_window_ms() const;
  bool has_count() const;

  // Whether the condition holds for `entity` with these windows at `now`.
  bool holds(const model::Entity& entity, const WindowSet& windows, Timestamp now) const;

 private:
  friend Result<Condition> parse_condition(std::string_view text, const jsonld::Context& ctx);
  std::optional<query::QExpression> q_;
  std::vector<WindowTerm> windows_;
};

inline constexpr std::int64_t kMaxWindowMs = 31LL * 24 * 3600 * 1000;

// BadRequestData naming the fault: an unknown function, a window that is not a duration, a q error.
Result<Condition> parse_condition(std::string_view text, const jsonld::Context& ctx);

bool compare(double value, Comparison comparison, double threshold);

}  // namespace ct::rules
