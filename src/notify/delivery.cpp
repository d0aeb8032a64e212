#include "notify/delivery.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <spdlog/spdlog.h>
#include <thread>
#include <unordered_map>

#include "notify/scheme.hpp"

namespace ct::notify {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using error_code = boost::system::error_code;

constexpr std::chrono::milliseconds kReachabilityWatch{25};

// What a queued notification weighs against the memory bounds: its body and headers, roughly.
std::size_t weight(const Outgoing& n) { return n.body.size() + n.link.size() + n.content_type.size() + 256; }

}  // namespace

struct Dispatcher::Impl {
  struct Path;
  struct Endpoint;

  // A queued notification and whether it still counts against pressure_bytes.
  struct Item {
    Outgoing notification;
    std::size_t bytes = 0;
    bool pressing = false;
  };

  // One subscription's notifications on a path, sent one at a time in order.
  struct Feed {
    Path& path;
    std::string key;              // tenant \x1f subscription id
    std::optional<Item> head;     // being sent, or waiting for its retry
    std::deque<Item> queue;       // behind it
    bool in_flight = false;
    bool ready = false;           // in path.ready
    Feed(Path& p, std::string k) : path(p), key(std::move(k)) {}
    bool empty() const { return !head && queue.empty(); }
  };

  // The notifications to one request target (MQTT: topic) of an endpoint.
  struct Path {
    Endpoint& endpoint;
    std::string target;
    std::unordered_map<std::string, std::unique_ptr<Feed>> feeds;
    std::deque<Feed*> ready;      // feeds with a notification to send, not in flight: round-robin
    bool in_ring = false;         // in endpoint.ring
    unsigned in_flight = 0;
    std::size_t queued_bytes = 0;
    bool failing = false;         // the last attempt failed
    bool stalled = false;         // a request went unanswered for stall_after
    bool waiting = false;         // for the retry timer
    unsigned failures = 0;        // in a row: the backoff
    bool logged_drop = false;     // one warning per episode of abandoned notifications
    asio::steady_timer retry_timer;
    asio::steady_timer reachability_watch;  // ends the wait for a retry once the endpoint is back (MQTT)
    Path(Endpoint& e, std::string t, asio::io_context& io)
        : endpoint(e), target(std::move(t)), retry_timer(io), reachability_watch(io) {}
    bool healthy() const { return !failing && !stalled; }
  };

  // One connection of an endpoint's pool and what it carries now.
  struct Slot {
    std::unique_ptr<Connection> connection;
    Feed* feed = nullptr;  // in flight, or null when idle
    std::chrono::steady_clock::time_point since;
  };

  struct Endpoint {
    EndpointAddress address;
    unsigned pool = 1;
    std::vector<std::unique_ptr<Slot>> slots;  // opened as needed, up to pool
    std::vector<Slot*> idle;
    std::unordered_map<std::string, std::unique_ptr<Path>> paths;
    std::deque<Path*> ring;  // paths with feeds ready: round-robin
    std::unique_ptr<Channel> channel;  // from the endpoint's scheme
    std::size_t available() const { return idle.size() + (pool - slots.size()); }
  };

  explicit Impl(DeliveryOptions o) : options(o), tls(ssl::context::tls_client), ticker(io) {
    error_code ec;
    tls.set_default_verify_paths(ec);
    if (ec) spdlog::warn("notifications over https: no default trusted certificates ({})", ec.message());
    tls.set_verify_mode(ssl::verify_peer, ec);
  }

  // ---- back-pressure (any thread) --------------------------------------------------------------

  void press(std::size_t bytes) {
    std::unique_lock lock(pressure_mutex);
    auto fits = [&] { return stopped || pressing_bytes == 0 || pressing_bytes + bytes <= options.pressure_bytes; };
    if (!fits()) {
      sender_waits.fetch_add(1, std::memory_order_relaxed);
      ++waiting_senders;
      pressure_cv.wait(lock, fits);
      --waiting_senders;
    }
    pressing_bytes += bytes;
  }

  void release(Item& item) {
    if (!item.pressing) return;
    item.pressing = false;
    std::lock_guard lock(pressure_mutex);
    pressing_bytes -= item.bytes;
    if (waiting_senders > 0) pressure_cv.notify_all();
  }

  // The path turned unhealthy: what it holds no longer holds the senders back.
  void release_all(Path& p) {
    for (auto& [key, feed] : p.feeds) {
      if (feed->head) release(*feed->head);
      for (Item& item : feed->queue) release(item);
    }
  }

  // ---- queues (the delivery thread) ------------------------------------------------------------

  Endpoint& endpoint_for(const EndpointAddress& address) {
    auto& slot = endpoints[address.key];
    if (slot) return *slot;
    slot = std::make_unique<Endpoint>();
    slot->address = address;
    slot->channel = address.handler->open(address, ChannelContext{io, tls, options.request_timeout});
    const unsigned most = slot->channel->max_connections();
    slot->pool = std::max(1u, most == 0 ? options.connections_per_endpoint : most);
    return *slot;
  }

