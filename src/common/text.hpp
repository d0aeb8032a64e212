#pragma once
// Text checks shared by every layer that echoes client input.
#include <cstddef>
#include <string>
#include <string_view>

namespace ct {

bool is_valid_utf8(std::string_view text);
// `text` itself when it is valid UTF-8; otherwise a copy with every non-ASCII byte replaced by '?',
// so that a problem body quoting hostile input is still valid JSON.
std::string printable_utf8(std::string_view text);
// printable_utf8 of at most `limit` bytes of `text`, cut at a character boundary and then followed by
// "...": for quoting a client's input in a problem body.
std::string printable_excerpt(std::string_view text, std::size_t limit);

}  // namespace ct
