#pragma once
// Text checks shared by every layer that echoes client input.
#include <string>
#include <string_view>

namespace ct {

bool is_valid_utf8(std::string_view text);
// `text` itself when it is valid UTF-8; otherwise a copy with every non-ASCII byte replaced by '?',
// so that a problem body quoting hostile input is still valid JSON.
std::string printable_utf8(std::string_view text);

}  // namespace ct
