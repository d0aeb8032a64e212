#pragma once
// Lets GoogleTest print JSON values as JSON text when an expectation fails.
#include <ostream>

#include "common/json.hpp"

namespace boost::json {
inline void PrintTo(const value& v, std::ostream* os) { *os << ct::to_text(v); }
inline void PrintTo(const object& o, std::ostream* os) { *os << ct::to_text(value(o)); }
inline void PrintTo(const array& a, std::ostream* os) { *os << ct::to_text(value(a)); }
}  // namespace boost::json
