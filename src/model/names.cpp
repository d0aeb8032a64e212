#include "model/names.hpp"

#include <cctype>

#include "common/text.hpp"

namespace ct::model {

bool is_uri(std::string_view text) {
  if (text.empty() || text.size() > 2048 || !std::isalpha(static_cast<unsigned char>(text[0]))) return false;
  std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) return false;
  for (std::size_t i = 1; i < colon; ++i) {
    const char c = text[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return false;
  }
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f) return false;
    switch (c) {
      case '<': case '>': case '"': case '{': case '}': case '|': case '\\': case '^': case '`': return false;
      default: break;
    }
  }
  return is_valid_utf8(text);  // an IRI may hold any Unicode character, as UTF-8
}

bool is_valid_term(std::string_view text) {
  if (text.empty() || text.size() > 256) return false;
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f) return false;
    switch (c) {
      case '<': case '>': case '"': case '\'': case '=': case ';': case '(': case ')': case '\\': case '`':
      case '{': case '}': case '|': case '^': return false;
      default: break;
    }
  }
  return is_valid_utf8(text);
}

}  // namespace ct::model
