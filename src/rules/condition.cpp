#include "rules/condition.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>

#include "history/duration.hpp"

namespace ct::rules {
namespace {

constexpr std::array<std::pair<std::string_view, WindowFunction>, 7> kFunctions{{
    {"avg", WindowFunction::Avg},
    {"min", WindowFunction::Min},
    {"max", WindowFunction::Max},
    {"sum", WindowFunction::Sum},
    {"count", WindowFunction::Count},
    {"delta", WindowFunction::Delta},
    {"zscore", WindowFunction::ZScore},
}};

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Problem fault(std::string_view text, const std::string& what) {
  return bad_request("when: " + what + " in \"" + std::string(text) + "\"");
}

// Splits at top-level occurrences of `separator` (outside quotes and parentheses).
std::vector<std::string_view> split_top_level(std::string_view text, char separator, bool& other_or) {
  std::vector<std::string_view> parts;
  int depth = 0;
  bool quoted = false;
  std::size_t start = 0;
  other_or = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '\\') ++i;
      else if (c == '"') quoted = false;
      continue;
    }
    if (c == '"') quoted = true;
    else if (c == '(') ++depth;
    else if (c == ')') --depth;
    else if (depth == 0 && c == '|') other_or = true;
    else if (depth == 0 && c == separator) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(text.substr(start));
  return parts;
}

// An identifier directly followed (spaces aside) by "(": the start of a function call.
bool starts_with_call(std::string_view term, std::string_view& name, std::string_view& rest) {
  std::size_t i = 0;
  while (i < term.size() && (std::isalnum(static_cast<unsigned char>(term[i])) || term[i] == '_')) ++i;
  if (i == 0) return false;
  std::size_t j = i;
  while (j < term.size() && std::isspace(static_cast<unsigned char>(term[j]))) ++j;
  if (j >= term.size() || term[j] != '(') return false;
  name = term.substr(0, i);
  rest = term.substr(j + 1);
  return true;
}

Result<WindowTerm> parse_window(std::string_view whole, std::string_view name, std::string_view rest,
                                const jsonld::Context& ctx) {
  const auto* known = std::find_if(kFunctions.begin(), kFunctions.end(), [&](const auto& f) { return f.first == name; });
  if (known == kFunctions.end())
    return fault(whole, "unknown function '" + std::string(name) + "' (known: avg, min, max, sum, count, delta, zscore)");
  WindowTerm term;
  term.function = known->second;
  const auto close = rest.find(')');
  if (close == std::string_view::npos) return fault(whole, "missing ')' after the arguments of " + std::string(name));
  std::vector<std::string_view> args;
  for (std::string_view list = rest.substr(0, close);;) {
    const auto comma = list.find(',');
    args.push_back(trim(list.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  const bool count = term.function == WindowFunction::Count;
  if (args.size() != 2 && !(count && args.size() == 1))
    return fault(whole, std::string(name) + (count ? " takes (duration) or (attribute, duration)" : " takes (attribute, duration)"));
  if (args.size() == 2) {
    if (args[0].empty() || !std::all_of(args[0].begin(), args[0].end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':' || c == '/' || c == '.' || c == '-' || c == '#';
        }))
      return fault(whole, "'" + std::string(args[0]) + "' is not an attribute name");
    term.attribute = model::Term::intern(ctx.expand(args[0]));
  }
  auto window = history::parse_duration_ms(args.back());
  if (!window) return fault(whole, "the window '" + std::string(args.back()) + "' is not an ISO 8601 duration (" + window.problem().detail + ")");
  if (*window <= 0 || *window > kMaxWindowMs) return fault(whole, "the window must be longer than 0 and at most P31D");
  term.window_ms = *window;

  std::string_view tail = trim(rest.substr(close + 1));
  static constexpr std::array<std::pair<std::string_view, Comparison>, 6> kOps{{
      {"==", Comparison::Equal},
      {"!=", Comparison::NotEqual},
      {">=", Comparison::GreaterEqual},
      {"<=", Comparison::LessEqual},
      {">", Comparison::Greater},
      {"<", Comparison::Less},
  }};
  const auto* op = std::find_if(kOps.begin(), kOps.end(), [&](const auto& o) { return tail.starts_with(o.first); });
  if (op == kOps.end()) return fault(whole, "expected a comparison (==, !=, >, >=, <, <=) after " + std::string(name) + "(...)");
  term.comparison = op->second;
  tail = trim(tail.substr(op->first.size()));
  double threshold = 0;
  const auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), threshold);
  if (tail.empty() || ec != std::errc() || end != tail.data() + tail.size() || !std::isfinite(threshold))
    return fault(whole, "expected a number after the comparison, got '" + std::string(tail) + "'");
  term.threshold = threshold;
  return term;
}

