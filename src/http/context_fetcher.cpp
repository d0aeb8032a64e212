#include "http/context_fetcher.hpp"

#include "net/http_client.hpp"

namespace ct::http {

jsonld::ContextFetcher make_context_fetcher(std::chrono::milliseconds timeout, std::size_t max_bytes) {
  return [timeout, max_bytes](const std::string& url) -> Result<std::string> {
    net::HttpRequest request;
    request.url = url;
    request.accept = "application/ld+json, application/json";
    auto answer = net::http_exchange(request, timeout, max_bytes);
    if (!answer) return Problem{ProblemKind::LdContextNotAvailable, answer.problem().detail};
    if (answer->status != 200)
      return Problem{ProblemKind::LdContextNotAvailable, "answered HTTP " + std::to_string(answer->status)};
    return std::move(answer->body);
  };
}

}  // namespace ct::http
