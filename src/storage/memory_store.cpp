#include "storage/memory_store.hpp"

#include <algorithm>

namespace ct::storage {

Sequence MemoryStore::enqueue(std::vector<Write> writes) {
  std::unique_lock lock(mutex_);
  // As the real store: nothing to write is durable once everything queued before it is.
  if (writes.empty() && !closed_) return last_;
  const Sequence seq = ++last_;
  if (closed_) {
    failed_.emplace_back(seq, seq);
    settled_ = seq;
    return seq;
  }
  queued_.emplace_back(seq, std::move(writes));
  if (!held_) settle_locked(lock, true);
  return seq;
}

void MemoryStore::settle_locked(std::unique_lock<std::mutex>& lock, bool ok) {
  if (queued_.empty()) return;
  const Sequence first = queued_.front().first, last = queued_.back().first;
  if (ok) {
    for (auto& [seq, writes] : queued_)
      for (auto& w : writes) {
        auto& data = data_[static_cast<std::size_t>(w.collection)];
        if (w.value) data.insert_or_assign(std::move(w.key), std::move(*w.value));
        else if (auto it = data.find(w.key); it != data.end()) data.erase(it);
      }
    durable_ = last;
  }
  queued_.clear();
  std::function<void(Sequence)> handler;
  if (!ok) {
    failed_.emplace_back(first, last);
    handler = failure_handler_;
  }
  const Sequence durable = durable_;
  lock.unlock();
  if (handler) handler(durable);  // before the waiters are told, with no lock held
  lock.lock();
  settled_ = std::max(settled_, last);
  std::vector<std::pair<Waiter, Status>> due;
  for (auto it = waiters_.begin(); it != waiters_.end() && it->first <= settled_;) {
    due.emplace_back(std::move(it->second), outcome_of(it->first));
    it = waiters_.erase(it);
  }
  settled_changed_.notify_all();
  lock.unlock();
  for (auto& [done, status] : due) done(status);
  lock.lock();
}

Status MemoryStore::outcome_of(Sequence seq) const {
  for (const auto& [from, to] : failed_)
    if (seq >= from && seq <= to) return Problem{ProblemKind::ServiceUnavailable, "the write failed"};
  return {};
}

void MemoryStore::when_durable(Sequence seq, std::function<void(const Status&)> done) {
  Status status;
  {
    std::lock_guard lock(mutex_);
    if (seq > settled_ && seq > durable_) {  // not settled yet
      waiters_.emplace(seq, std::move(done));
      return;
    }
    status = outcome_of(seq);
  }
  done(status);
}

Status MemoryStore::wait_durable(Sequence seq) {
  std::unique_lock lock(mutex_);
  settled_changed_.wait(lock, [&] { return settled_ >= seq || durable_ >= seq; });
  return outcome_of(seq);
}

Sequence MemoryStore::durable_sequence() const {
  std::lock_guard lock(mutex_);
  return durable_;
}

void MemoryStore::set_failure_handler(std::function<void(Sequence)> handler) {
  std::lock_guard lock(mutex_);
  failure_handler_ = std::move(handler);
}

template <class Range>
Status MemoryStore::visit_snapshot(Collection collection, Range in_range, std::string_view from,
                                   const std::function<bool(std::string_view, std::string_view)>& visit) {
  std::vector<std::pair<std::string, std::string>> snapshot;
  {
    std::lock_guard lock(mutex_);
    const auto& data = data_[static_cast<std::size_t>(collection)];
    for (auto it = data.lower_bound(from); it != data.end() && in_range(it->first); ++it) snapshot.emplace_back(*it);
  }
  for (const auto& [key, value] : snapshot)
    if (!visit(key, value)) break;
  return {};
}

Status MemoryStore::scan(Collection collection, std::string_view prefix,
                         const std::function<bool(std::string_view, std::string_view)>& visit) {
  return visit_snapshot(collection, [prefix](std::string_view key) { return key.starts_with(prefix); }, prefix, visit);
}

Status MemoryStore::scan_range(Collection collection, std::string_view begin, std::string_view end,
                               const std::function<bool(std::string_view, std::string_view)>& visit) {
  return visit_snapshot(collection, [end](std::string_view key) { return key < end; }, begin, visit);
}

Result<std::optional<std::string>> MemoryStore::get(Collection collection, std::string_view key) {
  std::lock_guard lock(mutex_);
  const auto& data = data_[static_cast<std::size_t>(collection)];
  if (auto it = data.find(key); it != data.end()) return std::optional<std::string>(it->second);
  return std::optional<std::string>();
}

void MemoryStore::close() {
  std::unique_lock lock(mutex_);
  settle_locked(lock, true);
  closed_ = true;
}

void MemoryStore::hold(bool held) {
  std::unique_lock lock(mutex_);
  held_ = held;
  if (!held_) settle_locked(lock, true);
}

void MemoryStore::settle(bool ok) {
  std::unique_lock lock(mutex_);
  settle_locked(lock, ok);
}

std::size_t MemoryStore::size(Collection collection) const {
  std::lock_guard lock(mutex_);
  return data_[static_cast<std::size_t>(collection)].size();
}

std::size_t MemoryStore::queued() const {
  std::lock_guard lock(mutex_);
  return queued_.size();
}

}  // namespace ct::storage
