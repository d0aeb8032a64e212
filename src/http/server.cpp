#include "http/server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <condition_variable>
#include <mutex>
#include <spdlog/spdlog.h>
#include <thread>
#include <vector>

#include "http/problem_mapping.hpp"

namespace ct::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(120);
constexpr auto kAcceptPause = std::chrono::milliseconds(50);

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Handler& handler, const UpgradeHandler& upgrade, std::size_t body_limit)
      : stream_(std::move(socket)), handler_(handler), upgrade_(upgrade), body_limit_(body_limit) {}

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(body_limit_);
    parser_->header_limit(64 * 1024);
    stream_.expires_after(kIdleTimeout);
    beast_http::async_read(stream_, buffer_, *parser_,
                           [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == beast_http::error::end_of_stream || ec == asio::error::operation_aborted || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
      close();
      return;
    }
    if (ec == beast_http::error::body_limit) {
      send(problem_response({ProblemKind::PayloadTooLarge,
                             "the request body is larger than the limit of " + std::to_string(body_limit_) + " bytes"}),
           false);
      return;
    }
    if (ec) {
      send(problem_response(bad_request("malformed HTTP request: " + ec.message())), false);
      return;
    }
    Request request = parser_->release();
    if (upgrade_ && beast::websocket::is_upgrade(request)) {  // the connection is the upgrade handler's now
      stream_.expires_never();
      upgrade_(stream_.release_socket(), std::move(request));
      return;
    }
    const bool keep_alive = request.keep_alive();
    auto executor = stream_.get_executor();
    handler_(std::move(request), [self = shared_from_this(), executor, keep_alive](Response&& response) {
      asio::post(executor, [self, keep_alive, response = std::move(response)]() mutable {
        self->send(std::move(response), keep_alive);
      });
    });
  }

  void send(Response&& response, bool keep_alive) {
    response.keep_alive(keep_alive);
    response.set(beast_http::field::server, "citytwin");
    response_ = std::move(response);
    beast_http::async_write(stream_, response_, [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
      if (ec || !keep_alive) {
        self->close();
        return;
      }
      self->read();
    });
  }

  // Lingering close: stop sending, then read and discard what the client still sends (a body we
  // refused, say) for a short while. Closing a socket with unread data makes the kernel send a reset,
  // which can destroy the error response before the client reads it.
  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(2));
    drain();
  }

  void drain() {
    discard_.resize(16 * 1024);
    stream_.async_read_some(asio::buffer(discard_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->drained_ += n;
      if (!ec && self->drained_ < kMaxDrainBytes) self->drain();
    });
  }

  static constexpr std::size_t kMaxDrainBytes = 16 * 1024 * 1024;

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<beast_http::request_parser<beast_http::string_body>> parser_;
  Response response_;
  std::vector<char> discard_;
  std::size_t drained_ = 0;
  const Handler& handler_;
  const UpgradeHandler& upgrade_;
  std::size_t body_limit_;
};

}  // namespace

struct Server::Impl {
  ServerOptions options;
  Handler handler;
  UpgradeHandler upgrade;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::condition_variable stopped_cv;
  bool stopped = false;

  asio::steady_timer accept_pause{io};
  bool accept_paused_logged = false;  // one warning per episode of refused accepts

  void accept() {
    acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        if (accept_paused_logged) {
          spdlog::info("accepting connections again");
          accept_paused_logged = false;
        }
        socket.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(socket), handler, upgrade, options.body_limit)->start();
        accept();
        return;
      }
      if (ec == asio::error::connection_aborted || ec == asio::error::interrupted) {  // the client gave up: next
        accept();
        return;
      }
      // Out of descriptors (EMFILE, ENFILE) or memory: accepting again at once fails again at once,
      // a busy loop that starves the connections already open. The pending connections wait in the
      // listen backlog; look again shortly, when one of ours may have closed.
      if (!accept_paused_logged) {
        spdlog::warn("cannot accept connections ({}); retrying every {} ms while serving the {}",
                     ec.message(), kAcceptPause.count(), "connections already open");
        accept_paused_logged = true;
      }
      accept_pause.expires_after(kAcceptPause);
      accept_pause.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec) accept();
      });
    });
  }
};

Server::Server(ServerOptions options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
}

Server::~Server() { stop(); }

void Server::set_upgrade_handler(UpgradeHandler handler) { impl_->upgrade = std::move(handler); }

Status Server::start() {
  beast::error_code ec;
  const auto address = asio::ip::make_address(impl_->options.address, ec);
  if (ec) return bad_request("invalid listen address " + impl_->options.address);
  const tcp::endpoint endpoint(address, impl_->options.port);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Problem{ProblemKind::InternalError, "cannot listen on " + impl_->options.address + ":" +
                                                   std::to_string(impl_->options.port) + ": " + ec.message()};
  impl_->accept();
  for (unsigned i = 0; i < std::max(1u, impl_->options.threads); ++i)
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  return {};
}

std::uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  impl_->io.stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  impl_->stopped_cv.notify_all();
}

void Server::wait() {
  std::unique_lock lock(impl_->mutex);
  impl_->stopped_cv.wait(lock, [&] { return impl_->stopped; });
}

}  // namespace ct::http
