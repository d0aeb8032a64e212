#include "http/context_fetcher.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url.hpp>

namespace ct::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

template <class Stream>
Result<std::string> exchange(asio::io_context& io, Stream& stream, const std::string& host, const std::string& target,
                             std::size_t max_bytes, std::chrono::milliseconds timeout) {
  bhttp::request<bhttp::empty_body> request{bhttp::verb::get, target, 11};
  request.set(bhttp::field::host, host);
  request.set(bhttp::field::accept, "application/ld+json, application/json");
  request.set(bhttp::field::user_agent, "citytwin");
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_bytes);
  beast::error_code result = asio::error::would_block;
  bhttp::async_write(stream, request, [&](beast::error_code ec, std::size_t) {
    if (ec) {
      result = ec;
      return;
    }
    bhttp::async_read(stream, buffer, parser, [&](beast::error_code ec2, std::size_t) { result = ec2; });
  });
  io.run_for(timeout);
  if (result == asio::error::would_block) return Problem{ProblemKind::LdContextNotAvailable, "timed out"};
  if (result) return Problem{ProblemKind::LdContextNotAvailable, result.message()};
  auto response = parser.release();
  if (response.result_int() != 200)
    return Problem{ProblemKind::LdContextNotAvailable, "answered HTTP " + std::to_string(response.result_int())};
  return std::move(response.body());
}

Result<std::string> fetch(const std::string& url, std::chrono::milliseconds timeout, std::size_t max_bytes) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return Problem{ProblemKind::LdContextNotAvailable, "not a URL"};
  const std::string scheme(parsed->scheme());
  if (scheme != "http" && scheme != "https") return Problem{ProblemKind::LdContextNotAvailable, "only http and https URLs can be fetched"};
  const std::string host(parsed->host());
  const std::string port = parsed->has_port() ? std::string(parsed->port()) : (scheme == "https" ? "443" : "80");
  std::string target(parsed->encoded_path());
  if (target.empty()) target = "/";
  if (parsed->has_query()) target += "?" + std::string(parsed->encoded_query());

  asio::io_context io;
  tcp::resolver resolver(io);
  beast::error_code ec;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto endpoints = resolver.resolve(host, port, ec);  // numeric hosts resolve at once; names may take a while
  if (ec) return Problem{ProblemKind::LdContextNotAvailable, "cannot resolve " + host};
  auto remaining = [&] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
  };

  if (scheme == "http") {
    beast::tcp_stream stream(io);
    stream.expires_after(remaining());
    stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e ? e : beast::error_code(); });
    ec = asio::error::would_block;
    io.run_for(remaining());
    if (ec) return Problem{ProblemKind::LdContextNotAvailable, ec == asio::error::would_block ? "timed out" : ec.message()};
    io.restart();
    stream.expires_after(remaining());
    return exchange(io, stream, host, target, max_bytes, remaining());
  }

  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_default_verify_paths();
  tls.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(io, tls);
  // SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.
  if (!SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                const_cast<char*>(host.c_str())))
    return Problem{ProblemKind::LdContextNotAvailable, "TLS setup failed"};
  stream.set_verify_callback(asio::ssl::host_name_verification(host));
  beast::get_lowest_layer(stream).expires_after(remaining());
  ec = asio::error::would_block;
  beast::get_lowest_layer(stream).async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) {
    if (e) {
      ec = e;
      return;
    }
    stream.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e2) { ec = e2; });
  });
  io.run_for(remaining());
  if (ec) return Problem{ProblemKind::LdContextNotAvailable, ec == asio::error::would_block ? "timed out" : ec.message()};
  io.restart();
  return exchange(io, stream, host, target, max_bytes, remaining());
}

}  // namespace

jsonld::ContextFetcher make_context_fetcher(std::chrono::milliseconds timeout, std::size_t max_bytes) {
  return [timeout, max_bytes](const std::string& url) { return fetch(url, timeout, max_bytes); };
}

}  // namespace ct::http
