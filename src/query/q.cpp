#include "query/q.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "common/text.hpp"
#include "model/names.hpp"
#include "query/regex.hpp"

namespace ct::query {
namespace detail {

using Kind = IndexableTerm::Kind;

// A constant of the query, converted once at parse time into the form comparisons need.
struct Constant {
  Kind kind = Kind::Number;
  bool is_integer = false;
  // Number: the value when is_integer. Date: days since the epoch. DateTime: the instant (ms).
  // Time: milliseconds since midnight. String: the instant it spells when it is a date-time (to
  // compare with observedAt and the like), else kNoTimestamp.
  std::int64_t integer = 0;
  double number = 0;  // Number: the value (integers too)
  bool boolean = false;
  std::string text;  // String: the unescaped text; Date/DateTime/Time: as written
};

enum class Metadata : std::uint8_t { None, ObservedAt, UnitCode, CreatedAt, ModifiedAt, DatasetId };
enum class CompareOp : std::uint8_t {
  Exists, NotExists, Equal, NotEqual, Greater, GreaterEqual, Less, LessEqual, Match, NotMatch };
enum class Operand : std::uint8_t { None, Single, List, Range, Pattern };

struct Comparison {
  model::Term attribute;
  std::vector<model::Term> sub_path;      // expanded sub-attribute names, outermost first
  std::vector<std::string> compound_key;  // member names inside the value, outermost first
  Metadata metadata = Metadata::None;
  CompareOp op = CompareOp::Exists;
  Operand operand = Operand::None;
  std::vector<Constant> values;  // Single: one; Range: low, high; List: each
  Regex regex;                   // Pattern
};

struct Node {
  enum class Kind : std::uint8_t { And, Or, Leaf };
  Kind kind = Kind::Leaf;
  std::uint32_t comparison = 0;        // Leaf
  std::vector<std::uint32_t> children; // And, Or
};

struct QProgram {
  std::vector<Comparison> comparisons;
  std::vector<Node> nodes;
  std::uint32_t root = 0;
};

}  // namespace detail

namespace {

using detail::Comparison;
using detail::CompareOp;
using detail::Constant;
using detail::Metadata;
using detail::Node;
using detail::Operand;
using detail::QProgram;
using Kind = IndexableTerm::Kind;

constexpr std::int64_t kMsPerDay = 86'400'000;

// ---------------------------------------------------------------------------------------------
// Calendar values

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool two_digits(std::string_view s, std::size_t pos, int& out) {
  if (pos + 2 > s.size() || s[pos] < '0' || s[pos] > '9' || s[pos + 1] < '0' || s[pos + 1] > '9') return false;
  out = (s[pos] - '0') * 10 + (s[pos + 1] - '0');
  return true;
}

// YYYY-MM-DD → days since 1970-01-01.
std::optional<std::int64_t> parse_date_days(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int year = 0, month = 0, day = 0, century = 0;
  if (!two_digits(s, 0, century) || !two_digits(s, 2, year) || !two_digits(s, 5, month) || !two_digits(s, 8, day))
    return std::nullopt;
  using namespace std::chrono;
  const year_month_day date{std::chrono::year{century * 100 + year}, std::chrono::month{static_cast<unsigned>(month)},
                            std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return std::nullopt;
  return sys_days{date}.time_since_epoch().count();
}

// HH:MM:SS[.fraction][Z] → milliseconds since midnight.
std::optional<std::int64_t> parse_time_of_day(std::string_view s) {
  int hour = 0, minute = 0, second = 0;
  if (s.size() < 8 || !two_digits(s, 0, hour) || s[2] != ':' || !two_digits(s, 3, minute) || s[5] != ':' ||
      !two_digits(s, 6, second) || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  std::size_t pos = 8;
  std::int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    const std::size_t start = ++pos;
    int scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) return std::nullopt;
  }
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) ++pos;
  if (pos != s.size()) return std::nullopt;
  return (hour * 3600 + minute * 60 + second) * std::int64_t{1000} + millis;
}

// The instant a string value spells: a date-time, or a date (its first millisecond, UTC).
std::optional<Timestamp> instant_of_text(std::string_view s) {
  if (s.size() >= 19) return parse_datetime(s);
  if (auto days = parse_date_days(s)) return *days * kMsPerDay;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

// One comparable value read from an entity.
struct Scalar {
  enum class Kind : std::uint8_t { Int, UInt, Double, String, Bool, Instant };
  Kind kind = Kind::Int;
  std::int64_t i = 0;  // Int, Instant
  std::uint64_t u = 0;
  double d = 0;
  std::string_view s;
  bool b = false;
};

bool scalar_of(const json::value& v, Scalar& out) {
  switch (v.kind()) {
    case json::kind::int64: out.kind = Scalar::Kind::Int, out.i = v.get_int64(); return true;
    case json::kind::uint64: out.kind = Scalar::Kind::UInt, out.u = v.get_uint64(); return true;
    case json::kind::double_: out.kind = Scalar::Kind::Double, out.d = v.get_double(); return true;
    case json::kind::string: out.kind = Scalar::Kind::String, out.s = v.get_string(); return true;
    case json::kind::bool_: out.kind = Scalar::Kind::Bool, out.b = v.get_bool(); return true;
    default: return false;  // null, objects and nested arrays compare with nothing
  }
}

constexpr int kIncomparable = 2;

template <class T>
int sign(T a, T b) {
  return (a > b) - (a < b);
}

int compare_number(const Scalar& s, const Constant& q) {
  switch (s.kind) {
    case Scalar::Kind::Int: return q.is_integer ? sign(s.i, q.integer) : sign(static_cast<double>(s.i), q.number);
    case Scalar::Kind::UInt:
      if (!q.is_integer) return sign(static_cast<double>(s.u), q.number);
      return q.integer < 0 ? 1 : sign(s.u, static_cast<std::uint64_t>(q.integer));
    case Scalar::Kind::Double: return sign(s.d, q.number);
    default: return kIncomparable;
  }
}

// The order of the entity's value `s` relative to the query's `q`: -1, 0, 1, or kIncomparable
// when their types differ (the query language never converts a string into a number).
int compare(const Scalar& s, const Constant& q) {
  switch (q.kind) {
    case Kind::Number: return compare_number(s, q);
    case Kind::String:
      if (s.kind == Scalar::Kind::String) return sign(s.s.compare(q.text), 0);
      if (s.kind == Scalar::Kind::Instant && q.integer != kNoTimestamp) return sign(s.i, q.integer);
      return kIncomparable;
    case Kind::Boolean:
      if (s.kind == Scalar::Kind::Bool) return sign(static_cast<int>(s.b), static_cast<int>(q.boolean));
      return kIncomparable;
    case Kind::DateTime:
      if (s.kind == Scalar::Kind::Instant) return sign(s.i, q.integer);
      if (s.kind == Scalar::Kind::String)
        if (auto t = instant_of_text(s.s)) return sign(*t, q.integer);
      return kIncomparable;
    case Kind::Date:
      if (s.kind == Scalar::Kind::Instant) return sign(floor_div(s.i, kMsPerDay), q.integer);
      if (s.kind == Scalar::Kind::String)
        if (auto t = instant_of_text(s.s)) return sign(floor_div(*t, kMsPerDay), q.integer);
      return kIncomparable;
    case Kind::Time:
      if (s.kind == Scalar::Kind::String)
        if (auto t = parse_time_of_day(s.s)) return sign(*t, q.integer);
      return kIncomparable;
  }
  return kIncomparable;
}

// The verdict of one comparison on one target (an attribute instance's value, possibly several
// scalars), fed one scalar at a time. Positive operators hold when some scalar satisfies them; the
// negative ones (!=, !~=) when some scalar is comparable and none contradicts them.
class Verdict {
 public:
  explicit Verdict(const Comparison& c) : c_(c) {}

  // Returns true when the verdict is settled and the remaining scalars need not be read.
  bool feed(const Scalar& s) {
    switch (c_.op) {
      case CompareOp::Equal: return (matched_ = equals(s) == 1);
      case CompareOp::NotEqual: {
        const int e = equals(s);
        comparable_ = comparable_ || e != kIncomparable;
        return (contradicted_ = e == 1);
      }
      case CompareOp::Match: return (matched_ = searchable(s) && c_.regex.search(s.s));
      case CompareOp::NotMatch:
        if (!searchable(s)) return false;
        comparable_ = true;
        return (contradicted_ = c_.regex.search(s.s));
      default: return (matched_ = in_order(compare(s, c_.values[0])));
    }
  }

  bool result() const {
    if (c_.op == CompareOp::NotEqual || c_.op == CompareOp::NotMatch) return comparable_ && !contradicted_;
    return matched_;
  }

 private:
  static bool searchable(const Scalar& s) {
    return s.kind == Scalar::Kind::String && s.s.size() <= kMaxRegexSubjectLength;
  }

  bool in_order(int order) const {
    if (order == kIncomparable) return false;
    switch (c_.op) {
      case CompareOp::Greater: return order > 0;
      case CompareOp::GreaterEqual: return order >= 0;
      case CompareOp::Less: return order < 0;
      case CompareOp::LessEqual: return order <= 0;
      default: return false;
    }
  }

  // 1 when `s` equals the value, is one of the list or lies in the range; 0 when it is comparable
  // but does not; kIncomparable when it compares with none of them.
  int equals(const Scalar& s) const {
    switch (c_.operand) {
      case Operand::Range: {
        const int low = compare(s, c_.values[0]), high = compare(s, c_.values[1]);
        if (low == kIncomparable || high == kIncomparable) return kIncomparable;
        return low >= 0 && high <= 0 ? 1 : 0;
      }
      default: {
        int verdict = kIncomparable;
        for (const auto& v : c_.values) {
          const int o = compare(s, v);
          if (o == 0) return 1;
          if (o != kIncomparable) verdict = 0;
        }
        return verdict;
      }
    }
  }

  const Comparison& c_;
  bool matched_ = false, comparable_ = false, contradicted_ = false;
};

// Feeds the scalars of a JSON value: itself, or the elements of an array. Returns true to stop.
bool feed_json(Verdict& verdict, const json::value& v) {
  Scalar s;
  // A JSON-LD typed literal ({"@type": "DateTime", "@value": "…"}, as Smart Data Models write
  // dates) compares as its @value.
  if (const auto* object = v.if_object())
    if (const auto* literal = object->if_contains("@value")) return feed_json(verdict, *literal);
  if (const auto* array = v.if_array()) {
    for (const auto& element : *array)
      if (scalar_of(element, s) && verdict.feed(s)) return true;
    return false;
  }
  return scalar_of(v, s) && verdict.feed(s);
}

Timestamp metadata_time(const model::Attribute& a, Metadata m) {
  switch (m) {
    case Metadata::ObservedAt: return a.observed_at;
    case Metadata::CreatedAt: return a.created_at;
    case Metadata::ModifiedAt: return a.modified_at;
    default: return kNoTimestamp;
  }
}

// The JSON value a path's compound key leads to inside `a` (its value when there is no key), or
// nullptr when a member is missing.
const json::value* compound_target(const Comparison& c, const model::Attribute& a) {
  const json::value* value = &a.value;
  for (const auto& key : c.compound_key) {
    const auto* object = value->if_object();
    if (!object || !(value = object->if_contains(key))) return nullptr;
  }
  return value;
}

// Whether the end of the path (metadata, compound member) is present on `a`.
bool reaches(const Comparison& c, const model::Attribute& a) {
  switch (c.metadata) {
    case Metadata::ObservedAt:
    case Metadata::CreatedAt:
    case Metadata::ModifiedAt: return metadata_time(a, c.metadata) != kNoTimestamp;
    case Metadata::UnitCode: return !a.unit_code.empty();
    case Metadata::DatasetId: return !a.dataset_id.empty();
    case Metadata::None: break;
  }
  return compound_target(c, a) != nullptr;
}

// A value comparison on one attribute instance (or sub-attribute) that the path led to.
bool holds_on(const Comparison& c, const model::Attribute& a) {
  Verdict verdict(c);
  Scalar s;
  switch (c.metadata) {
    case Metadata::ObservedAt:
    case Metadata::CreatedAt:
    case Metadata::ModifiedAt:
      s.kind = Scalar::Kind::Instant;
      s.i = metadata_time(a, c.metadata);
      if (s.i == kNoTimestamp) return false;
      verdict.feed(s);
      return verdict.result();
    case Metadata::UnitCode:
    case Metadata::DatasetId: {
      const model::Term term = c.metadata == Metadata::UnitCode ? a.unit_code : a.dataset_id;
      if (term.empty()) return false;
      s.kind = Scalar::Kind::String;
      s.s = term.str();
      verdict.feed(s);
      return verdict.result();
    }
    case Metadata::None: break;
  }
  const json::value* value = compound_target(c, a);
  if (!value) return false;
  if (!c.compound_key.empty()) {
    feed_json(verdict, *value);
    return verdict.result();
  }
  switch (a.kind) {
    case model::AttributeKind::LanguageProperty:  // any string of any language
      if (const auto* map = value->if_object())
        for (const auto& entry : *map)
          if (feed_json(verdict, entry.value())) break;
      break;
    case model::AttributeKind::ListRelationship:  // [{"object": uri}, ...] or [uri, ...]
      if (const auto* list = value->if_array()) {
        for (const auto& element : *list) {
          const auto* object = element.if_object();
          const json::value* target = object ? object->if_contains("object") : &element;
          if (target && feed_json(verdict, *target)) break;
        }
      }
      break;
    default: feed_json(verdict, *value); break;
  }
  return verdict.result();
}

const model::Attribute* follow_sub_path(const model::Attribute& a, const std::vector<model::Term>& path) {
  const model::Attribute* at = &a;
  for (model::Term sub : path)
    if (!(at = at->find_sub(sub))) return nullptr;
  return at;
}

// Any instance of the attribute satisfies `c`; "!path" holds when no instance has the path.
bool holds(const Comparison& c, const model::Entity& entity) {
  const bool existence = c.op == CompareOp::Exists || c.op == CompareOp::NotExists;
  for (const auto& a : entity.attributes) {
    if (a.name != c.attribute) continue;
    const model::Attribute* target = follow_sub_path(a, c.sub_path);
    if (!target) continue;
    if (existence) {
      if (reaches(c, *target)) return c.op == CompareOp::Exists;
    } else if (holds_on(c, *target)) {
      return true;
    }
  }
  return c.op == CompareOp::NotExists;
}

// Depth is bounded by the parser (kMaxQNesting), so the recursion is too.
bool evaluate(const QProgram& program, std::uint32_t index, const model::Entity& entity) {
  const Node& node = program.nodes[index];
  switch (node.kind) {
    case Node::Kind::Leaf: return holds(program.comparisons[node.comparison], entity);
    case Node::Kind::And:
      for (auto child : node.children)
        if (!evaluate(program, child, entity)) return false;
      return true;
    case Node::Kind::Or:
      for (auto child : node.children)
        if (evaluate(program, child, entity)) return true;
      return false;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Parsing

constexpr std::size_t kShownQueryLength = 200;
constexpr std::size_t kShownTokenLength = 80;

bool is_operator_char(char c) { return c == '=' || c == '!' || c == '<' || c == '>' || c == '~'; }
bool is_q_blank_or_control(char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }

// Characters that end an attribute name, a sub-attribute name or a compound key. Others that
// names may not hold (\ { } ^ `) stay in the token, to be reported as an invalid name.
bool ends_name(char c) {
  switch (c) {
    case '.': case '[': case ']': case ';': case '|': case '(': case ')': case ',': case '"': case '\'': return true;
    default: return is_operator_char(c) || is_q_blank_or_control(c);
  }
}

// Characters that end an unquoted value.
bool ends_value(char c) {
  return c == ';' || c == '|' || c == '(' || c == ')' || c == ',' || c == '"' || is_q_blank_or_control(c);
}

std::optional<Metadata> metadata_named(std::string_view name) {
  if (name == "observedAt") return Metadata::ObservedAt;
  if (name == "unitCode") return Metadata::UnitCode;
  if (name == "createdAt") return Metadata::CreatedAt;
  if (name == "modifiedAt") return Metadata::ModifiedAt;
  if (name == "datasetId") return Metadata::DatasetId;
  return std::nullopt;
}

std::optional<CompareOp> operator_named(std::string_view op) {
  if (op == "==") return CompareOp::Equal;
  if (op == "!=") return CompareOp::NotEqual;
  if (op == ">") return CompareOp::Greater;
  if (op == ">=") return CompareOp::GreaterEqual;
  if (op == "<") return CompareOp::Less;
  if (op == "<=") return CompareOp::LessEqual;
  if (op == "~=") return CompareOp::Match;
  if (op == "!~=") return CompareOp::NotMatch;
  return std::nullopt;
}

// -?digits[.digits][(e|E)[+-]digits], as in JSON.
bool is_json_number(std::string_view s, bool& integral) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (!digits()) return false;
  integral = true;
  if (i < s.size() && s[i] == '.') {
    ++i, integral = false;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i, integral = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

void append_utf8(std::string& out, std::uint32_t c) {
  const auto put = [&](std::uint32_t v) { out.push_back(static_cast<char>(v)); };
  if (c < 0x80) {
    put(c);
  } else if (c < 0x800) {
    put(0xC0 | (c >> 6)), put(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    put(0xE0 | (c >> 12)), put(0x80 | ((c >> 6) & 0x3F)), put(0x80 | (c & 0x3F));
  } else {
    put(0xF0 | (c >> 18)), put(0x80 | ((c >> 12) & 0x3F)), put(0x80 | ((c >> 6) & 0x3F)), put(0x80 | (c & 0x3F));
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A recursive-descent parser; recursion happens only at "(" and is bounded by kMaxQNesting. Every
// step consumes input, so parsing is linear in the length of the query.
class QParser {
 public:
  QParser(std::string_view text, const jsonld::Context& ctx, QProgram& program)
      : text_(text), ctx_(ctx), program_(program) {}

  std::optional<Problem> parse() {
    std::uint32_t root = 0;
    if (!parse_or(0, root)) return std::move(problem_);
    if (!at_end()) {
      fail(pos_, peek() == ')' ? "unexpected ')' with no matching '('" : "expected ';', '|' or the end of the query");
      return std::move(problem_);
    }
    program_.root = root;
    return std::nullopt;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek(std::size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }

  bool fail(std::size_t at, std::string_view what, std::string_view note = {}) {
    problem_ = bad_request("q: " + std::string(what) + " at position " + std::to_string(at) + " in \"" +
                           printable_excerpt(text_, kShownQueryLength) + "\"" + std::string(note));
    return false;
  }

  std::uint32_t add_node(Node node) {
    program_.nodes.push_back(std::move(node));
    return static_cast<std::uint32_t>(program_.nodes.size() - 1);
  }

  // A chain of `separator`-joined operands, folded into one n-ary node when there are several.
  template <class Operand>
  bool parse_chain(char separator, Node::Kind kind, std::uint32_t& out, Operand operand) {
    std::vector<std::uint32_t> children;
    // (a;b);c is one AND of three: the planner sees every required comparison at the top.
    const auto take = [&](std::uint32_t child) {
      const Node& node = program_.nodes[child];
      if (node.kind == kind)
        children.insert(children.end(), node.children.begin(), node.children.end());
      else
        children.push_back(child);
    };
    std::uint32_t child = 0;
    if (!operand(child)) return false;
    take(child);
    while (!at_end() && peek() == separator) {
      ++pos_;
      if (!operand(child)) return false;
      take(child);
    }
    if (children.size() == 1) {
      out = children.front();
      return true;
    }
    Node node;
    node.kind = kind;
    node.children = std::move(children);
    out = add_node(std::move(node));
    return true;
  }

  bool parse_or(int depth, std::uint32_t& out) {
    return parse_chain('|', Node::Kind::Or, out, [&](std::uint32_t& child) { return parse_and(depth, child); });
  }
  bool parse_and(int depth, std::uint32_t& out) {
    return parse_chain(';', Node::Kind::And, out, [&](std::uint32_t& child) { return parse_primary(depth, child); });
  }

  bool parse_primary(int depth, std::uint32_t& out) {
    if (at_end() || peek() != '(') return parse_term(out);
    const std::size_t open = pos_;
    if (depth >= kMaxQNesting)
      return fail(open, "parentheses nested deeper than " + std::to_string(kMaxQNesting) + " levels");
    ++pos_;
    if (!parse_or(depth + 1, out)) return false;
    if (at_end() || peek() != ')')
      return fail(pos_, "expected ')'", " (to close the '(' at position " + std::to_string(open) + ")");
    ++pos_;
    return true;
  }

  std::string_view scan_name() {
    const std::size_t start = pos_;
    while (!at_end() && !ends_name(peek())) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  bool read_name(std::string_view what, std::string_view& name) {
    const std::size_t start = pos_;
    name = scan_name();
    if (name.empty()) return fail(start, "expected " + std::string(what));
    if (!model::is_valid_term(name))
      return fail(start, "invalid name \"" + printable_excerpt(name, kShownTokenLength) + "\"");
    return true;
  }

  model::Term expand(std::string_view name) const { return model::Term::intern(ctx_.expand(name)); }

  // An attribute named by a full IRI keeps the dots of its host and path
  // (https://smartdatamodels.org/dataModel.Transportation/speed): in the path, a '.' belongs to the
  // name when the segment after it reaches another '/' and does not begin an IRI of its own;
  // otherwise it starts a sub-attribute or metadata (speed.observedAt, speed.https://...).
  void extend_iri_name(std::size_t start, std::string_view& name) {
    const std::size_t scheme = name.find("://");
    if (scheme == std::string_view::npos) return;
    const std::size_t n = text_.size();
    std::size_t i = start + scheme + 3;
    while (i < n && text_[i] != '/' && (text_[i] == '.' || !ends_name(text_[i]))) ++i;  // the host
    for (;;) {
      while (i < n && !ends_name(text_[i])) ++i;
      if (i >= n || text_[i] != '.') break;
      std::size_t j = i + 1;
      while (j < n && !ends_name(text_[j])) ++j;
      const std::string_view segment = text_.substr(i + 1, j - i - 1);
      if (segment.find('/') == std::string_view::npos || segment.find("://") != std::string_view::npos) break;
      i = j;
    }
    name = text_.substr(start, i - start);
    pos_ = i;
  }

  // attr(.sub)*(.metadata)? or attr(.sub)*([key(.key)*])+
  bool parse_path(Comparison& c) {
    std::string_view name;
    const std::size_t start = pos_;
    if (!read_name("an attribute name", name)) return false;
    extend_iri_name(start, name);
    if (!model::is_valid_term(name)) return fail(start, "invalid name \"" + printable_excerpt(name, kShownTokenLength) + "\"");
    c.attribute = expand(name);
    while (!at_end() && peek() == '.') {
      const std::size_t sub_start = ++pos_;
      if (!read_name("a sub-attribute name after '.'", name)) return false;
      extend_iri_name(sub_start, name);
      if (auto m = metadata_named(name)) {
        c.metadata = *m;
        if (!at_end() && (peek() == '.' || peek() == '['))
          return fail(pos_, "nothing may follow ." + std::string(name));
        return true;
      }
      c.sub_path.push_back(expand(name));
    }
    while (!at_end() && peek() == '[') {
      const std::size_t open = pos_++;
      while (true) {
        if (!read_name("a key of the compound value", name)) return false;
        c.compound_key.emplace_back(name);
        if (!at_end() && peek() == '.') {
          ++pos_;
          continue;
        }
        if (!at_end() && peek() == ']') {
          ++pos_;
          break;
        }
        return fail(pos_, "expected '.' or ']'", " (to close the '[' at position " + std::to_string(open) + ")");
      }
    }
    return true;
  }

  bool parse_term(std::uint32_t& out) {
    Comparison c;
    if (!at_end() && peek() == '!') {
      ++pos_;
      if (!parse_path(c)) return false;
      c.op = CompareOp::NotExists;
      if (!at_end() && is_operator_char(peek()))
        return fail(pos_, "'!' (the attribute is absent) cannot be combined with an operator");
    } else {
      if (!parse_path(c)) return false;
      const std::size_t op_start = pos_;
      while (!at_end() && is_operator_char(peek())) ++pos_;
      const std::string_view op_text = text_.substr(op_start, pos_ - op_start);
      if (op_text.empty()) {
        c.op = CompareOp::Exists;
      } else if (auto op = operator_named(op_text)) {
        c.op = *op;
        const bool pattern = c.op == CompareOp::Match || c.op == CompareOp::NotMatch;
        if (!(pattern ? parse_pattern(c) : parse_operand(c))) return false;
      } else {
        return fail(op_start, "unknown operator '" + printable_excerpt(op_text, kShownTokenLength) +
                                  "' (expected ==, !=, >, >=, <, <=, ~= or !~=)");
      }
    }
    if (!at_end() && peek() != ';' && peek() != '|' && peek() != ')') {
      return fail(pos_, c.op == CompareOp::Exists ? "expected an operator, ';', '|' or ')'"
                                                  : "expected ';', '|' or ')'");
    }
    program_.comparisons.push_back(std::move(c));
    Node node;
    node.kind = Node::Kind::Leaf;
    node.comparison = static_cast<std::uint32_t>(program_.comparisons.size() - 1);
    out = add_node(std::move(node));
    return true;
  }

  bool is_ordering(CompareOp op) const { return op != CompareOp::Equal && op != CompareOp::NotEqual; }

  // value, value..value, or value,value,...
  bool parse_operand(Comparison& c) {
    Constant first;
    const std::size_t first_start = pos_;
    if (!parse_value(first)) return false;
    c.values.push_back(std::move(first));
    if (!at_end() && peek() == '.' && peek(1) == '.') {
      const std::size_t dots = pos_;
      if (is_ordering(c.op)) return fail(dots, "a range (..) is allowed only with == or !=");
      pos_ += 2;
      Constant second;
      if (!parse_value(second)) return false;
      const Kind kind = c.values[0].kind;
      if (kind != second.kind || kind == Kind::Boolean)
        return fail(first_start, "the bounds of a range must be two numbers, strings, dates, date-times or times");
      c.values.push_back(std::move(second));
      c.operand = Operand::Range;
      return true;
    }
    if (!at_end() && peek() == ',') {
      if (is_ordering(c.op)) return fail(pos_, "a list of values is allowed only with == or !=");
      while (!at_end() && peek() == ',') {
        ++pos_;
        Constant next;
        if (!parse_value(next)) return false;
        c.values.push_back(std::move(next));
      }
      c.operand = Operand::List;
      return true;
    }
    if (is_ordering(c.op) && c.values[0].kind == Kind::Boolean)
      return fail(first_start, "true and false can be compared only with == or !=");
    c.operand = Operand::Single;
    return true;
  }

  bool parse_value(Constant& out) {
    const std::size_t start = pos_;
    if (!at_end() && peek() == '"') return parse_quoted(out);
    while (!at_end() && !ends_value(peek()) && !(peek() == '.' && peek(1) == '.')) ++pos_;
    const std::string_view token = text_.substr(start, pos_ - start);
    if (token.empty()) return fail(start, "expected a value");
    return classify(token, start, out);
  }

  bool classify(std::string_view token, std::size_t start, Constant& out) {
    out.text = std::string(token);
    if (token == "true" || token == "false") {
      out.kind = Kind::Boolean;
      out.boolean = token == "true";
      return true;
    }
    if (auto ms = parse_time_of_day(token)) {
      out.kind = Kind::Time;
      out.integer = *ms;
      return true;
    }
    if (auto days = parse_date_days(token)) {
      out.kind = Kind::Date;
      out.integer = *days;
      return true;
    }
    if (auto instant = parse_datetime(token)) {
      out.kind = Kind::DateTime;
      out.integer = *instant;
      return true;
    }
    bool integral = false;
    if (is_json_number(token, integral)) {
      out.kind = Kind::Number;
      const char* end = token.data() + token.size();
      if (integral && std::from_chars(token.data(), end, out.integer).ec == std::errc()) {
        out.is_integer = true;
        out.number = static_cast<double>(out.integer);
        return true;
      }
      const auto parsed = std::from_chars(token.data(), end, out.number);
      if (parsed.ec != std::errc() || parsed.ptr != end) return fail(start, "number out of range");
      return true;
    }
    if (model::is_uri(token)) {  // an unquoted URI, e.g. the object of a Relationship
      out.kind = Kind::String;
      out.integer = kNoTimestamp;
      return true;
    }
    return fail(start, "invalid value \"" + printable_excerpt(token, kShownTokenLength) +
                           "\" (strings must be in double quotes)");
  }

  bool parse_quoted(Constant& out) {
    const std::size_t open = pos_++;
    out.kind = Kind::String;
    std::string& text = out.text;
    while (true) {
      if (at_end()) return fail(open, "unterminated string");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        break;
      }
      if (c != '\\') {
        text.push_back(c);
        ++pos_;
        continue;
      }
      const std::size_t escape = pos_++;
      if (at_end()) return fail(open, "unterminated string");
      switch (text_[pos_++]) {
        case '"': text.push_back('"'); break;
        case '\\': text.push_back('\\'); break;
        case '/': text.push_back('/'); break;
        case 'b': text.push_back('\b'); break;
        case 'f': text.push_back('\f'); break;
        case 'n': text.push_back('\n'); break;
        case 'r': text.push_back('\r'); break;
        case 't': text.push_back('\t'); break;
        case 'u': {
          std::uint32_t code = 0;
          if (!hex4(code)) return fail(escape, "invalid \\u escape");
          if (code >= 0xDC00 && code <= 0xDFFF) return fail(escape, "invalid \\u escape (a lone low surrogate)");
          if (code >= 0xD800 && code <= 0xDBFF) {
            std::uint32_t low = 0;
            const bool paired = peek() == '\\' && peek(1) == 'u';
            if (paired) pos_ += 2;
            if (!paired || !hex4(low) || low < 0xDC00 || low > 0xDFFF)
              return fail(escape, "invalid \\u escape (a high surrogate without its low half)");
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(text, code);
          break;
        }
        default: return fail(escape, "invalid escape in string");
      }
    }
    out.integer = parse_datetime(text).value_or(kNoTimestamp);
    return true;
  }

  bool hex4(std::uint32_t& out) {
    if (pos_ + 4 > text_.size()) return false;
    out = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      const int h = hex_digit(text_[pos_ + i]);
      if (h < 0) return false;
      out = out * 16 + static_cast<std::uint32_t>(h);
    }
    pos_ += 4;
    return true;
  }

  // A regex after ~= or !~=: "quoted" (the quotes delimit it; \" inside stands for ") or bare up
  // to the next ';', '|' or ')' outside the regex's own groups and classes.
  bool parse_pattern(Comparison& c) {
    const std::size_t start = pos_;
    std::size_t pattern_start = start;
    std::string_view pattern;
    if (!at_end() && peek() == '"') {
      pattern_start = ++pos_;
      while (!at_end() && peek() != '"') pos_ += peek() == '\\' ? 2 : 1;
      if (at_end()) return fail(start, "unterminated regular expression");
      pattern = text_.substr(pattern_start, pos_ - pattern_start);
      ++pos_;
    } else {
      int depth = 0;
      bool in_class = false;
      while (!at_end()) {
        const char ch = peek();
        if (ch == '\\') {
          pos_ = std::min(pos_ + 2, text_.size());
          continue;
        }
        if (in_class) {
          in_class = ch != ']';
        } else if (ch == '[') {
          in_class = true;
        } else if (ch == '(') {
          ++depth;
        } else if (ch == ')') {
          if (depth == 0) break;
          --depth;
        } else if ((ch == ';' || ch == '|') && depth == 0) {
          break;
        }
        ++pos_;
      }
      pattern = text_.substr(start, pos_ - start);
    }
    if (pattern.empty()) return fail(start, "expected a regular expression");
    std::string error;
    if (!c.regex.compile(pattern, error)) return fail(pattern_start, "invalid regular expression: " + error);
    c.operand = Operand::Pattern;
    return true;
  }

  std::string_view text_;
  const jsonld::Context& ctx_;
  QProgram& program_;
  std::size_t pos_ = 0;
  std::optional<Problem> problem_;
};

json::value json_of(const Constant& v) {
  switch (v.kind) {
    case Kind::Number: return v.is_integer ? json::value(v.integer) : json::value(v.number);
    case Kind::Boolean: return json::value(v.boolean);
    default: return json::value(v.text);
  }
}

Timestamp ms_of(const Constant& v) {
  switch (v.kind) {
    case Kind::Date: return v.integer * kMsPerDay;
    case Kind::DateTime:
    case Kind::Time: return v.integer;
    default: return kNoTimestamp;
  }
}

std::optional<IndexableTerm> indexable(const Comparison& c) {
  if (!c.sub_path.empty() || !c.compound_key.empty() || c.metadata != Metadata::None) return std::nullopt;
  IndexableTerm t;
  t.attribute = c.attribute;
  switch (c.op) {
    case CompareOp::Equal:
      t.op = c.operand == Operand::Range ? IndexableTerm::Range
             : c.operand == Operand::List ? IndexableTerm::OneOf
                                          : IndexableTerm::Equal;
      break;
    case CompareOp::Greater: t.op = IndexableTerm::Greater; break;
    case CompareOp::GreaterEqual: t.op = IndexableTerm::GreaterEqual; break;
    case CompareOp::Less: t.op = IndexableTerm::Less; break;
    case CompareOp::LessEqual: t.op = IndexableTerm::LessEqual; break;
    default: return std::nullopt;
  }
  if (t.op == IndexableTerm::OneOf) {
    for (const auto& v : c.values) {
      t.values.push_back(json_of(v));
      t.kinds.push_back(v.kind);
    }
    return t;
  }
  t.value = json_of(c.values[0]);
  t.kind = c.values[0].kind;
  t.ms = ms_of(c.values[0]);
  if (t.op == IndexableTerm::Range) {
    t.upper = json_of(c.values[1]);
    t.upper_ms = ms_of(c.values[1]);
  }
  return t;
}

}  // namespace

bool QExpression::matches(const model::Entity& entity) const {
  return !program_ || evaluate(*program_, program_->root, entity);
}

std::vector<IndexableTerm> QExpression::required_terms() const {
  std::vector<IndexableTerm> out;
  if (!program_) return out;
  const Node& root = program_->nodes[program_->root];
  const auto consider = [&](const Node& node) {
    if (node.kind != Node::Kind::Leaf) return;
    if (auto t = indexable(program_->comparisons[node.comparison])) out.push_back(std::move(*t));
  };
  if (root.kind == Node::Kind::And) {
    for (auto child : root.children) consider(program_->nodes[child]);
  } else {
    consider(root);
  }
  return out;
}

std::vector<model::Term> QExpression::attributes() const {
  std::vector<model::Term> out;
  if (!program_) return out;
  for (const auto& c : program_->comparisons)
    if (std::find(out.begin(), out.end(), c.attribute) == out.end()) out.push_back(c.attribute);
  return out;
}

Result<QExpression> parse_q(std::string_view text, const jsonld::Context& ctx) {
  auto program = std::make_shared<QProgram>();
  QParser parser(text, ctx, *program);
  if (auto problem = parser.parse()) return std::move(*problem);
  QExpression expression;
  expression.program_ = std::move(program);
  return expression;
}

}  // namespace ct::query
