#include "ingest/http_command_client.hpp"

#include "net/http_client.hpp"

namespace ct::ingest {

Result<std::string> post_command(const std::string& endpoint, std::string_view content_type, const std::string& body,
                                 std::chrono::milliseconds timeout, std::size_t max_bytes) {
  if (!endpoint.starts_with("http://"))
    return Problem{ProblemKind::ServiceUnavailable, "the endpoint is not an http:// URL"};
  net::HttpRequest request;
  request.method = "POST";
  request.url = endpoint;
  request.content_type = content_type;
  request.body = body;
  auto answer = net::http_exchange(request, timeout, max_bytes);
  if (!answer) return Problem{ProblemKind::ServiceUnavailable, "the device's endpoint: " + answer.problem().detail};
  if (answer->status / 100 != 2)
    return Problem{ProblemKind::ServiceUnavailable, "the device answered HTTP " + std::to_string(answer->status)};
  return std::move(answer->body);
}

}  // namespace ct::ingest
