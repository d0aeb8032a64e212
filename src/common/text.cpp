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

}  // namespace ct
