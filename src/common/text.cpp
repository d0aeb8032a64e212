#include "common/text.hpp"

#include <simdjson.h>

namespace ct {

bool is_valid_utf8(std::string_view text) { return simdjson::validate_utf8(text.data(), text.size()); }

std::string printable_utf8(std::string_view text) {
  std::string out(text);
  if (is_valid_utf8(text)) return out;
  for (auto& c : out)
    if (static_cast<unsigned char>(c) >= 0x80) c = '?';
  return out;
}

std::string printable_excerpt(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return printable_utf8(text);
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0u) == 0x80u) --cut;
  return printable_utf8(text.substr(0, cut)) + "...";
}

}  // namespace ct
