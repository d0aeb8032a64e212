#pragma once
// An in-memory Store (store.hpp) for unit tests, in the spirit of LevelDB's memenv: the whole
// contract without a disk or a temporary directory, and with durability under the test's control.
//
// Durability. By default a group is durable as soon as it is queued: enqueue() applies it, and
// when_durable() calls back at once on the caller's thread. After hold(true), groups wait in a
// queue (invisible to scans and gets, as in a real store before its commit) until the test calls
// settle(): everything queued becomes durable, or fails (the failure handler runs first, with no
// lock of the store held, as the contract says). A test can thus look at the state between a write
// and its durability, or make a group fail.
//
// Reads see what is durable. scan() and scan_range() visit a snapshot taken when they start, without
// holding the store's lock, so `visit` may write to the store. Every method may be called from any
// thread; what the store keeps survives any number of Twin or HistoryStore objects built over it
// (a "restart" is a new object over the same store).
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>

#include "storage/store.hpp"

namespace ct::storage {

class MemoryStore final : public Store {
 public:
  Sequence enqueue(std::vector<Write> writes) override;
  void when_durable(Sequence seq, std::function<void(const Status&)> done) override;
  // With hold(true), blocks until settle() has settled `seq`.
  Status wait_durable(Sequence seq) override;
  Sequence durable_sequence() const override;
  void set_failure_handler(std::function<void(Sequence durable_through)> handler) override;
  Status scan(Collection collection, std::string_view prefix,
              const std::function<bool(std::string_view key, std::string_view value)>& visit) override;
  Status scan_range(Collection collection, std::string_view begin, std::string_view end,
                    const std::function<bool(std::string_view key, std::string_view value)>& visit) override;
  Result<std::optional<std::string>> get(Collection collection, std::string_view key) override;
  // Settles what is queued (durably), then fails every later write.
  void close() override;

  // --- for tests -----------------------------------------------------------------------------------
  // From now on, queued groups wait for settle() (true), or are durable at once (false; what waits
  // is settled first).
  void hold(bool held);
  // Settles every group queued: durable (ok) or failed.
  void settle(bool ok = true);
  // How many keys a collection holds (durable ones).
  std::size_t size(Collection collection) const;
  // How many groups wait for settle().
  std::size_t queued() const;

 private:
  using Waiter = std::function<void(const Status&)>;
  // Settles the queue under `lock`, then calls the handler (on failure) and the waiters due without it.
  void settle_locked(std::unique_lock<std::mutex>& lock, bool ok);
  Status outcome_of(Sequence seq) const;
  template <class Range>
  Status visit_snapshot(Collection collection, Range in_range, std::string_view from,
                        const std::function<bool(std::string_view, std::string_view)>& visit);

  mutable std::mutex mutex_;
  std::condition_variable settled_changed_;
  std::map<std::string, std::string, std::less<>> data_[kCollectionCount];
  std::deque<std::pair<Sequence, std::vector<Write>>> queued_;
  std::vector<std::pair<Sequence, Sequence>> failed_;  // ranges of failed sequences
  std::multimap<Sequence, Waiter> waiters_;
  std::function<void(Sequence)> failure_handler_;
  Sequence last_ = 0, durable_ = 0, settled_ = 0;
  bool held_ = false, closed_ = false;
};

}  // namespace ct::storage
