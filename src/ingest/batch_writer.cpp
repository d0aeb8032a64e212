#include "ingest/batch_writer.hpp"

#include <utility>

namespace ct::ingest {

BatchWriter::BatchWriter(Ingestor& ingestor, std::size_t capacity) : ingestor_(ingestor), capacity_(capacity) {}

BatchWriter::~BatchWriter() { stop(); }

void BatchWriter::start() {
  std::lock_guard lock(mutex_);
  if (running_) return;
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void BatchWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    running_ = false;
  }
  ready_.notify_all();
  space_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BatchWriter::submit(PreparedMessage message, Written written) {
  std::unique_lock lock(mutex_);
  if (running_) {
    space_.wait(lock, [&] { return !running_ || queue_.size() < capacity_; });
    if (running_) {
      queue_.push_back({std::move(message), std::move(written)});
      const bool wake = std::exchange(sleeping_, false);
      lock.unlock();
      if (wake) ready_.notify_one();  // otherwise the writer is awake, and looks again before it sleeps
      return;
    }
  }
  queue_.push_back({std::move(message), std::move(written)});
  if (writing_) return;  // the caller writing takes this one along
  writing_ = true;
  struct Release {  // even if a write throws, the next caller can write
    BatchWriter& self;
    std::unique_lock<std::mutex>& lock;
    ~Release() {
      if (!lock.owns_lock()) lock.lock();
      self.writing_ = false;
    }
  } release{*this, lock};
  std::vector<Queued> batch;
  while (!queue_.empty()) {
    batch.swap(queue_);
    lock.unlock();
    write(batch);
    batch.clear();
    lock.lock();
  }
}

void BatchWriter::submit(std::vector<PreparedMessage>& messages) {
  {
    std::unique_lock lock(mutex_);
    if (running_) {
      space_.wait(lock, [&] { return !running_ || queue_.size() < capacity_; });
      if (running_) {
        for (auto& m : messages) queue_.push_back({std::move(m), {}});
        messages.clear();
        const bool wake = std::exchange(sleeping_, false);
        lock.unlock();
        if (wake) ready_.notify_one();
        return;
      }
    }
  }
  for (auto& m : messages) submit(std::move(m));
  messages.clear();
}

void BatchWriter::run() {
  std::vector<Queued> batch;
  std::unique_lock lock(mutex_);
  while (true) {
    while (running_ && queue_.empty()) {
      sleeping_ = true;
      ready_.wait(lock);
    }
    sleeping_ = false;
    if (queue_.empty()) return;  // stopping, and nothing left
    batch.swap(queue_);
    const bool was_full = batch.size() >= capacity_;
    lock.unlock();
    if (was_full) space_.notify_all();  // only a full queue makes a submitter wait
    write(batch);
    batch.clear();  // keeps its capacity: swapped with the queue, the two vectors take turns
    lock.lock();
  }
}

void BatchWriter::write(std::vector<Queued>& batch) {
  std::vector<PreparedMessage> messages;
  messages.reserve(batch.size());
  for (auto& q : batch) messages.push_back(std::move(q.message));
  (void)ingestor_.write(messages);
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (batch[i].written) batch[i].written(messages[i]);
}

}  // namespace ct::ingest
