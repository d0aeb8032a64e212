#pragma once
// One blocking HTTP(S) request with a deadline over everything (resolving, connecting, the TLS
// handshake, writing and reading), for the occasional outbound call: fetching a remote @context,
// pushing a command to a device's endpoint. A server that does not answer costs at most `timeout`.
// Notifications, which keep connections open and run asynchronously, have their own client (notify/).
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace ct::net {

struct HttpRequest {
  std::string_view method = "GET";  // GET or POST
  std::string_view url;              // http:// or https:// (an https server's certificate is verified)
  std::string_view accept;           // empty: no Accept header
  std::string_view content_type;     // sent with a body
  std::string_view body;
};

struct HttpResponse {
  unsigned status = 0;
  std::string body;
};

// Any status is a response. Fails with BadRequestData when `url` is not an http(s) URL, and with
// ServiceUnavailable, saying why, when there is no complete answer within `timeout` or the answer's
// body is larger than `max_bytes`.
Result<HttpResponse> http_exchange(const HttpRequest& request, std::chrono::milliseconds timeout, std::size_t max_bytes);

}  // namespace ct::net
