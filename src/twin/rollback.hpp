#pragma once
// Undoing the changes of writes whose store group failed, so that a refused write changes nothing.
//
// The twin applies a write in memory before its group is durable (readers see it at once; see
// docs/architecture.md, "The write path"). Each change leaves an Undo in its tenant's journal: the
// entity as it was before, or nothing if the change created it. When a group fails, the store calls
// the twin's failure handler before any writer hears of it (storage/store.hpp); the twin then
// restores, newest first and under each tenant's write lock, every change that is not durable:
// those of the failed group and those that built on them, which fail with it. Indexes follow the
// restored entities. Changes already durable are forgotten as later writes come (forget_through).
//
// Everything here runs under the tenant's write lock.
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "model/entity.hpp"
#include "storage/store.hpp"

namespace ct::twin {

struct Tenant;

struct Undo {
  std::string id;
  std::shared_ptr<const model::Entity> previous;  // null: the change created the entity
};

class RollbackJournal {
 public:
  // Files the undos of one write (one store sequence), in the order the changes were applied.
  void record(storage::Sequence sequence, std::vector<Undo>& undos);
  // Forgets the undos of writes durable through `durable`: they can no longer fail.
  void forget_through(storage::Sequence durable);
  // Puts `tenant` back as it was before every change later than `durable`, newest first, and
  // empties the journal. Returns how many changes were undone.
  std::size_t roll_back(storage::Sequence durable, Tenant& tenant);

  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    storage::Sequence sequence;
    Undo undo;
  };
  std::deque<Entry> entries_;  // oldest first
};

}  // namespace ct::twin
