#pragma once
// Pushes a command to a device that listens over HTTP (transport "HTTP" with an endpoint), as the
// IoT Agents do: the command is POSTed to the device's endpoint and the device's answer comes back
// in the response body (UltraLight "<device>@<cmd>|<result>", or JSON {"<cmd>": result}).
#include <chrono>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace ct::ingest {

// POSTs `body` to `endpoint` (an http:// URL) and returns the body of a 2xx answer. Fails
// (ServiceUnavailable: naming the cause) when the endpoint cannot be reached, does not answer within
// `timeout` (connection included), answers with another status, or answers more than `max_bytes`.
Result<std::string> post_command(const std::string& endpoint, std::string_view content_type, const std::string& body,
                                 std::chrono::milliseconds timeout, std::size_t max_bytes = 64 * 1024);

}  // namespace ct::ingest
