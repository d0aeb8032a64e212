#include "query/q_regex.hpp"

#include <algorithm>
#include <limits>

namespace ct::query::detail {
namespace {

using Range = Regex::Range;
using Instruction = Regex::Instruction;
using Op = Regex::Op;

// Bounds that keep compilation and matching cheap whatever the pattern: {n,m} copies its operand,
// so a 256-byte pattern could otherwise expand to millions of instructions.
constexpr std::size_t kMaxInstructions = 4096;
constexpr int kMaxRepeat = 1000;
constexpr int kMaxGroupDepth = 64;
constexpr int kUnbounded = -1;
constexpr char32_t kMaxCodePoint = 0x10FFFF;
constexpr char32_t kReplacement = 0xFFFD;

struct Decoded {
  char32_t c;
  std::size_t length;
};

// One code point of UTF-8; an invalid byte decodes to U+FFFD on its own, so any input is readable.
Decoded decode_utf8(std::string_view s, std::size_t pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b0 = byte(pos);
  if (b0 < 0x80) return {b0, 1};
  std::size_t length = 0;
  char32_t c = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2, c = b0 & 0x1Fu;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3, c = b0 & 0x0Fu;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4, c = b0 & 0x07u;
  } else {
    return {kReplacement, 1};
  }
  if (pos + length > s.size()) return {kReplacement, 1};
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char b = byte(pos + i);
    if ((b & 0xC0u) != 0x80u) return {kReplacement, 1};
    c = (c << 6) | (b & 0x3Fu);
  }
  const bool overlong = (length == 3 && c < 0x800) || (length == 4 && c < 0x10000);
  if (overlong || c > kMaxCodePoint || (c >= 0xD800 && c <= 0xDFFF)) return {kReplacement, 1};
  return {c, length};
}

