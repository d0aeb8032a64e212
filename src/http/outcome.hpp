#pragma once
// How a route handler answers, and the one place where answers become responses.
//
// A handler returns an Outcome: a response, or the Problem that prevented it (mapped to HTTP by
// problem_mapping.hpp), or Deferred when it answers after returning: it then took call.later()
// and answers through that Later exactly once, from any thread (typically once a write is
// durable). Both ways end in the same function, so every problem becomes a response the same way.
//
// The exchange is answered once whatever the handler does: the first answer is sent and any further
// one is dropped (and logged: it is a bug); a handler that fails after taking a Later answers with
// its problem; an exchange nobody answers by the time the last Later is gone gets a 500 problem.
#include <atomic>
#include <memory>
#include <variant>

#include "common/result.hpp"
#include "http/message.hpp"

namespace ct::http {

// Returned by a handler that answers through call.later().
struct Deferred {};

class [[nodiscard]] Outcome {
 public:
  Outcome(Response response) : state_(std::in_place_index<0>, std::move(response)) {}  // NOLINT(implicit)
  Outcome(Problem problem) : state_(std::in_place_index<1>, std::move(problem)) {}     // NOLINT(implicit)
  Outcome(Deferred) : state_(std::in_place_index<2>) {}                                // NOLINT(implicit)
  Outcome(Result<Response> result);                                                    // NOLINT(implicit)

  bool deferred() const { return state_.index() == 2; }
  bool failed() const { return state_.index() == 1; }
  const Problem* problem() const { return std::get_if<1>(&state_); }
  // The response of an answer given now (a problem mapped to its response); not for Deferred.
  Response take_response() &&;

 private:
  std::variant<Response, Problem, Deferred> state_;
};

namespace detail {
// One request's answer: sends it at most once, and a 500 problem if it was never given.
class Exchange {
 public:
  explicit Exchange(Reply reply) : reply_(std::move(reply)) {}
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;
  ~Exchange();
  // Sends the answer (a Deferred outcome sends nothing). False if one was already sent.
  bool answer(Outcome outcome);

 private:
  Reply reply_;
  std::atomic<bool> answered_{false};
};
}  // namespace detail

// A handler's promise to answer after it returned. Copyable, so that it fits in callbacks; callable
// from any thread; only the first answer of all its copies counts.
class Later {
 public:
  void operator()(Result<Response> result) const { exchange_->answer(Outcome(std::move(result))); }
  void answer(Response response) const { exchange_->answer(Outcome(std::move(response))); }
  void fail(Problem problem) const { exchange_->answer(Outcome(std::move(problem))); }

 private:
  friend struct Call;
  explicit Later(std::shared_ptr<detail::Exchange> exchange) : exchange_(std::move(exchange)) {}
  std::shared_ptr<detail::Exchange> exchange_;
};

}  // namespace ct::http
