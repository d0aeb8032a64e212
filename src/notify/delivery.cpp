#include "notify/delivery.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <functional>
#include <optional>
#include <spdlog/spdlog.h>
#include <thread>
#include <unordered_map>

#include "notify/mqtt.hpp"

namespace ct::notify {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxResponseBody = 64 * 1024;  // a receiver's answer is read and discarded

enum class Attempt { Delivered, Failed, Refused };
using Done = std::function<void(Attempt, std::string why)>;

// How one lane reaches its endpoint: one notification at a time, `done` called exactly once, later,
// on the delivery thread.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void transmit(const Outgoing& notification, Done done) = 0;
};

Attempt classify(unsigned status) {
  if (status >= 200 && status < 300) return Attempt::Delivered;
  if (status == 408 || status == 429 || status >= 500) return Attempt::Failed;
  return Attempt::Refused;
}

std::string host_header(const EndpointAddress& a) {
  std::string host = a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host;
  const bool default_port =
      (a.transport == Transport::Http && a.port == 80) || (a.transport == Transport::Https && a.port == 443);
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

// Publishes through the broker's shared client (which does its own connecting and queueing).
class MqttConnection final : public Connection {
 public:
  MqttConnection(asio::io_context& io, std::shared_ptr<MqttClient> client)
      : io_(io), client_(std::move(client)), wait_(io) {}

  void transmit(const Outgoing& n, Done done) override {
    if (!client_->connected() && client_->first_connecting()) {
      // A new client is still connecting: not an attempt yet, look again shortly.
      wait_.expires_after(std::chrono::milliseconds(20));
      wait_.async_wait([this, &n, done = std::move(done)](beast::error_code ec) mutable {
        if (!ec) transmit(n, std::move(done));
      });
      return;
    }
    const Registration& r = *n.registration;
    int qos = 0;
    json::object metadata;
    metadata["Content-Type"] = n.content_type;
    if (!n.link.empty()) metadata["Link"] = n.link;
    if (!r.tenant.empty()) metadata["NGSILD-Tenant"] = r.tenant;
    for (const auto& kv : r.subscription->endpoint.receiver_info) metadata[kv.key] = kv.value;
    for (const auto& kv : r.subscription->endpoint.notifier_info)
      if (kv.key == "MQTT-QoS") qos = kv.value.empty() ? 0 : kv.value[0] - '0';
    const bool published = client_->publish(r.subscription->address.target, mqtt_payload(to_text(metadata), n.body), qos);
    // Reported later, never from inside transmit: the lane must not recurse.
    asio::post(io_, [done = std::move(done), published] {
      done(published ? Attempt::Delivered : Attempt::Failed, published ? "" : "the MQTT broker is not connected");
    });
  }

 private:
  asio::io_context& io_;
  std::shared_ptr<MqttClient> client_;
  asio::steady_timer wait_;
};

}  // namespace

struct Dispatcher::Impl {
  struct Lane;
  struct Endpoint {
    EndpointAddress address;
    std::vector<std::unique_ptr<Lane>> lanes;
    bool failing = false;  // for logging transitions only
  };

  // A queue and the one connection that empties it, one notification at a time.
  struct Lane {
    Impl& impl;
    Endpoint& endpoint;
    std::unique_ptr<Connection> connection;
    std::size_t capacity;
    std::optional<Outgoing> head;  // being sent, or waiting for its retry
    std::deque<Outgoing> queue;    // behind it
    bool busy = false;
    bool waiting = false;  // for the retry timer
    unsigned failures = 0;
    asio::steady_timer retry_timer;

    Lane(Impl& i, Endpoint& e, std::unique_ptr<Connection> c, std::size_t cap)
        : impl(i), endpoint(e), connection(std::move(c)), capacity(cap), retry_timer(i.io) {}

    void push(Outgoing n) {
      if (queue.size() + (head ? 1 : 0) >= capacity) {
        impl.dropped.fetch_add(1, std::memory_order_relaxed);
        if (queue.empty()) return;  // capacity 1, taken by the head: the newcomer is dropped
        queue.pop_front();
      }
      queue.push_back(std::move(n));
      pump();
    }

    void pump() {
      if (busy || waiting) return;
      if (!head) {
        if (queue.empty()) return;
        head.emplace(std::move(queue.front()));
        queue.pop_front();
      }
      busy = true;
      connection->transmit(*head, [this](Attempt a, std::string why) { finished(a, std::move(why)); });
    }

