// The http and https notification schemes (scheme.hpp): webhooks, POSTed over kept-alive
// HTTP/1.1 connections (connection.hpp says how an attempt is classified).
#include "notify/scheme.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

namespace ct::notify {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxResponseBody = 64 * 1024;  // a receiver's answer is read and discarded

Attempt classify(unsigned status) {
  if (status >= 200 && status < 300) return Attempt::Delivered;
  if (status == 408 || status == 429 || status >= 500) return Attempt::Failed;
  return Attempt::Refused;
}

std::string host_header(const EndpointAddress& a) {
  std::string host = a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host;
  const bool default_port =
      (a.scheme == "http" && a.port == 80) || (a.scheme == "https" && a.port == 443);
  if (!default_port) host += ":" + std::to_string(a.port);
  return host;
}

// A kept-alive HTTP/1.1 connection, over TLS when Tls.
template <bool Tls>
class HttpConnection final : public Connection {
 public:
  using Stream = std::conditional_t<Tls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

  HttpConnection(asio::io_context& io, ssl::context& tls, EndpointAddress address, std::chrono::milliseconds timeout)
      : io_(io), tls_(tls), address_(std::move(address)), resolver_(io), timeout_(timeout) {}
  ~HttpConnection() override { close(); }

  void transmit(const Outgoing& n, Done done) override {
    done_ = std::move(done);
    request_ = make_request(n);
    reused_ = stream_ != nullptr;
    if (reused_) write();
    else resolve();
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(*stream_); }

  http::request<http::string_body> make_request(const Outgoing& n) const {
    const Registration& r = *n.registration;
    http::request<http::string_body> request{http::verb::post, r.subscription->address.target, 11};
    request.set(http::field::host, host_header(address_));
    request.set(http::field::user_agent, "citytwin");
    request.set(http::field::content_type, n.content_type);
    if (!n.link.empty()) request.set(http::field::link, n.link);
    if (!r.tenant.empty()) request.set("NGSILD-Tenant", r.tenant);
    for (const auto& kv : r.subscription->endpoint.receiver_info) request.set(kv.key, kv.value);
    request.keep_alive(true);
    request.body() = n.body;
    request.prepare_payload();
    return request;
  }

  void resolve() {
    resolver_.async_resolve(address_.host, std::to_string(address_.port),
                            [this](beast::error_code ec, const tcp::resolver::results_type& results) {
                              if (ec) return fail("cannot resolve " + address_.host + ": " + ec.message());
                              connect(results);
                            });
  }

  void connect(const tcp::resolver::results_type& results) {
    if constexpr (Tls) stream_ = std::make_unique<Stream>(io_, tls_);
    else stream_ = std::make_unique<Stream>(io_);
    lowest().expires_after(timeout_);
    lowest().async_connect(results, [this](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return fail("cannot connect: " + ec.message());
      lowest().socket().set_option(tcp::no_delay(true), ec);
      if constexpr (Tls) handshake();
      else write();
    });
  }

  void handshake() {
    if constexpr (Tls) {
      // SNI, and the certificate must name the host.
      // SSL_set_tlsext_host_name, written out: the macro casts in the C style.
      SSL_ctrl(stream_->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(address_.host.c_str()));
      stream_->set_verify_mode(ssl::verify_peer);
      stream_->set_verify_callback(ssl::host_name_verification(address_.host));
      lowest().expires_after(timeout_);
      stream_->async_handshake(ssl::stream_base::client, [this](beast::error_code ec) {
        if (ec) return fail("TLS handshake failed: " + ec.message());
        write();
      });
    }
  }

  void write() {
    lowest().expires_after(timeout_);
    http::async_write(*stream_, request_, [this](beast::error_code ec, std::size_t) {
      if (ec) return fail("cannot send: " + ec.message());
      read();
    });
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxResponseBody);
    lowest().expires_after(timeout_);
    http::async_read(*stream_, buffer_, *parser_, [this](beast::error_code ec, std::size_t) {
      if (ec) return fail("no answer: " + ec.message());
      const auto& response = parser_->get();
      const unsigned status = response.result_int();
      if (!response.keep_alive()) close();
      finish(classify(status), status >= 300 ? "answered " + std::to_string(status) : std::string());
    });
  }

  void fail(std::string why) {
    close();
    // A kept-alive connection that the receiver closed while idle: once more on a new connection.
    if (reused_) {
      reused_ = false;
      resolve();
      return;
    }
    finish(Attempt::Failed, std::move(why));
  }

  void close() {
    if (!stream_) return;
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
    // Not destroyed here: this may run inside a completion handler of the stream's own operation.
    asio::post(io_, [old = std::shared_ptr<Stream>(std::move(stream_))] {});
    buffer_.clear();
  }

  void finish(Attempt attempt, std::string why) {
    Done done = std::move(done_);
    done_ = nullptr;
    done(attempt, std::move(why));
  }

  asio::io_context& io_;
  ssl::context& tls_;
  EndpointAddress address_;
  tcp::resolver resolver_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Stream> stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  bool reused_ = false;
  Done done_;
};

template <bool Tls>
class HttpChannel final : public Channel {
 public:
  HttpChannel(EndpointAddress address, const ChannelContext& context) : address_(std::move(address)), context_(context) {}
  std::unique_ptr<Connection> connect() override {
    return std::make_unique<HttpConnection<Tls>>(context_.io, context_.tls, address_, context_.request_timeout);
  }

 private:
  EndpointAddress address_;
  ChannelContext context_;
};

template <bool Tls>
class HttpScheme final : public NotificationScheme {
 public:
  Status complete(boost::urls::url_view uri, EndpointAddress& address) const override {
    if (address.port == 0) address.port = Tls ? 443 : 80;
    address.target = uri.encoded_path().empty() ? std::string("/") : std::string(uri.encoded_path());
    if (uri.has_query()) address.target += "?" + std::string(uri.encoded_query());
    return {};
  }
  std::unique_ptr<Channel> open(const EndpointAddress& address, const ChannelContext& context) const override {
    return std::make_unique<HttpChannel<Tls>>(address, context);
  }
};

}  // namespace

std::unique_ptr<NotificationScheme> make_http_scheme() { return std::make_unique<HttpScheme<false>>(); }
std::unique_ptr<NotificationScheme> make_https_scheme() { return std::make_unique<HttpScheme<true>>(); }

}  // namespace ct::notify
