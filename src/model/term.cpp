#include "model/term.hpp"

#include <mutex>
#include <shared_mutex>
#include <unordered_set>

namespace ct::model {
namespace {

// Looked up by string_view without building a std::string (C++20 heterogeneous lookup).
struct TextHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>()(text); }
};

struct Pool {
  std::shared_mutex mutex;
  std::unordered_set<std::string, TextHash, std::equal_to<>> strings;  // node-based: addresses never move
};

Pool& pool() {
  static Pool* instance = new Pool();  // never destroyed: terms may be used during static teardown
  return *instance;
}

}  // namespace

Term Term::intern(std::string_view text) {
  if (text.empty()) return Term();
  Pool& p = pool();
  {
    std::shared_lock lock(p.mutex);
    auto it = p.strings.find(text);
    if (it != p.strings.end()) return Term(&*it);
  }
  std::unique_lock lock(p.mutex);
  return Term(&*p.strings.emplace(text).first);
}

}  // namespace ct::model
