#include "query/scope.hpp"

#include <optional>

#include "common/text.hpp"

namespace ct::query {
namespace detail {

struct ScopeLevel {
  std::string name;
  bool any = false;  // "+"
};

struct ScopePattern {
  std::vector<ScopeLevel> levels;
  bool descendants = false;  // a trailing "/#"
};

struct ScopeNode {
  enum class Kind : std::uint8_t { And, Or, Leaf };
  Kind kind = Kind::Leaf;
  std::uint32_t pattern = 0;            // Leaf
  std::vector<std::uint32_t> children;  // And, Or
};

struct ScopeProgram {
  std::vector<ScopePattern> patterns;
  std::vector<ScopeNode> nodes;
  std::uint32_t root = 0;
};

}  // namespace detail

namespace {

using detail::ScopeNode;
using detail::ScopePattern;
using detail::ScopeProgram;

constexpr int kMaxScopeNesting = 32;
constexpr std::size_t kShownScopeLength = 200;

bool is_scope_blank_or_control(char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }
bool ends_level(char c) { return c == '/' || c == ',' || c == ';' || c == '(' || c == ')'; }
bool ends_term(char c) { return c == ',' || c == ';' || c == ')'; }
bool forbidden_in_level(char c) { return c == '#' || c == '+' || is_scope_blank_or_control(c); }

// Walks `scope` level by level against the pattern, without copying it.
bool scope_matches(const ScopePattern& pattern, std::string_view scope) {
  std::size_t pos = 0;
  for (const auto& level : pattern.levels) {
    if (pos >= scope.size() || scope[pos] != '/') return false;
    ++pos;
    std::size_t end = scope.find('/', pos);
    if (end == std::string_view::npos) end = scope.size();
    if (end == pos) return false;
    if (!level.any && scope.substr(pos, end - pos) != level.name) return false;
    pos = end;
  }
  if (pos == scope.size()) return true;
  return pattern.descendants && scope[pos] == '/';
}

bool evaluate(const ScopeProgram& program, std::uint32_t index, const std::vector<std::string>& scopes) {
  const ScopeNode& node = program.nodes[index];
  switch (node.kind) {
    case ScopeNode::Kind::Leaf:
      for (const auto& scope : scopes)
        if (scope_matches(program.patterns[node.pattern], scope)) return true;
      return false;
    case ScopeNode::Kind::And:
      for (auto child : node.children)
        if (!evaluate(program, child, scopes)) return false;
      return true;
    case ScopeNode::Kind::Or:
      for (auto child : node.children)
        if (evaluate(program, child, scopes)) return true;
      return false;
  }
  return false;
}


// Recursive descent; recursion only at "(" and bounded by kMaxScopeNesting.
class ScopeParser {
 public:
  ScopeParser(std::string_view text, ScopeProgram& program) : text_(text), program_(program) {}