  Path& path_for(Endpoint& e, const std::string& target) {
    auto& slot = e.paths[target];
    if (!slot) slot = std::make_unique<Path>(e, target, io);
    return *slot;
  }

  void enqueue(Outgoing n, std::size_t bytes) {
    Item item{std::move(n), bytes, true};
    const Registration& r = *item.notification.registration;
    if (r.subscription->address.websocket_only()) {
      release(item);
      return;
    }
    Endpoint& e = endpoint_for(r.subscription->address);
    Path& p = path_for(e, r.subscription->address.target);
    std::string key = r.tenant + '\x1f' + r.subscription->id;
    auto& feed_slot = p.feeds[key];
    if (!feed_slot) feed_slot = std::make_unique<Feed>(p, std::move(key));
    Feed& f = *feed_slot;
    if (!p.healthy()) {
      release(item);
      // Bounded: the oldest waiting notification of this subscription (else the newcomer) is abandoned.
      if (p.queued_bytes + bytes > options.unhealthy_path_bytes) {
        if (f.queue.empty()) {
          abandon(p, item);
          if (f.empty() && !f.in_flight) p.feeds.erase(std::string(f.key));  // a copy: erase destroys f
          return;
        }
        Item oldest = std::move(f.queue.front());
        f.queue.pop_front();
        p.queued_bytes -= oldest.bytes;
        queued_bytes.fetch_sub(oldest.bytes, std::memory_order_relaxed);
        abandon(p, oldest);
      }
    }
    p.queued_bytes += bytes;
    queued_bytes.fetch_add(bytes, std::memory_order_relaxed);
    if (!f.head) f.head.emplace(std::move(item));
    else f.queue.push_back(std::move(item));
    make_ready(f);
    pump(e);
  }

  void abandon(Path& p, Item& item) {
    dropped.fetch_add(1, std::memory_order_relaxed);
    item.notification.registration->status->record_abandoned(now_ms());
    if (!p.logged_drop) {
      spdlog::warn("notifications to {}{} abandoned: the receiver is failing or not answering and {} bytes are queued",
                   p.endpoint.address.key, p.target, p.queued_bytes);
      p.logged_drop = true;
    }
  }

  void make_ready(Feed& f) {
    if (f.in_flight || f.ready || !f.head) return;
    f.ready = true;
    f.path.ready.push_back(&f);
    if (!f.path.in_ring) {
      f.path.in_ring = true;
      f.path.endpoint.ring.push_back(&f.path);
    }
  }

  // May this path take one of `available` free connections now?
  bool may_send(const Path& p, std::size_t available) const {
    if (p.waiting) return false;
    if (!p.healthy()) return p.in_flight == 0;
    if (p.in_flight >= p.endpoint.pool) return false;
    // Never the last free connection for a path that has one already: the next path gets it.
    return p.in_flight == 0 || available > 1;
  }

  // Hands free connections to the ready paths in turn.
  void pump(Endpoint& e) {
    std::size_t passed = 0;  // paths looked at in a row that may not send now
    while (!e.ring.empty() && passed < e.ring.size()) {
      const std::size_t available = e.available();
      if (available == 0) return;
      Path* p = e.ring.front();
      e.ring.pop_front();
      if (p->ready.empty()) {
        p->in_ring = false;
        continue;
      }
      if (!may_send(*p, available)) {
        e.ring.push_back(p);
        ++passed;
        continue;
      }
      Feed* f = p->ready.front();
      p->ready.pop_front();
      f->ready = false;
      e.ring.push_back(p);  // keeps its turn even when now empty (dropped from the ring when met again)
      passed = 0;
      transmit(e, *f);
    }
  }

  Slot& take_slot(Endpoint& e) {
    if (!e.idle.empty()) {
      Slot* s = e.idle.back();
      e.idle.pop_back();
      return *s;
    }
    auto slot = std::make_unique<Slot>();
    slot->connection = e.channel->connect();
    e.slots.push_back(std::move(slot));
    return *e.slots.back();
  }

  void transmit(Endpoint& e, Feed& f) {
    Slot& s = take_slot(e);
    s.feed = &f;
    s.since = std::chrono::steady_clock::now();
    f.in_flight = true;
    ++f.path.in_flight;
    s.connection->transmit(f.head->notification,
                           [this, &e, &s](Attempt a, std::string why) { finished(e, s, a, std::move(why)); });
  }

