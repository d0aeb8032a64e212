#include "http/message.hpp"

namespace ct::http {

Response make_response(unsigned status, std::string body, std::string_view content_type) {
  Response response{static_cast<beast_http::status>(status), 11};
  if (!body.empty() || status == 200) response.set(beast_http::field::content_type, content_type);
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

Response problem_response(const Problem& problem) {
  Response response = make_response(static_cast<unsigned>(problem.status()), problem.to_json(), "application/json");
  // Both refusals are passing states: tell the client when to try again (RFC 9110, 10.2.3).
  if (problem.kind == ProblemKind::ServiceUnavailable) response.set(beast_http::field::retry_after, "1");
  // A full volume frees up when an operator or retention acts: not within the second.
  if (problem.kind == ProblemKind::InsufficientStorage) response.set(beast_http::field::retry_after, "5");
  return response;
}

}  // namespace ct::http