  std::optional<Problem> parse() {
    std::uint32_t root = 0;
    if (!parse_chain(',', ScopeNode::Kind::Or, 0, root)) return std::move(problem_);
    if (!at_end()) {
      fail(pos_, peek() == ')' ? "unexpected ')' with no matching '('" : "expected ',', ';' or the end");
      return std::move(problem_);
    }
    program_.root = root;
    return std::nullopt;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool fail(std::size_t at, std::string_view what, std::string_view note = {}) {
    problem_ = bad_request("scopeQ: " + std::string(what) + " at position " + std::to_string(at) + " in \"" +
                           printable_excerpt(text_, kShownScopeLength) + "\"" + std::string(note));
    return false;
  }
  std::uint32_t add_node(ScopeNode node) {
    program_.nodes.push_back(std::move(node));
    return static_cast<std::uint32_t>(program_.nodes.size() - 1);
  }

  // An OR chain of AND chains (separator ',') or an AND chain of primaries (separator ';').
  bool parse_chain(char separator, ScopeNode::Kind kind, int depth, std::uint32_t& out) {
    std::vector<std::uint32_t> children;
    while (true) {
      std::uint32_t child = 0;
      const bool parsed = kind == ScopeNode::Kind::Or ? parse_chain(';', ScopeNode::Kind::And, depth, child)
                                                      : parse_primary(depth, child);
      if (!parsed) return false;
      children.push_back(child);
      if (at_end() || peek() != separator) break;
      ++pos_;
    }
    if (children.size() == 1) {
      out = children.front();
      return true;
    }
    ScopeNode node;
    node.kind = kind;
    node.children = std::move(children);
    out = add_node(std::move(node));
    return true;
  }

  bool parse_primary(int depth, std::uint32_t& out) {
    if (peek() != '(' || at_end()) return parse_term(out);
    const std::size_t open = pos_;
    if (depth >= kMaxScopeNesting)
      return fail(open, "parentheses nested deeper than " + std::to_string(kMaxScopeNesting) + " levels");
    ++pos_;
    if (!parse_chain(',', ScopeNode::Kind::Or, depth + 1, out)) return false;
    if (at_end() || peek() != ')')
      return fail(pos_, "expected ')'", " (to close the '(' at position " + std::to_string(open) + ")");
    ++pos_;
    return true;
  }

  bool parse_term(std::uint32_t& out) {
    ScopePattern pattern;
    if (at_end() || peek() != '/') return fail(pos_, "expected a scope starting with '/'");
    while (!at_end() && peek() == '/') {
      ++pos_;
      const std::size_t start = pos_;
      if (peek() == '#' && !at_end()) {
        ++pos_;
        if (!at_end() && !ends_term(peek())) return fail(start, "'#' must be the last level");
        pattern.descendants = true;
        break;
      }
      while (!at_end() && !ends_level(peek())) ++pos_;
      const std::string_view level = text_.substr(start, pos_ - start);
      if (level.empty()) return fail(start, "expected a scope level after '/'");
      if (level == "+") {
        pattern.levels.push_back({{}, true});
        continue;
      }
      for (std::size_t i = 0; i < level.size(); ++i) {
        if (level[i] == '+' || level[i] == '#') return fail(start + i, "'+' and '#' must be a whole level");
        if (is_scope_blank_or_control(level[i])) return fail(start + i, "a scope level cannot hold blanks or controls");
      }
      pattern.levels.push_back({std::string(level), false});
    }
    if (!at_end() && !ends_term(peek())) return fail(pos_, "expected '/', ',', ';' or ')'");
    program_.patterns.push_back(std::move(pattern));
    ScopeNode node;
    node.pattern = static_cast<std::uint32_t>(program_.patterns.size() - 1);
    out = add_node(std::move(node));
    return true;
  }

  std::string_view text_;
  ScopeProgram& program_;
  std::size_t pos_ = 0;
  std::optional<Problem> problem_;
};

}  // namespace

bool is_valid_scope(std::string_view scope) {
  if (scope.empty() || scope.front() != '/') return false;
  std::size_t level_length = 0;
  for (std::size_t i = 1; i <= scope.size(); ++i) {
    if (i == scope.size() || scope[i] == '/') {
      if (level_length == 0) return false;
      level_length = 0;
      continue;
    }
    const char c = scope[i];
    if (forbidden_in_level(c) || c == ',' || c == ';' || c == '(' || c == ')') return false;
    ++level_length;
  }
  return true;
}

bool ScopeQuery::matches(const std::vector<std::string>& entity_scopes) const {
  return !program_ || evaluate(*program_, program_->root, entity_scopes);
}

Result<ScopeQuery> parse_scope_q(std::string_view text) {
  auto program = std::make_shared<ScopeProgram>();
  ScopeParser parser(text, *program);
  if (auto problem = parser.parse()) return std::move(*problem);
  ScopeQuery query;
  query.program_ = std::move(program);
  return query;
}

}  // namespace ct::query
