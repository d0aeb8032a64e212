#include "common/logging.hpp"

namespace ct {
void configure_logging(std::string_view level) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
}
}  // namespace ct
