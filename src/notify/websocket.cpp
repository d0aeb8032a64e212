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
  WebSocketListener(tcp::socket socket, UpgradeRequest request)
      : ws_(std::move(socket)), request_(std::move(request)) {}

  void start(ListenerHub& hub, std::string key) {
    websocket::stream_base::timeout timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.idle_timeout = std::chrono::seconds(60);
    timeouts.keep_alive_pings = true;  // a ping at half the idle time; no pong, no connection
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& response) { response.set(beast::http::field::server, "citytwin"); }));
    ws_.async_accept(request_, [self = shared_from_this(), &hub, key = std::move(key)](beast::error_code ec) {
      if (ec) return;
      self->request_ = {};
      hub.add(key, self);
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
        return;
      }
      self->buffer_.clear();  // what a client sends is ignored
      self->read();
    });
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

  websocket::stream<beast::tcp_stream> ws_;
  UpgradeRequest request_;
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

void accept_websocket(tcp::socket socket, UpgradeRequest request, ListenerHub& hub, std::string key) {
  std::make_shared<WebSocketListener>(std::move(socket), std::move(request))->start(hub, std::move(key));
}

void refuse_upgrade(tcp::socket socket, UpgradeRefusal refusal) {
  std::make_shared<Refusal>(std::move(socket), std::move(refusal))->start();
}

}  // namespace ct::notify
