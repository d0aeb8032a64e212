#pragma once
// What a backend's commit thread writes for one group of queued writes.
#include <span>
#include <vector>

#include "storage/store.hpp"

namespace ct::storage {

// The writes of `group` (in the order they were queued) that take effect, each once: for every
// (collection, key) only the last one queued, since it supersedes the others (a put after a delete
// and a delete after a put alike). Ordered by collection, then key. Fills `effective`, reusing its
// storage; it points into `group`.
void effective_writes(std::span<const Write> group, std::vector<const Write*>& effective);

}  // namespace ct::storage
