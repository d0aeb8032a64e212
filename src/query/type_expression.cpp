#include "query/type_expression.hpp"

#include <algorithm>

#include "common/text.hpp"
#include "model/names.hpp"

namespace ct::query {
namespace detail {

struct TypeNode {
  enum class Kind : std::uint8_t { And, Or, Leaf };
  Kind kind = Kind::Leaf;
  model::Term type;                     // Leaf
  std::vector<std::uint32_t> children;  // And, Or
};

struct TypeProgram {
  std::vector<TypeNode> nodes;
  std::uint32_t root = 0;
  bool any_and = false;  // some ';' in the expression
};

}  // namespace detail

namespace {

using detail::TypeNode;
using detail::TypeProgram;

constexpr int kMaxTypeNesting = 32;
constexpr std::size_t kShownTypeLength = 200;

bool is_separator(char c) { return c == ',' || c == '|' || c == ';' || c == '(' || c == ')'; }

bool evaluate(const TypeProgram& program, std::uint32_t index, const std::vector<model::Term>& types) {
  const TypeNode& node = program.nodes[index];
  switch (node.kind) {
    case TypeNode::Kind::Leaf: return std::find(types.begin(), types.end(), node.type) != types.end();
    case TypeNode::Kind::And:
      for (auto child : node.children)
        if (!evaluate(program, child, types)) return false;
      return true;
    case TypeNode::Kind::Or:
      for (auto child : node.children)
        if (evaluate(program, child, types)) return true;
      return false;
  }
  return false;
}


// Recursive descent; recursion only at "(" and bounded by kMaxTypeNesting.
class TypeParser {
 public:
  TypeParser(std::string_view text, const jsonld::Context& ctx, TypeProgram& program)
      : text_(text), ctx_(ctx), program_(program) {}

  std::optional<Problem> parse() {
    std::uint32_t root = 0;
    if (!parse_or(0, root)) return std::move(problem_);
    if (!at_end()) {
      fail(pos_, peek() == ')' ? "unexpected ')' with no matching '('" : "expected ',', '|', ';' or the end");
      return std::move(problem_);
    }
    program_.root = root;
    return std::nullopt;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool fail(std::size_t at, std::string_view what, std::string_view note = {}) {
    problem_ = bad_request("type: " + std::string(what) + " at position " + std::to_string(at) + " in \"" +
                           printable_excerpt(text_, kShownTypeLength) + "\"" + std::string(note));
    return false;
  }
  std::uint32_t add_node(TypeNode node) {
    program_.nodes.push_back(std::move(node));
    return static_cast<std::uint32_t>(program_.nodes.size() - 1);
  }
  std::uint32_t combine(TypeNode::Kind kind, std::vector<std::uint32_t> children) {
    if (children.size() == 1) return children.front();
    TypeNode node;
    node.kind = kind;
    node.children = std::move(children);
    return add_node(std::move(node));
  }

  bool parse_or(int depth, std::uint32_t& out) {
    std::vector<std::uint32_t> children;
    while (true) {
      std::uint32_t child = 0;
      if (!parse_and(depth, child)) return false;
      children.push_back(child);
      if (at_end() || (peek() != ',' && peek() != '|')) break;
      ++pos_;
    }
    out = combine(TypeNode::Kind::Or, std::move(children));
    return true;
  }

  bool parse_and(int depth, std::uint32_t& out) {
    std::vector<std::uint32_t> children;
    while (true) {
      std::uint32_t child = 0;
      if (!parse_primary(depth, child)) return false;
      children.push_back(child);
      if (at_end() || peek() != ';') break;
      program_.any_and = true;
      ++pos_;
    }
    out = combine(TypeNode::Kind::And, std::move(children));
    return true;
  }

  bool parse_primary(int depth, std::uint32_t& out) {
    if (at_end() || peek() != '(') return parse_type(out);
    const std::size_t open = pos_;
    if (depth >= kMaxTypeNesting)
      return fail(open, "parentheses nested deeper than " + std::to_string(kMaxTypeNesting) + " levels");
    ++pos_;
    if (!parse_or(depth + 1, out)) return false;
    if (at_end() || peek() != ')')
      return fail(pos_, "expected ')'", " (to close the '(' at position " + std::to_string(open) + ")");
    ++pos_;
    return true;
  }

  bool parse_type(std::uint32_t& out) {
    const std::size_t start = pos_;
    while (!at_end() && !is_separator(peek())) ++pos_;
    const std::string_view name = text_.substr(start, pos_ - start);
    if (name.empty()) return fail(start, "expected a type name");
    if (!model::is_valid_term(name)) return fail(start, "invalid type name \"" + printable_excerpt(name, 80) + "\"");
    TypeNode node;
    node.type = model::Term::intern(ctx_.expand(name));
    out = add_node(std::move(node));
    return true;
  }

  std::string_view text_;
  const jsonld::Context& ctx_;
  TypeProgram& program_;
  std::size_t pos_ = 0;
  std::optional<Problem> problem_;
};

}  // namespace

bool TypeExpression::matches(const std::vector<model::Term>& entity_types) const {
  return !program_ || evaluate(*program_, program_->root, entity_types);
}

std::optional<std::vector<model::Term>> TypeExpression::any_of() const {
  if (!program_ || program_->any_and) return std::nullopt;
  // Without ';' every node is an OR or a type: the answer is every type, in order, each once.
  std::vector<model::Term> types;
  for (const auto& node : program_->nodes)
    if (node.kind == TypeNode::Kind::Leaf && std::find(types.begin(), types.end(), node.type) == types.end())
      types.push_back(node.type);
  return types;
}

Result<TypeExpression> parse_type_expression(std::string_view text, const jsonld::Context& ctx) {
  auto program = std::make_shared<TypeProgram>();
  TypeParser parser(text, ctx, *program);
  if (auto problem = parser.parse()) return std::move(*problem);
  TypeExpression expression;
  expression.program_ = std::move(program);
  return expression;
}

}  // namespace ct::query