std::optional<double> apply(const WindowTerm& term, const Series* series, Timestamp now) {
  if (term.function == WindowFunction::Count) return series ? static_cast<double>(series->count(now, term.window_ms)) : 0.0;
  if (!series) return std::nullopt;
  switch (term.function) {
    case WindowFunction::Avg: return series->avg(now, term.window_ms);
    case WindowFunction::Min: return series->min(now, term.window_ms);
    case WindowFunction::Max: return series->max(now, term.window_ms);
    case WindowFunction::Sum: return series->sum(now, term.window_ms);
    case WindowFunction::Delta: return series->delta(now, term.window_ms);
    case WindowFunction::ZScore: return series->zscore(now, term.window_ms);
    case WindowFunction::Count: break;
  }
  return std::nullopt;
}

}  // namespace

bool compare(double value, Comparison comparison, double threshold) {
  switch (comparison) {
    case Comparison::Equal: return value == threshold;
    case Comparison::NotEqual: return value != threshold;
    case Comparison::Greater: return value > threshold;
    case Comparison::GreaterEqual: return value >= threshold;
    case Comparison::Less: return value < threshold;
    case Comparison::LessEqual: return value <= threshold;
  }
  return false;
}

Result<Condition> parse_condition(std::string_view text, const jsonld::Context& ctx) {
  Condition condition;
  text = trim(text);
  if (text.empty()) return bad_request("when: the condition is empty");
  if (text.size() > 4096) return bad_request("when: the condition is longer than 4096 characters");
  bool has_or = false;
  const auto terms = split_top_level(text, ';', has_or);
  std::string q_text;
  if (has_or)
    for (auto raw : terms) {
      std::string_view name, rest;
      if (starts_with_call(trim(raw), name, rest))
        return fault(text, "window functions can only be combined with ';' (AND), not '|'");
    }
  for (auto raw : terms) {
    const auto term = trim(raw);
    std::string_view name, rest;
    if (starts_with_call(term, name, rest)) {
      auto window = parse_window(text, name, rest, ctx);
      if (!window) return window.problem();
      condition.windows_.push_back(*window);
    } else {
      if (!q_text.empty()) q_text += ';';
      q_text += term;
    }
  }
  if (!q_text.empty()) {
    auto q = query::parse_q(condition.windows_.empty() ? text : std::string_view(q_text), ctx);
    if (!q) return bad_request("when: " + q.problem().detail);
    condition.q_ = std::move(q).value();
  }
  return condition;
}

std::vector<model::Term> Condition::window_attributes() const {
  std::vector<model::Term> out;
  for (const auto& w : windows_)
    if (std::find(out.begin(), out.end(), w.attribute) == out.end()) out.push_back(w.attribute);
  return out;
}

std::vector<model::Term> Condition::attributes() const {
  std::vector<model::Term> out;
  for (const auto& w : windows_)
    if (!w.attribute.empty() && std::find(out.begin(), out.end(), w.attribute) == out.end()) out.push_back(w.attribute);
  if (q_)
    for (auto a : q_->attributes())
      if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  return out;
}

std::int64_t Condition::longest_window_ms() const {
  std::int64_t longest = 0;
  for (const auto& w : windows_) longest = std::max(longest, w.window_ms);
  return longest;
}

bool Condition::has_count() const {
  return std::any_of(windows_.begin(), windows_.end(), [](const WindowTerm& w) { return w.function == WindowFunction::Count; });
}

bool Condition::holds(const model::Entity& entity, const WindowSet& windows, Timestamp now) const {
  for (const auto& w : windows_) {
    const auto value = apply(w, windows.find(w.attribute), now);
    if (!value || !compare(*value, w.comparison, w.threshold)) return false;
  }
  return !q_ || q_->matches(entity);
}

}  // namespace ct::rules
