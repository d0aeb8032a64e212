#include "model/term.hpp"

#include <mutex>
#include <shared_mutex>
#include <unordered_set>

namespace ct::model {
namespace {

struct Pool {
  std::shared_mutex mutex;
  std::unordered_set<std::string> strings;  // node-based: element addresses never move
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
    auto it = p.strings.find(std::string(text));
    if (it != p.strings.end()) return Term(&*it);
  }
  std::unique_lock lock(p.mutex);
  return Term(&*p.strings.emplace(text).first);
}

}  // namespace ct::model