    void finished(Attempt attempt, std::string why) {
      busy = false;
      head->registration->status->record(attempt == Attempt::Delivered, now_ms());
      if (attempt == Attempt::Failed) {
        impl.failed_attempts.fetch_add(1, std::memory_order_relaxed);
        if (!endpoint.failing)
          spdlog::warn("notifications to {} failing ({}); retrying", endpoint.address.key, why);
        endpoint.failing = true;
        const auto backoff = std::min<std::chrono::milliseconds>(
            impl.options.max_retry, impl.options.first_retry * (1LL << std::min(failures, 20u)));
        ++failures;
        waiting = true;
        retry_timer.expires_after(backoff);
        retry_timer.async_wait([this](beast::error_code ec) {
          waiting = false;
          if (!ec) pump();
        });
        return;
      }
      if (endpoint.failing && attempt == Attempt::Delivered) {
        spdlog::info("notifications to {} delivered again", endpoint.address.key);
        endpoint.failing = false;
      }
      if (attempt == Attempt::Refused) {
        impl.refused.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("notification of {} to {} refused: {}", head->registration->subscription->id,
                     head->registration->subscription->endpoint.uri, why);
      } else {
        impl.delivered.fetch_add(1, std::memory_order_relaxed);
      }
      failures = 0;
      head.reset();
      pump();
    }
  };

  explicit Impl(DeliveryOptions o) : options(o), tls(ssl::context::tls_client) {
    beast::error_code ec;
    tls.set_default_verify_paths(ec);
    if (ec) spdlog::warn("notifications over https: no default trusted certificates ({})", ec.message());
    tls.set_verify_mode(ssl::verify_peer, ec);
  }

  Endpoint& endpoint_for(const EndpointAddress& address) {
    auto& slot = endpoints[address.key];
    if (slot) return *slot;
    slot = std::make_unique<Endpoint>();
    slot->address = address;
    const unsigned lanes = address.transport == Transport::Mqtt ? 1 : std::max(1u, options.lanes_per_endpoint);
    const std::size_t capacity = std::max<std::size_t>(1, options.endpoint_queue_capacity / lanes);
    std::shared_ptr<MqttClient> mqtt;
    if (address.transport == Transport::Mqtt) mqtt = std::make_shared<MqttClient>(address);
    for (unsigned i = 0; i < lanes; ++i) {
      std::unique_ptr<Connection> connection;
      switch (address.transport) {
        case Transport::Http:
          connection = std::make_unique<HttpConnection<false>>(io, tls, address, options.request_timeout);
          break;
        case Transport::Https:
          connection = std::make_unique<HttpConnection<true>>(io, tls, address, options.request_timeout);
          break;
        default: connection = std::make_unique<MqttConnection>(io, mqtt); break;
      }
      slot->lanes.push_back(std::make_unique<Lane>(*this, *slot, std::move(connection), capacity));
    }
    return *slot;
  }

  void enqueue(Outgoing n) {
    const Registration& r = *n.registration;
    if (r.subscription->address.transport == Transport::WebSocketOnly) return;
    Endpoint& e = endpoint_for(r.subscription->address);
    const std::size_t lane = std::hash<std::string>()(r.tenant + '\x1f' + r.subscription->id) % e.lanes.size();
    e.lanes[lane]->push(std::move(n));
  }

  DeliveryOptions options;
  asio::io_context io;
  ssl::context tls;
  std::unordered_map<std::string, std::unique_ptr<Endpoint>> endpoints;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  std::atomic<std::uint64_t> delivered{0}, failed_attempts{0}, refused{0}, dropped{0};
};

Dispatcher::Dispatcher(DeliveryOptions options) : impl_(std::make_unique<Impl>(options)) {}

Dispatcher::~Dispatcher() {
  stop();
  impl_->endpoints.clear();  // before the io_context that their sockets and timers belong to
}

void Dispatcher::start() {
  if (impl_->thread.joinable()) return;
  impl_->work.emplace(impl_->io.get_executor());
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

void Dispatcher::stop() {
  impl_->work.reset();
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void Dispatcher::send(Outgoing notification) {
  asio::post(impl_->io, [impl = impl_.get(), n = std::move(notification)]() mutable { impl->enqueue(std::move(n)); });
}

DeliveryStats Dispatcher::stats() const {
  return {impl_->delivered.load(), impl_->failed_attempts.load(), impl_->refused.load(), impl_->dropped.load()};
}

}  // namespace ct::notify
