#include "storage/commit_group.hpp"

#include <algorithm>
#include <functional>

namespace ct::storage {

void effective_writes(std::span<const Write> group, std::vector<const Write*>& effective) {
  effective.clear();
  effective.reserve(group.size());
  for (const auto& w : group) effective.push_back(&w);
  // The writes lie in one array, so their addresses order them as they were queued: among writes
  // to one key the last queued sorts last.
  std::sort(effective.begin(), effective.end(), [](const Write* a, const Write* b) {
    if (a->collection != b->collection) return a->collection < b->collection;
    if (const int c = a->key.compare(b->key); c != 0) return c < 0;
    return std::less<const Write*>()(a, b);
  });
  const auto same_key = [](const Write* a, const Write* b) { return a->collection == b->collection && a->key == b->key; };
  // Keep the last of each run of writes to one key.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < effective.size(); ++i) {
    if (i + 1 < effective.size() && same_key(effective[i], effective[i + 1])) continue;
    effective[kept++] = effective[i];
  }
  effective.resize(kept);
}

}  // namespace ct::storage