  void finished(Endpoint& e, Slot& s, Attempt attempt, std::string why) {
    Feed& f = *s.feed;
    Path& p = f.path;
    s.feed = nullptr;
    e.idle.push_back(&s);
    f.in_flight = false;
    --p.in_flight;
    f.head->notification.registration->status->record(attempt == Attempt::Delivered, now_ms());
    if (attempt == Attempt::Failed) {
      failed_attempts.fetch_add(1, std::memory_order_relaxed);
      if (!p.failing) {
        spdlog::warn("notifications to {}{} failing ({}); retrying", e.address.key, p.target, why);
        p.failing = true;
        release_all(p);
      }
      if (!p.waiting) {
        const auto backoff = std::min<std::chrono::milliseconds>(
            options.max_retry, options.first_retry * (1LL << std::min(p.failures, 20u)));
        ++p.failures;
        p.waiting = true;
        p.retry_timer.expires_after(backoff);
        p.retry_timer.async_wait([this, &e, &p](error_code ec) {
          if (ec) return;  // cancelled by watch_reachability, which retried already
          p.waiting = false;
          pump(e);
        });
        if (e.channel->tells_reachability()) watch_reachability(e, p);
      }
      make_ready(f);  // the same notification again, after the backoff
      pump(e);
      return;
    }
    if (!p.healthy() && attempt == Attempt::Delivered)
      spdlog::info("notifications to {}{} delivered again", e.address.key, p.target);
    if (attempt == Attempt::Delivered) {
      p.failing = false;
      p.stalled = false;
      p.logged_drop = false;
      p.failures = 0;
      delivered.fetch_add(1, std::memory_order_relaxed);
    } else {
      refused.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("notification of {} to {} refused: {}", f.head->notification.registration->subscription->id,
                   f.head->notification.registration->subscription->endpoint.uri, why);
    }
    Item done = std::move(*f.head);
    f.head.reset();
    release(done);
    p.queued_bytes -= done.bytes;
    queued_bytes.fetch_sub(done.bytes, std::memory_order_relaxed);
    if (!f.queue.empty()) {
      f.head.emplace(std::move(f.queue.front()));
      f.queue.pop_front();
      make_ready(f);
    } else {
      p.feeds.erase(std::string(f.key));  // nothing queued: no state kept (a copy of the key: erase destroys f)
    }
    pump(e);
  }

  // While a path waits for its retry, on a channel that tells reachability (MQTT): retries as soon
  // as the endpoint is reachable again, so that a broker that comes back gets the notifications at
  // once, not after the backoff.
  void watch_reachability(Endpoint& e, Path& p) {
    p.reachability_watch.expires_after(kReachabilityWatch);
    p.reachability_watch.async_wait([this, &e, &p](error_code ec) {
      if (ec || !p.waiting) return;
      if (!e.channel->reachable()) return watch_reachability(e, p);
      p.waiting = false;
      p.retry_timer.cancel();
      pump(e);
    });
  }

  // Every stall_after / 4: a path whose oldest request is unanswered for stall_after stops holding
  // the senders back.
  void tick() {
    ticker.expires_after(std::max<std::chrono::milliseconds>(std::chrono::milliseconds(10), options.stall_after / 4));
    ticker.async_wait([this](error_code ec) {
      if (ec) return;
      const auto now = std::chrono::steady_clock::now();
      for (auto& [key, e] : endpoints)
        for (auto& slot : e->slots) {
          if (!slot->feed || now - slot->since < options.stall_after) continue;
          Path& p = slot->feed->path;
          if (p.stalled) continue;
          p.stalled = true;
          release_all(p);
          spdlog::warn("notifications to {}{}: no answer for {} ms; no longer waiting for this receiver",
                       e->address.key, p.target, options.stall_after.count());
        }
      tick();
    });
  }

  DeliveryOptions options;
  asio::io_context io;
  ssl::context tls;
  asio::steady_timer ticker;
  std::unordered_map<std::string, std::unique_ptr<Endpoint>> endpoints;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  std::mutex pressure_mutex;
  std::condition_variable pressure_cv;
  std::size_t pressing_bytes = 0;  // guarded by pressure_mutex
  unsigned waiting_senders = 0;    // guarded by pressure_mutex
  bool stopped = true;             // guarded by pressure_mutex: send() does not wait then
  std::atomic<std::uint64_t> delivered{0}, failed_attempts{0}, refused{0}, dropped{0}, sender_waits{0}, queued_bytes{0};
};

Dispatcher::Dispatcher(DeliveryOptions options) : impl_(std::make_unique<Impl>(options)) {}

Dispatcher::~Dispatcher() {
  stop();
  impl_->endpoints.clear();  // before the io_context that their sockets and timers belong to
}

void Dispatcher::start() {
  if (impl_->thread.joinable()) return;
  {
    std::lock_guard lock(impl_->pressure_mutex);
    impl_->stopped = false;
  }
  impl_->work.emplace(impl_->io.get_executor());
  impl_->tick();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

void Dispatcher::stop() {
  {
    std::lock_guard lock(impl_->pressure_mutex);
    impl_->stopped = true;
  }
  impl_->pressure_cv.notify_all();
  impl_->work.reset();
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void Dispatcher::send(Outgoing notification) {
  const std::size_t bytes = weight(notification);
  impl_->press(bytes);
  asio::post(impl_->io, [impl = impl_.get(), n = std::move(notification), bytes]() mutable {
    impl->enqueue(std::move(n), bytes);
  });
}

DeliveryStats Dispatcher::stats() const {
  return {impl_->delivered.load(),    impl_->failed_attempts.load(), impl_->refused.load(),
          impl_->dropped.load(),      impl_->sender_waits.load(),    impl_->queued_bytes.load()};
}

}  // namespace ct::notify
