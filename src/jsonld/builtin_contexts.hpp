#pragma once
// The @context documents compiled into the binary from data/contexts (generated source).
#include <span>
#include <string_view>

namespace ct::jsonld {

struct BuiltinContext {
  std::string_view url;
  std::string_view document;
};

std::span<const BuiltinContext> builtin_contexts();

}  // namespace ct::jsonld
