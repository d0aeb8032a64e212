#include "twin/rollback.hpp"

#include "twin/tenant.hpp"

namespace ct::twin {
namespace {

void restore(Tenant& t, const Undo& undo) {
  auto it = t.entities.find(undo.id);
  if (!undo.previous) {  // created: remove it again
    if (it != t.entities.end()) (void)t.take(it);
    return;
  }
  if (it == t.entities.end()) {  // deleted: put it back
    t.insert(model::Entity(*undo.previous));
    return;
  }
  // Modified: same node, so its address (which the indexes hold) stays.
  const auto keys_now = t.indexes.keys_of(it->second);
  it->second = *undo.previous;
  t.indexes.update(&it->second, keys_now, t.indexes.keys_of(it->second));
}

}  // namespace

void RollbackJournal::record(storage::Sequence sequence, std::vector<Undo>& undos) {
  for (auto& undo : undos) entries_.push_back(Entry{sequence, std::move(undo)});
  undos.clear();
}

void RollbackJournal::forget_through(storage::Sequence durable) {
  while (!entries_.empty() && entries_.front().sequence <= durable) entries_.pop_front();
}

std::size_t RollbackJournal::roll_back(storage::Sequence durable, Tenant& tenant) {
  std::size_t undone = 0;
  while (!entries_.empty() && entries_.back().sequence > durable) {
    restore(tenant, entries_.back().undo);
    entries_.pop_back();
    ++undone;
  }
  entries_.clear();  // what is left is durable
  return undone;
}

}  // namespace ct::twin