void append_utf8(std::string& out, char32_t c) {
  const auto put = [&](unsigned v) { out.push_back(static_cast<char>(v)); };
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

char32_t fold_ascii(char32_t c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }
char32_t other_case_ascii(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + ('a' - 'A');
  if (c >= 'a' && c <= 'z') return c - ('a' - 'A');
  return c;
}
bool is_word(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool is_line_terminator(char32_t c) { return c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029; }
bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }
bool is_ascii_letter(char32_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
int hex_value(char32_t c) {
  if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<int>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<int>(c - 'A' + 10);
  return -1;
}

void normalize(std::vector<Range>& ranges) {
  std::sort(ranges.begin(), ranges.end(), [](Range a, Range b) { return a.low < b.low; });
  std::vector<Range> merged;
  for (Range r : ranges) {
    if (!merged.empty() && r.low <= merged.back().high + 1)
      merged.back().high = std::max(merged.back().high, r.high);
    else
      merged.push_back(r);
  }
  ranges = std::move(merged);
}

std::vector<Range> complement(const std::vector<Range>& sorted) {
  std::vector<Range> out;
  char32_t next = 0;
  for (Range r : sorted) {
    if (r.low > next) out.push_back({next, r.low - 1});
    next = r.high + 1;
  }
  if (next <= kMaxCodePoint) out.push_back({next, kMaxCodePoint});
  return out;
}

// The sets behind \d, \w and \s (ECMAScript's definitions).
std::vector<Range> shorthand_set(char32_t letter) {
  std::vector<Range> set;
  switch (fold_ascii(letter)) {
    case 'd': set = {{'0', '9'}}; break;
    case 'w': set = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}; break;
    default:
      set = {{0x09, 0x0D}, {0x20, 0x20}, {0xA0, 0xA0}, {0x1680, 0x1680}, {0x2000, 0x200A}, {0x2028, 0x2029},
             {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
      break;
  }
  normalize(set);
  return letter >= 'A' && letter <= 'Z' ? complement(set) : set;
}

bool is_shorthand(char32_t c) { return c == 'd' || c == 'D' || c == 'w' || c == 'W' || c == 's' || c == 'S'; }

// The syntax tree of a pattern, nodes referring to each other by index.
struct Node {
  enum class Kind : std::uint8_t {
    Empty, Char, Any, Class, Begin, End, WordBoundary, NotWordBoundary, Concat, Alternation, Repeat };
  Kind kind = Kind::Empty;
  char32_t c = 0;
  std::uint32_t class_index = 0;
  int min = 0, max = 0;
  std::vector<std::uint32_t> children;
};

bool is_assertion(Node::Kind k) {
  return k == Node::Kind::Begin || k == Node::Kind::End || k == Node::Kind::WordBoundary ||
         k == Node::Kind::NotWordBoundary;
}

class Parser {
 public:
  Parser(std::string_view pattern, std::vector<Node>& nodes, std::vector<std::vector<Range>>& classes,
         RegexError& error)
      : pattern_(pattern), nodes_(nodes), classes_(classes), error_(error) {}

  bool parse(std::size_t start, std::uint32_t& root) {
    pos_ = start;
    if (!parse_alternation(0, root)) return false;
    if (pos_ < pattern_.size()) return fail(pos_, "unmatched ')'");  // parse_sequence stops only at ')' here
    return true;
  }

 private:
  bool fail(std::size_t at, std::string what) {
    error_ = {at, std::move(what)};
    return false;
  }
  bool at_end() const { return pos_ >= pattern_.size(); }
  char peek_byte(std::size_t ahead = 0) const { return pos_ + ahead < pattern_.size() ? pattern_[pos_ + ahead] : '\0'; }
  bool next_code_point(char32_t& c) {
    const Decoded d = decode_utf8(pattern_, pos_);
    if (d.c == kReplacement && d.length == 1 && static_cast<unsigned char>(pattern_[pos_]) >= 0x80)
      return fail(pos_, "the pattern is not valid UTF-8");
    c = d.c;
    pos_ += d.length;
    return true;
  }
  std::uint32_t add(Node node) {
    nodes_.push_back(std::move(node));
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }
  std::uint32_t add_class(std::vector<Range> set) {
    classes_.push_back(std::move(set));
    Node n;
    n.kind = Node::Kind::Class;
    n.class_index = static_cast<std::uint32_t>(classes_.size() - 1);
    return add(std::move(n));
  }
  std::uint32_t add_simple(Node::Kind kind, char32_t c = 0) {
    Node n;
    n.kind = kind;
    n.c = c;
    return add(std::move(n));
  }

  bool parse_alternation(int depth, std::uint32_t& out) {
    std::vector<std::uint32_t> branches;
    std::uint32_t branch = 0;
    if (!parse_sequence(depth, branch)) return false;
    branches.push_back(branch);
    while (peek_byte() == '|' && !at_end()) {
      ++pos_;
      if (!parse_sequence(depth, branch)) return false;
      branches.push_back(branch);
    }
    if (branches.size() == 1) {
      out = branches.front();
      return true;
    }
    Node n;
    n.kind = Node::Kind::Alternation;
    n.children = std::move(branches);
    out = add(std::move(n));
    return true;
  }

  bool parse_sequence(int depth, std::uint32_t& out) {
    std::vector<std::uint32_t> items;
    while (!at_end() && peek_byte() != '|') {
      if (peek_byte() == ')') {
        if (depth == 0) return fail(pos_, "unmatched ')'");
        break;
      }
      std::uint32_t atom = 0;
      if (!parse_atom(depth, atom)) return false;
      if (!parse_quantifier(atom)) return false;
      items.push_back(atom);
    }
    if (items.size() == 1) {
      out = items.front();
      return true;
    }
    Node n;
    n.kind = items.empty() ? Node::Kind::Empty : Node::Kind::Concat;
    n.children = std::move(items);
    out = add(std::move(n));
    return true;
  }

  // {n}, {n,} or {n,m} at pos_; false (and pos_ unchanged) when the brace is not a quantifier.
  bool brace_quantifier(int& min, int& max, bool& too_large) {
    std::size_t p = pos_ + 1;
    const auto number = [&](int& value) {
      const std::size_t start = p;
      long long v = 0;
      while (p < pattern_.size() && pattern_[p] >= '0' && pattern_[p] <= '9') {
        v = std::min<long long>(v * 10 + (pattern_[p] - '0'), std::numeric_limits<int>::max());
        ++p;
      }
      value = static_cast<int>(v);
      return p > start;
    };
    if (!number(min)) return false;
    max = min;
    if (p < pattern_.size() && pattern_[p] == ',') {
      ++p;
      if (!number(max)) max = kUnbounded;
    }
    if (p >= pattern_.size() || pattern_[p] != '}') return false;
    too_large = min > kMaxRepeat || max > kMaxRepeat;
    pos_ = p + 1;
    return true;
  }

  bool parse_quantifier(std::uint32_t& atom) {
    if (at_end()) return true;
    const std::size_t start = pos_;
    int min = 0, max = 0;
    bool too_large = false;
    switch (peek_byte()) {
      case '*': min = 0, max = kUnbounded, ++pos_; break;
      case '+': min = 1, max = kUnbounded, ++pos_; break;
      case '?': min = 0, max = 1, ++pos_; break;
      case '{':
        if (!brace_quantifier(min, max, too_large)) return true;  // a literal '{', read as the next atom
        break;
      default: return true;
    }
    if (is_assertion(nodes_[atom].kind)) return fail(start, "nothing to repeat");
    if (too_large) return fail(start, "a repetition count above " + std::to_string(kMaxRepeat));
    if (max != kUnbounded && min > max) return fail(start, "numbers out of order in {} quantifier");
    if (peek_byte() == '?' && !at_end()) ++pos_;  // lazy: the same strings match
    Node n;
    n.kind = Node::Kind::Repeat;
    n.min = min;
    n.max = max;
    n.children = {atom};
    atom = add(std::move(n));
    return true;
  }

  bool parse_group(int depth, std::uint32_t& out) {
    const std::size_t open = pos_;
    if (depth >= kMaxGroupDepth) return fail(open, "groups nested too deeply");
    ++pos_;
    if (peek_byte() == '?' && !at_end()) {
      const char kind = peek_byte(1);
      if (kind == ':') {
        pos_ += 2;
      } else if (kind == '=' || kind == '!' || (kind == '<' && (peek_byte(2) == '=' || peek_byte(2) == '!'))) {
        return fail(open, "look-around assertions are not supported");
      } else if (kind == '<') {
        std::size_t p = pos_ + 2;
        while (p < pattern_.size() && (is_word(static_cast<unsigned char>(pattern_[p])) || pattern_[p] == '$')) ++p;
        if (p == pos_ + 2 || p >= pattern_.size() || pattern_[p] != '>') return fail(open, "invalid group name");
        pos_ = p + 1;
      } else {
        return fail(open, "invalid group");
      }
    }
    if (!parse_alternation(depth + 1, out)) return false;
    if (peek_byte() != ')' || at_end()) return fail(open, "missing ')' for this group");
    ++pos_;
    return true;
  }

  // An escape after the backslash at pos_ - 1, outside or inside a class, that stands for one
  // character. Shorthand classes and assertions are handled by the callers.
  bool parse_char_escape(std::size_t backslash, bool in_class, char32_t& out) {
    if (at_end()) return fail(backslash, "\\ at the end of the pattern");
    char32_t c = 0;
    if (!next_code_point(c)) return false;
    switch (c) {
      case 'n': out = '\n'; return true;
      case 'r': out = '\r'; return true;
      case 't': out = '\t'; return true;
      case 'f': out = '\f'; return true;
      case 'v': out = '\v'; return true;
      case 'b':
        if (in_class) {
          out = '\b';
          return true;
        }
        break;
      case '0':
        if (is_digit(static_cast<unsigned char>(peek_byte())))
          return fail(backslash, "octal escapes are not supported");
        out = 0;
        return true;
      case 'c': {
        const char32_t letter = static_cast<unsigned char>(peek_byte());
        if (at_end() || !is_ascii_letter(letter)) return fail(backslash, "invalid \\c escape");
        ++pos_;
        out = letter % 32;
        return true;
      }
      case 'x': {
        const int h = hex_value(static_cast<unsigned char>(peek_byte()));
        const int l = hex_value(static_cast<unsigned char>(peek_byte(1)));
        if (pos_ + 2 > pattern_.size() || h < 0 || l < 0) return fail(backslash, "invalid \\x escape");
        pos_ += 2;
        out = static_cast<char32_t>(h * 16 + l);
        return true;
      }
      case 'u': return parse_unicode_escape(backslash, out);
      default: break;
    }
    if (is_digit(c)) return fail(backslash, "back-references are not supported");
    if (c == 'k') return fail(backslash, "back-references are not supported");
    if (is_ascii_letter(c)) return fail(backslash, "unknown escape \\" + std::string(1, static_cast<char>(c)));
    out = c;  // an escaped punctuation character stands for itself
    return true;
  }

  bool parse_unicode_escape(std::size_t backslash, char32_t& out) {
    char32_t value = 0;
    if (peek_byte() == '{' && !at_end()) {
      std::size_t p = pos_ + 1, digits = 0;
      while (p < pattern_.size() && hex_value(static_cast<unsigned char>(pattern_[p])) >= 0 && digits < 7) {
        value = value * 16 + static_cast<char32_t>(hex_value(static_cast<unsigned char>(pattern_[p])));
        ++p, ++digits;
      }
      if (digits == 0 || p >= pattern_.size() || pattern_[p] != '}' || value > kMaxCodePoint)
        return fail(backslash, "invalid \\u escape");
      pos_ = p + 1;
    } else {
      for (std::size_t i = 0; i < 4; ++i) {
        const int h = pos_ + i < pattern_.size() ? hex_value(static_cast<unsigned char>(pattern_[pos_ + i])) : -1;
        if (h < 0) return fail(backslash, "invalid \\u escape");
        value = value * 16 + static_cast<char32_t>(h);
      }
      pos_ += 4;
    }
    out = value;
    return true;
  }

  bool parse_class(std::uint32_t& out) {
    const std::size_t open = pos_++;
    bool negated = false;
    if (peek_byte() == '^' && !at_end()) negated = true, ++pos_;
    std::vector<Range> set;
    // One class item: a character (single) or a shorthand set (single == false).
    const auto item = [&](char32_t& c, bool& single) -> bool {
      single = true;
      if (peek_byte() == '\\') {
        const std::size_t backslash = pos_++;
        if (!at_end() && is_shorthand(static_cast<unsigned char>(peek_byte()))) {
          const auto extra = shorthand_set(static_cast<unsigned char>(pattern_[pos_++]));
          set.insert(set.end(), extra.begin(), extra.end());
          single = false;
          return true;
        }
        if (peek_byte() == '-' && !at_end()) {
          ++pos_;
          c = '-';
          return true;
        }
        return parse_char_escape(backslash, true, c);
      }
      return next_code_point(c);
    };
    while (true) {
      if (at_end()) return fail(open, "missing ']' for this character class");
      if (peek_byte() == ']') break;
      const std::size_t item_start = pos_;
      char32_t low = 0;
      bool single = false;
      if (!item(low, single)) return false;
      if (single && peek_byte() == '-' && pos_ + 1 < pattern_.size() && pattern_[pos_ + 1] != ']') {
        ++pos_;
        char32_t high = 0;
        bool high_single = false;
        if (!item(high, high_single)) return false;
        if (!high_single) return fail(item_start, "a class escape cannot end a range");
        if (low > high) return fail(item_start, "range out of order in character class");
        set.push_back({low, high});
      } else if (single) {
        set.push_back({low, low});
      } else if (peek_byte() == '-' && pos_ + 1 < pattern_.size() && pattern_[pos_ + 1] != ']') {
        return fail(item_start, "a class escape cannot start a range");
      }
    }
    ++pos_;  // ']'
    normalize(set);
    out = add_class(negated ? complement(set) : std::move(set));
    return true;
  }

  bool parse_atom(int depth, std::uint32_t& out) {
    const std::size_t start = pos_;
    switch (peek_byte()) {
      case '(': return parse_group(depth, out);
      case '[': return parse_class(out);
      case '.': ++pos_, out = add_simple(Node::Kind::Any); return true;
      case '^': ++pos_, out = add_simple(Node::Kind::Begin); return true;
      case '$': ++pos_, out = add_simple(Node::Kind::End); return true;
      case '*': case '+': case '?': return fail(start, "nothing to repeat");
      case '{': {
        int min = 0, max = 0;
        bool too_large = false;
        if (brace_quantifier(min, max, too_large)) return fail(start, "nothing to repeat");
        ++pos_;
        out = add_simple(Node::Kind::Char, '{');
        return true;
      }
      case '\\': {
        ++pos_;
        const char next = peek_byte();
        if (!at_end() && (next == 'b' || next == 'B')) {
          ++pos_;
          out = add_simple(next == 'b' ? Node::Kind::WordBoundary : Node::Kind::NotWordBoundary);
          return true;
        }
        if (!at_end() && is_shorthand(static_cast<unsigned char>(next))) {
          ++pos_;
          out = add_class(shorthand_set(static_cast<unsigned char>(next)));
          return true;
        }
        char32_t c = 0;
        if (!parse_char_escape(start, false, c)) return false;
        out = add_simple(Node::Kind::Char, c);
        return true;
      }
      default: {
        char32_t c = 0;
        if (!next_code_point(c)) return false;
        out = add_simple(Node::Kind::Char, c);
        return true;
      }
    }
  }

  std::string_view pattern_;
  std::size_t pos_ = 0;
  std::vector<Node>& nodes_;
  std::vector<std::vector<Range>>& classes_;
  RegexError& error_;
};

class Emitter {
 public:
  Emitter(const std::vector<Node>& nodes, std::vector<Instruction>& program, bool ignore_case)
      : nodes_(nodes), program_(program), ignore_case_(ignore_case) {}

  // False when the program would exceed kMaxInstructions, or emitting it would take too long
  // (((){1000}){1000}){1000} adds no instruction but would walk its empty group 10^9 times).
  bool emit(std::uint32_t index) {
    if (++steps_ > kMaxEmitSteps) return false;
    const Node& n = nodes_[index];
    switch (n.kind) {
      case Node::Kind::Empty: return true;
      case Node::Kind::Char: return push({Op::Char, 0, 0, ignore_case_ ? fold_ascii(n.c) : n.c});
      case Node::Kind::Any: return push({Op::Any});
      case Node::Kind::Class: return push({Op::Class, n.class_index});
      case Node::Kind::Begin: return push({Op::Begin});
      case Node::Kind::End: return push({Op::End});
      case Node::Kind::WordBoundary: return push({Op::WordBoundary});
      case Node::Kind::NotWordBoundary: return push({Op::NotWordBoundary});
      case Node::Kind::Concat:
        for (auto child : n.children)
          if (!emit(child)) return false;
        return true;
      case Node::Kind::Alternation: return emit_alternation(n);
      case Node::Kind::Repeat: return emit_repeat(n);
    }
    return false;
  }

 private:
  bool push(Instruction inst) {
    if (program_.size() >= kMaxInstructions) return false;
    program_.push_back(inst);
    return true;
  }
  std::uint32_t here() const { return static_cast<std::uint32_t>(program_.size()); }

  bool emit_alternation(const Node& n) {
    std::vector<std::uint32_t> jumps;
    for (std::size_t i = 0; i + 1 < n.children.size(); ++i) {
      const std::uint32_t split = here();
      if (!push({Op::Split, split + 1})) return false;
      if (!emit(n.children[i])) return false;
      jumps.push_back(here());
      if (!push({Op::Jump})) return false;
      program_[split].y = here();
    }
    if (!emit(n.children.back())) return false;
    for (auto j : jumps) program_[j].x = here();
    return true;
  }

  bool emit_repeat(const Node& n) {
    const std::uint32_t child = n.children.front();
    for (int i = 0; i < n.min; ++i)
      if (!emit(child)) return false;
    if (n.max == kUnbounded) {
      const std::uint32_t split = here();
      if (!push({Op::Split, split + 1})) return false;
      if (!emit(child)) return false;
      if (!push({Op::Jump, split})) return false;
      program_[split].y = here();
      return true;
    }
    std::vector<std::uint32_t> splits;
    for (int i = n.min; i < n.max; ++i) {
      splits.push_back(here());
      if (!push({Op::Split, here() + 1})) return false;
      if (!emit(child)) return false;
    }
    for (auto s : splits) program_[s].y = here();
    return true;
  }

  static constexpr std::size_t kMaxEmitSteps = 100000;
  const std::vector<Node>& nodes_;
  std::vector<Instruction>& program_;
  bool ignore_case_;
  std::size_t steps_ = 0;
};

// A set of program counters with O(1) insert, lookup and clear (Briggs & Torczon).
struct PcSet {
  std::vector<std::uint32_t> dense, sparse;
  std::size_t count = 0;

  void reset(std::size_t capacity) {
    if (sparse.size() < capacity) dense.resize(capacity), sparse.resize(capacity);
    count = 0;
  }
  bool contains(std::uint32_t pc) const { return sparse[pc] < count && dense[sparse[pc]] == pc; }
  void insert(std::uint32_t pc) {
    sparse[pc] = static_cast<std::uint32_t>(count);
    dense[count++] = pc;
  }
};

struct Scratch {
  PcSet lists[2];
  std::vector<std::uint32_t> stack;
};

}  // namespace

bool Regex::compile(std::string_view pattern, RegexError& error) {
  program_.clear();
  classes_.clear();
  literal_ = literal_at_start_ = literal_at_end_ = false;
  if (pattern.size() > kMaxRegexLength) {
    error = {kMaxRegexLength, "the pattern is longer than " + std::to_string(kMaxRegexLength) + " bytes"};
    return false;
  }
  ignore_case_ = pattern.substr(0, 4) == "(?i)";
  std::vector<Node> nodes;
  std::uint32_t root = 0;
  Parser parser(pattern, nodes, classes_, error);
  if (!parser.parse(ignore_case_ ? 4 : 0, root)) return false;

  // A pattern of plain characters, possibly anchored, needs no automaton.
  if (!ignore_case_) {
    const Node& top = nodes[root];
    std::vector<std::uint32_t> items = top.kind == Node::Kind::Concat ? top.children : std::vector<std::uint32_t>{root};
    if (top.kind == Node::Kind::Empty) items.clear();
    std::size_t first = 0, last = items.size();
    if (first < last && nodes[items[first]].kind == Node::Kind::Begin) literal_at_start_ = true, ++first;
    if (first < last && nodes[items[last - 1]].kind == Node::Kind::End) literal_at_end_ = true, --last;
    const bool plain = std::all_of(items.begin() + static_cast<std::ptrdiff_t>(first),
                                   items.begin() + static_cast<std::ptrdiff_t>(last),
                                   [&](std::uint32_t i) { return nodes[i].kind == Node::Kind::Char; });
    if (plain) {
      literal_ = true;
      literal_text_.clear();
      for (std::size_t i = first; i < last; ++i) append_utf8(literal_text_, nodes[items[i]].c);
      return true;
    }
    literal_at_start_ = literal_at_end_ = false;
  }

  Emitter emitter(nodes, program_, ignore_case_);
  if (!emitter.emit(root) || program_.size() >= kMaxInstructions) {
    error = {0, "the pattern is too complex"};
    program_.clear();
    return false;
  }
  program_.push_back({Op::Match});
  return true;
}

bool Regex::class_contains(std::uint32_t index, char32_t c) const {
  const auto& ranges = classes_[index];
  auto it = std::upper_bound(ranges.begin(), ranges.end(), c, [](char32_t v, Range r) { return v < r.low; });
  return it != ranges.begin() && c <= std::prev(it)->high;
}

bool Regex::step_matches(const Instruction& inst, char32_t c) const {
  switch (inst.op) {
    case Op::Char: return (ignore_case_ ? fold_ascii(c) : c) == inst.c;
    case Op::Any: return !is_line_terminator(c);
    case Op::Class:
      if (class_contains(inst.x, c)) return true;
      return ignore_case_ && other_case_ascii(c) != c && class_contains(inst.x, other_case_ascii(c));
    default: return false;
  }
}

bool Regex::search(std::string_view text) const {
  if (text.size() > kMaxRegexSubjectLength) return false;
  if (literal_) {
    if (literal_at_start_ && literal_at_end_) return text == literal_text_;
    if (literal_at_start_) return text.substr(0, literal_text_.size()) == literal_text_;
    if (literal_at_end_)
      return text.size() >= literal_text_.size() && text.substr(text.size() - literal_text_.size()) == literal_text_;
    return text.find(literal_text_) != std::string_view::npos;
  }
  if (program_.empty()) return false;

  thread_local Scratch scratch;
  const std::size_t size = program_.size();
  PcSet* current = &scratch.lists[0];
  PcSet* next = &scratch.lists[1];
  current->reset(size);
  next->reset(size);
  auto& stack = scratch.stack;
  stack.clear();
  stack.reserve(2 * size + 1);

  // Adds the thread at `pc` and every thread reachable from it without reading a character.
  // Returns true as soon as Match is reachable: the caller only needs to know whether one exists.
  const auto add = [&](PcSet& list, std::uint32_t start, std::size_t pos, char32_t before, char32_t after) {
    stack.clear();
    stack.push_back(start);
    while (!stack.empty()) {
      const std::uint32_t pc = stack.back();
      stack.pop_back();
      if (list.contains(pc)) continue;
      list.insert(pc);
      const Instruction& inst = program_[pc];
      switch (inst.op) {
        case Op::Jump: stack.push_back(inst.x); break;
        case Op::Split: stack.push_back(inst.y), stack.push_back(inst.x); break;
        case Op::Begin:
          if (pos == 0) stack.push_back(pc + 1);
          break;
        case Op::End:
          if (pos == text.size()) stack.push_back(pc + 1);
          break;
        case Op::WordBoundary:
        case Op::NotWordBoundary:
          if ((is_word(before) != is_word(after)) == (inst.op == Op::WordBoundary)) stack.push_back(pc + 1);
          break;
        case Op::Match: return true;
        default: break;
      }
    }
    return false;
  };

  const bool anchored = program_.front().op == Op::Begin;
  constexpr char32_t kNone = 0;  // not a word character, like the edge of the text
  char32_t before = kNone;
  std::size_t pos = 0;
  while (true) {
    const Decoded here = pos < text.size() ? decode_utf8(text, pos) : Decoded{kNone, 0};
    if ((!anchored || pos == 0) && add(*current, 0, pos, before, here.c)) return true;
    if (pos >= text.size()) return false;
    const std::size_t after_pos = pos + here.length;
    const char32_t after = after_pos < text.size() ? decode_utf8(text, after_pos).c : kNone;
    next->reset(size);
    for (std::size_t i = 0; i < current->count; ++i) {
      const std::uint32_t pc = current->dense[i];
      if (step_matches(program_[pc], here.c) && add(*next, pc + 1, after_pos, here.c, after)) return true;
    }
    std::swap(current, next);
    before = here.c;
    pos = after_pos;
    if (current->count == 0 && anchored) return false;
  }
}

}  // namespace ct::query::detail
