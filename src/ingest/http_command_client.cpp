#include "ingest/http_command_client.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

namespace ct::ingest {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

Problem unreachable(std::string detail) { return {ProblemKind::ServiceUnavailable, std::move(detail)}; }

}  // namespace

Result<std::string> post_command(const std::string& endpoint, std::string_view content_type, const std::string& body,
                                 std::chrono::milliseconds timeout, std::size_t max_bytes) {
  auto url = boost::urls::parse_absolute_uri(endpoint);
  if (!url || url->scheme_id() != boost::urls::scheme::http) return unreachable("the endpoint is not an http:// URL");
  const std::string host(url->host());
  const std::string port = url->has_port() ? std::string(url->port()) : "80";
  std::string target(url->encoded_path());
  if (target.empty()) target = "/";
  if (url->has_query()) target += "?" + std::string(url->encoded_query());

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto remaining = [&] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
  };
  asio::io_context io;
  tcp::resolver resolver(io);
  beast::error_code ec;
  auto endpoints = resolver.resolve(host, port, ec);  // numeric hosts resolve at once; names may take a while
  if (ec) return unreachable("cannot resolve " + host + ": " + ec.message());

  bhttp::request<bhttp::string_body> request{bhttp::verb::post, target, 11};
  request.set(bhttp::field::host, host);
  request.set(bhttp::field::content_type, content_type);
  request.set(bhttp::field::user_agent, "citytwin");
  request.body() = body;
  request.prepare_payload();
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_bytes);
  ec = asio::error::would_block;
  stream.expires_after(remaining());
  stream.async_connect(endpoints, [&](beast::error_code connected, const tcp::endpoint&) {
    if (connected) {
      ec = connected;
      return;
    }
    bhttp::async_write(stream, request, [&](beast::error_code written, std::size_t) {
      if (written) {
        ec = written;
        return;
      }
      bhttp::async_read(stream, buffer, parser, [&](beast::error_code read, std::size_t) { ec = read; });
    });
  });
  io.run_for(remaining());
  if (ec == asio::error::would_block || ec == beast::error::timeout)
    return unreachable("the device did not answer within " + std::to_string(timeout.count()) + " ms");
  if (ec) return unreachable("the device's endpoint: " + ec.message());
  auto response = parser.release();
  if (response.result_int() / 100 != 2)
    return unreachable("the device answered HTTP " + std::to_string(response.result_int()));
  return std::move(response.body());
}

}  // namespace ct::ingest
