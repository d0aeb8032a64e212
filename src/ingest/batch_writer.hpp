#pragma once
// Writes prepared messages (Ingestor::prepare) into the twin, many in one Ingestor::write: a
// burst, or many connections posting at once, then costs one tenant lock, one store group, one
// wake-up of the store's committer and one round of observer calls per batch rather than per
// message. Two ways to run:
//   - with start(), on a thread of its own: the messages that queue up while it writes one batch
//     make up the next, and decoding (on the transport's thread) runs beside the writes. For one
//     producer thread with a steady stream (the MQTT network thread). The queue is bounded: submit()
//     waits while it is full, which pushes back on the transport (the broker holds the rest).
//   - without (or after stop()), the submitting threads write themselves: a caller that finds no
//     write under way writes the queue, including what other callers add while it writes, until it
//     is empty; the others return at once. No thread hop and no wake-up per message, for many
//     producers that each wait for their answer anyway (HTTP connections).
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "ingest/ingestor.hpp"

namespace ct::ingest {

class BatchWriter {
 public:
  // Called once the message is in the twin (on the writer thread): its outcome.sequence is what to
  // wait for before acknowledging, or write_error says why it was not written (already counted and
  // logged as a drop). It must not block.
  using Written = std::function<void(const PreparedMessage&)>;

  explicit BatchWriter(Ingestor& ingestor, std::size_t capacity = 4096);
  ~BatchWriter();
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  void start();
  // Writes what was queued, then stops the thread (submit() then writes in its callers).
  void stop();

  void submit(PreparedMessage message, Written written = {});
  // Queues all of `messages` at once (one lock, at most one wake-up) and leaves it empty. For the
  // thread of its own only: without it, they are written at once as by submit().
  void submit(std::vector<PreparedMessage>& messages);

 private:
  struct Queued {
    PreparedMessage message;
    Written written;
  };
  void run();
  void write(std::vector<Queued>& batch);

  Ingestor& ingestor_;
  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::vector<Queued> queue_;
  bool running_ = false;  // the thread of its own
  bool sleeping_ = false;  // it waits for messages: only then does a submit wake it
  bool writing_ = false;  // a submitting caller is writing the queue
  std::thread thread_;
};

}  // namespace ct::ingest
