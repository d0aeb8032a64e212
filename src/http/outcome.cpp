#include "http/outcome.hpp"

#include <spdlog/spdlog.h>

#include "http/problem_mapping.hpp"

namespace ct::http {

Outcome::Outcome(Result<Response> result)
    : state_(result ? decltype(state_)(std::in_place_index<0>, std::move(result).value())
                    : decltype(state_)(std::in_place_index<1>, std::move(result).problem())) {}

Response Outcome::take_response() && {
  if (auto* response = std::get_if<0>(&state_)) return std::move(*response);
  if (auto* problem = std::get_if<1>(&state_)) return problem_response(*problem);
  return problem_response({ProblemKind::InternalError, "the handler deferred its answer without taking call.later()"});
}

namespace detail {

bool Exchange::answer(Outcome outcome) {
  if (outcome.deferred()) return true;
  if (answered_.exchange(true, std::memory_order_acq_rel)) {
    spdlog::error("http: a second answer to one request was dropped{}{}", outcome.problem() ? ": " : "",
                  outcome.problem() ? outcome.problem()->detail : std::string());
    return false;
  }
  reply_(std::move(outcome).take_response());
  return true;
}

Exchange::~Exchange() {
  if (!answered_.load(std::memory_order_acquire))
    reply_(problem_response({ProblemKind::InternalError, "the request was dropped without an answer"}));
}

}  // namespace detail
}  // namespace ct::http
