#pragma once
// Logging goes through spdlog; this sets the process-wide level and pattern once at start-up.
#include <spdlog/spdlog.h>
#include <string_view>

namespace ct {
void configure_logging(std::string_view level);
}
