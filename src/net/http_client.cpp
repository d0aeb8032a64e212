#include "net/http_client.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

namespace ct::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

Problem failed(std::string why) { return Problem{ProblemKind::ServiceUnavailable, std::move(why)}; }

std::string reason(const beast::error_code& ec, std::chrono::milliseconds timeout) {
  if (ec == asio::error::would_block || ec == beast::error::timeout)
    return "no answer within " + std::to_string(timeout.count()) + " ms";
  if (ec == bhttp::error::body_limit) return "the answer is too large";
  return ec.message();
}

// Runs `start` (which chains connect, handshake, write and read and stores the outcome in `ec`)
// until it completes or the deadline passes.
template <class Start>
beast::error_code run_until(asio::io_context& io, Clock::time_point deadline, Start start) {
  beast::error_code ec = asio::error::would_block;
  start(ec);
  io.run_until(deadline);
  return ec;
}

template <class Stream>
void write_then_read(Stream& stream, bhttp::request<bhttp::string_body>& request, beast::flat_buffer& buffer,
                     bhttp::response_parser<bhttp::string_body>& parser, beast::error_code& ec) {
  bhttp::async_write(stream, request, [&](beast::error_code written, std::size_t) {
    if (written) {
      ec = written;
      return;
    }
    bhttp::async_read(stream, buffer, parser, [&](beast::error_code read, std::size_t) { ec = read; });
  });
}

}  // namespace

Result<HttpResponse> http_exchange(const HttpRequest& request, std::chrono::milliseconds timeout,
                                   std::size_t max_bytes) {
  auto url = boost::urls::parse_absolute_uri(request.url);
  const bool tls = url && url->scheme_id() == boost::urls::scheme::https;
  if (!url || (!tls && url->scheme_id() != boost::urls::scheme::http) || url->host().empty())
    return Problem{ProblemKind::BadRequestData, "not an http:// or https:// URL"};
  const std::string host(url->host());
  const std::string port = url->has_port() ? std::string(url->port()) : (tls ? "443" : "80");
  std::string target(url->encoded_path());
  if (target.empty()) target = "/";
  if (url->has_query()) target += "?" + std::string(url->encoded_query());

  bhttp::request<bhttp::string_body> message{request.method == "POST" ? bhttp::verb::post : bhttp::verb::get,
                                             target, 11};
  message.set(bhttp::field::host, host);
  message.set(bhttp::field::user_agent, "citytwin");
  if (!request.accept.empty()) message.set(bhttp::field::accept, request.accept);
  if (!request.body.empty() || message.method() == bhttp::verb::post) {
    if (!request.content_type.empty()) message.set(bhttp::field::content_type, request.content_type);
    message.body() = std::string(request.body);
    message.prepare_payload();
  }

  const auto deadline = Clock::now() + timeout;
  asio::io_context io;
  tcp::resolver resolver(io);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(host, port, ec);  // numeric hosts resolve at once; names may take a while
  if (ec) return failed("cannot resolve " + host + ": " + ec.message());

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_bytes);
  if (!tls) {
    beast::tcp_stream stream(io);
    ec = run_until(io, deadline, [&](beast::error_code& outcome) {
      stream.async_connect(endpoints, [&](beast::error_code connected, const tcp::endpoint&) {
        if (connected) outcome = connected;
        else write_then_read(stream, message, buffer, parser, outcome);
      });
    });
  } else {
    asio::ssl::context context(asio::ssl::context::tls_client);
    context.set_default_verify_paths();
    context.set_verify_mode(asio::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(io, context);
    // SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.
    if (!SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                  const_cast<char*>(host.c_str())))
      return failed("TLS setup failed");
    stream.set_verify_callback(asio::ssl::host_name_verification(host));
    ec = run_until(io, deadline, [&](beast::error_code& outcome) {
      beast::get_lowest_layer(stream).async_connect(endpoints, [&](beast::error_code connected, const tcp::endpoint&) {
        if (connected) {
          outcome = connected;
          return;
        }
        stream.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code shaken) {
          if (shaken) outcome = shaken;
          else write_then_read(stream, message, buffer, parser, outcome);
        });
      });
    });
  }
  if (ec) return failed(reason(ec, timeout));
  auto response = parser.release();
  return HttpResponse{response.result_int(), std::move(response.body())};
}

}  // namespace ct::net
