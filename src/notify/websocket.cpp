#include "notify/websocket.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>

namespace ct::notify {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

class WebSocketListener final : public Listener, public std::enable_shared_from_this<WebSocketListener> {
 public:
  WebSocketListener(tcp::socket socket, UpgradeRequest request, ConnectionHandlers handlers)
      : ws_(std::move(socket)), request_(std::move(request)), handlers_(std::move(handlers)) {}

  void start() {
    websocket::stream_base::timeout timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.idle_timeout = std::chrono::seconds(60);
    timeouts.keep_alive_pings = true;  // a ping at half the idle time; no pong, no connection
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& response) { response.set(beast::http::field::server, "citytwin"); }));
    ws_.read_message_max(kMaxClientMessage);
    ws_.async_accept(request_, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->request_ = {};
      self->open_ = true;
      if (self->handlers_.opened) self->handlers_.opened(self);
      self->read();
    });
  }

  void deliver(std::shared_ptr<const std::string> message) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), message = std::move(message)]() mutable {
      self->enqueue(std::move(message));
    });
  }

  void close() override {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      self->closing_ = true;
      if (!self->writing_) self->close_now();
    });
  }

 private:
  void close_now() {
    if (closed_) return;
    closed_ = true;
    ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {});
  }

  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->closed_ = true;
        self->gone();
        return;
      }
      if (self->handlers_.received && self->ws_.got_text()) self->handlers_.received(beast::buffers_to_string(self->buffer_.data()));
      self->buffer_.clear();
      self->read();
    });
  }

  void gone() {
    if (!open_) return;
    open_ = false;
    if (handlers_.closed) handlers_.closed();
  }

  void enqueue(std::shared_ptr<const std::string> message) {
    if (closed_ || closing_) return;
    if (backlog_.size() >= kMaxWebSocketBacklog) backlog_.erase(backlog_.begin() + (writing_ ? 1 : 0));
    backlog_.push_back(std::move(message));
    if (!writing_) write_next();
  }

  void write_next() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(*backlog_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec) {
        self->closed_ = true;
        self->backlog_.clear();
        return;
      }
      self->backlog_.pop_front();
      if (!self->backlog_.empty()) self->write_next();
      else if (self->closing_) self->close_now();
    });
  }

  static constexpr std::size_t kMaxClientMessage = 64 * 1024;

  websocket::stream<beast::tcp_stream> ws_;
  UpgradeRequest request_;
  ConnectionHandlers handlers_;
  bool open_ = false;  // opened was called and closed not yet
  beast::flat_buffer buffer_;
  std::deque<std::shared_ptr<const std::string>> backlog_;
  bool writing_ = false;
  bool closing_ = false;  // close once the backlog is sent
  bool closed_ = false;
};

class Refusal : public std::enable_shared_from_this<Refusal> {
 public:
  Refusal(tcp::socket socket, UpgradeRefusal response) : stream_(std::move(socket)), response_(std::move(response)) {}
  void start() {
    response_.keep_alive(false);
    response_.set(beast::http::field::server, "citytwin");
    stream_.expires_after(std::chrono::seconds(10));
    beast::http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

 private:
  beast::tcp_stream stream_;
  UpgradeRefusal response_;
};

}  // namespace

void ListenerHub::add(const std::string& key, std::weak_ptr<Listener> listener) {
  std::lock_guard lock(mutex_);
  auto& list = listeners_[key];
  std::erase_if(list, [](const auto& l) { return l.expired(); });
  list.push_back(std::move(listener));
}

bool ListenerHub::has_listeners(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = listeners_.find(key);
  return it != listeners_.end() && !it->second.empty();
}

std::size_t ListenerHub::broadcast(const std::string& key, const std::shared_ptr<const std::string>& message) {
  std::vector<std::shared_ptr<Listener>> live;
  {
    std::lock_guard lock(mutex_);
    auto it = listeners_.find(key);
    if (it == listeners_.end()) return 0;
    std::erase_if(it->second, [&](const auto& weak) {
      auto l = weak.lock();
      if (!l) return true;
      live.push_back(std::move(l));
      return false;
    });
    if (it->second.empty()) listeners_.erase(it);
  }
  for (const auto& l : live) l->deliver(message);
  return live.size();
}

void ListenerHub::close_all(const std::string& key) {
  std::vector<std::weak_ptr<Listener>> closing;
  {
    std::lock_guard lock(mutex_);
    auto it = listeners_.find(key);
    if (it == listeners_.end()) return;
    closing = std::move(it->second);
    listeners_.erase(it);
  }
  for (const auto& weak : closing)
    if (auto l = weak.lock()) l->close();
}

void accept_websocket(tcp::socket socket, UpgradeRequest request, ConnectionHandlers handlers) {
  std::make_shared<WebSocketListener>(std::move(socket), std::move(request), std::move(handlers))->start();
}

void accept_websocket(tcp::socket socket, UpgradeRequest request, ListenerHub& hub, std::string key) {
  ConnectionHandlers handlers;
  handlers.opened = [&hub, key = std::move(key)](const std::shared_ptr<Listener>& listener) { hub.add(key, listener); };
  accept_websocket(std::move(socket), std::move(request), std::move(handlers));
}

void refuse_upgrade(tcp::socket socket, UpgradeRefusal refusal) {
  std::make_shared<Refusal>(std::move(socket), std::move(refusal))->start();
}

}  // namespace ct::notify
