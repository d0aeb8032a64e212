// notify_bench: drives a running citytwin with entity updates at a fixed rate and receives the
// notifications they cause on its own HTTP receiver, to measure update -> notification latency at
// the receiver, notifications lost, and update throughput (ETSI NGSI-LD subscriptions).
//
//   notify_bench --server 127.0.0.1:1026 --entities 100000 --subscriptions 10000 --rate 20000
//                --match 0.1 --duration 20 --connections 64
//
// Setup: creates the entities (batch upsert) and one subscription per entity 0..subscriptions-1
// (entities [{type: Sensor, id}], keyValues, endpoint: this program's receiver). Load: PATCH
// /entities/{id}/attrs on `connections` keep-alive connections, paced to `rate` in all; a fraction
// `match` of them targets a subscribed entity, the rest entities nobody subscribed to. Each update
// carries the wall-clock time it was sent ("sent", microseconds); the receiver subtracts it from
// the time the notification arrived. Prints one line of results (key=value).
// Needs only Boost (Asio, Beast): the driver script builds it with g++ directly.
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "1026";
  long entities = 100'000;
  long subscriptions = 10'000;
  double rate = 20'000;
  double match = 0.1;
  double duration = 20;
  int connections = 64;
  double drain = 10;  // seconds to wait for the last notifications
};

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string entity_id(long i) { return "urn:ngsi-ld:Sensor:" + std::to_string(i); }

// ---- a blocking client for the setup ----------------------------------------------------------

class SyncClient {
 public:
  SyncClient(asio::io_context& io, const Options& o) : stream_(io), options_(o) {
    tcp::resolver resolver(io);
    stream_.connect(resolver.resolve(o.host, o.port));
  }
  unsigned request(http::verb verb, const std::string& target, const std::string& body) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, options_.host);
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(stream_, req);
    http::response<http::string_body> res;
    beast::flat_buffer buffer;
    http::read(stream_, buffer, res);
    if (res.result_int() >= 300) std::cerr << target << " -> " << res.result_int() << " " << res.body().substr(0, 300) << "\n";
    return res.result_int();
  }

 private:
  beast::tcp_stream stream_;
  const Options& options_;
};

// ---- the receiver ------------------------------------------------------------------------------

struct Received {
  std::mutex mutex;
  std::vector<std::int64_t> latencies_us;
  std::atomic<long> notifications{0};
};

class ReceiverSession : public std::enable_shared_from_this<ReceiverSession> {
 public:
  ReceiverSession(tcp::socket socket, Received& received) : stream_(std::move(socket)), received_(received) {}
  void start() { read(); }

 private:
  void read() {
    request_ = {};
    http::async_read(stream_, buffer_, request_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      self->record(self->request_.body());
      self->response_ = {http::status::ok, 11};
      self->response_.keep_alive(true);
      self->response_.prepare_payload();
      http::async_write(self->stream_, self->response_, [self](beast::error_code ec2, std::size_t) {
        if (!ec2) self->read();
      });
    });
  }
  void record(const std::string& body) {
    const std::int64_t arrived = now_us();
    std::vector<std::int64_t> found;
    for (std::size_t at = body.find("\"sent\":"); at != std::string::npos; at = body.find("\"sent\":", at + 7))
      found.push_back(arrived - std::strtoll(body.c_str() + at + 7, nullptr, 10));
    std::lock_guard lock(received_.mutex);
    received_.latencies_us.insert(received_.latencies_us.end(), found.begin(), found.end());
    received_.notifications += 1;
  }
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::empty_body> response_;
  Received& received_;
};

class Receiver {
 public:
  explicit Receiver(Received& received) : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), received_(received) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Receiver() {
    io_.stop();
    thread_.join();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }

 private:
  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (!ec) {
        socket.set_option(tcp::no_delay(true));
        std::make_shared<ReceiverSession>(std::move(socket), received_)->start();
      }
      accept();
    });
  }
  asio::io_context io_;
  tcp::acceptor acceptor_;
  Received& received_;
  std::thread thread_;
};

// ---- the load ----------------------------------------------------------------------------------

struct Load {
  std::atomic<long> sent{0}, ok{0}, failed{0}, matching_ok{0};
  std::mutex mutex;
  std::vector<std::int64_t> request_latencies_us;
};

class LoadConnection : public std::enable_shared_from_this<LoadConnection> {
 public:
  LoadConnection(asio::io_context& io, const Options& o, Load& load, int index, std::chrono::steady_clock::time_point start,
                 std::chrono::steady_clock::time_point end)
      : stream_(io), timer_(io), options_(o), load_(load), random_(index * 7919 + 17), start_(start), end_(end),
        interval_(std::chrono::duration<double>(o.connections / o.rate)), next_(start + interval_ * (index / double(o.connections))) {}

  void start(const tcp::resolver::results_type& endpoints) {
    stream_.async_connect(endpoints, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
      if (ec) {
        std::cerr << "connect: " << ec.message() << "\n";
        return;
      }
      self->stream_.socket().set_option(tcp::no_delay(true));
      self->wait();
    });
  }

 private:
  void wait() {
    if (std::chrono::steady_clock::now() >= end_) return;
    timer_.expires_at(std::chrono::time_point_cast<std::chrono::steady_clock::duration>(next_));
    timer_.async_wait([self = shared_from_this()](beast::error_code) { self->send(); });
  }

  void send() {
    next_ += interval_;
    const bool matching = std::uniform_real_distribution<double>(0, 1)(random_) < options_.match && options_.subscriptions > 0;
    const long id = matching ? std::uniform_int_distribution<long>(0, options_.subscriptions - 1)(random_)
                             : std::uniform_int_distribution<long>(options_.subscriptions, options_.entities - 1)(random_);
    matching_ = matching;
    request_ = {http::verb::patch, "/ngsi-ld/v1/entities/" + entity_id(id) + "/attrs", 11};
    request_.set(http::field::host, options_.host);
    request_.set(http::field::content_type, "application/json");
    sent_at_ = now_us();
    request_.body() = R"({"value":{"type":"Property","value":)" + std::to_string(counter_++) +
                      R"(},"sent":{"type":"Property","value":)" + std::to_string(sent_at_) + "}}";
    request_.prepare_payload();
    load_.sent += 1;
    http::async_write(stream_, request_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->fail(ec);
      self->response_ = {};
      http::async_read(self->stream_, self->buffer_, self->response_, [self](beast::error_code ec2, std::size_t) {
        if (ec2) return self->fail(ec2);
        const std::int64_t took = now_us() - self->sent_at_;
        if (self->response_.result_int() == 204) {
          self->load_.ok += 1;
          if (self->matching_) self->load_.matching_ok += 1;
        } else {
          self->load_.failed += 1;
        }
        {
          std::lock_guard lock(self->load_.mutex);
          self->load_.request_latencies_us.push_back(took);
        }
        self->wait();
      });
    });
  }

  void fail(beast::error_code ec) {
    load_.failed += 1;
    std::cerr << "request: " << ec.message() << "\n";
  }

  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  const Options& options_;
  Load& load_;
  std::mt19937_64 random_;
  std::chrono::steady_clock::time_point start_, end_;
  std::chrono::duration<double> interval_;
  std::chrono::time_point<std::chrono::steady_clock, std::chrono::duration<double>> next_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  beast::flat_buffer buffer_;
  std::int64_t sent_at_ = 0;
  long counter_ = 0;
  bool matching_ = false;
};

double percentile(std::vector<std::int64_t>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return static_cast<double>(v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))]);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--server") {
      o.host = value.substr(0, value.rfind(':'));
      o.port = value.substr(value.rfind(':') + 1);
    } else if (key == "--entities") o.entities = std::stol(value);
    else if (key == "--subscriptions") o.subscriptions = std::stol(value);
    else if (key == "--rate") o.rate = std::stod(value);
    else if (key == "--match") o.match = std::stod(value);
    else if (key == "--duration") o.duration = std::stod(value);
    else if (key == "--connections") o.connections = std::stoi(value);
    else if (key == "--drain") o.drain = std::stod(value);
    else {
      std::cerr << "unknown option " << key << "\n";
      std::exit(2);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  Received received;
  Receiver receiver(received);
  asio::io_context io;

  // Setup: entities, then subscriptions.
  const auto setup_start = std::chrono::steady_clock::now();
  {
    SyncClient client(io, o);
    for (long first = 0; first < o.entities; first += 1000) {
      std::string batch = "[";
      for (long i = first; i < std::min(o.entities, first + 1000); ++i) {
        if (i != first) batch += ',';
        batch += R"({"id":")" + entity_id(i) + R"(","type":"Sensor","value":{"type":"Property","value":0},"sent":{"type":"Property","value":0}})";
      }
      batch += "]";
      if (client.request(http::verb::post, "/ngsi-ld/v1/entityOperations/upsert", batch) >= 300) return 1;
    }
    const std::string endpoint = "http://127.0.0.1:" + std::to_string(receiver.port()) + "/notify";
    for (long i = 0; i < o.subscriptions; ++i) {
      const std::string body = R"({"id":"urn:ngsi-ld:Subscription:bench)" + std::to_string(i) +
                               R"(","type":"Subscription","entities":[{"type":"Sensor","id":")" + entity_id(i) +
                               R"("}],"watchedAttributes":["value"],"notification":{"format":"keyValues","attributes":["sent"],"endpoint":{"uri":")" +
                               endpoint + R"("}}})";
      if (client.request(http::verb::post, "/ngsi-ld/v1/subscriptions", body) != 201) return 1;
    }
  }
  const double setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - setup_start).count();

  // Load.
  Load load;
  tcp::resolver resolver(io);
  const auto endpoints = resolver.resolve(o.host, o.port);
  const auto start = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  const auto end = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(o.duration));
  for (int i = 0; i < o.connections; ++i) std::make_shared<LoadConnection>(io, o, load, i, start, end)->start(endpoints);
  io.run();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Drain: wait until every expected notification came, or `drain` seconds.
  const long expected = load.matching_ok.load();
  const auto drain_end = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.drain);
  auto received_count = [&] {
    std::lock_guard lock(received.mutex);
    return static_cast<long>(received.latencies_us.size());
  };
  while (received_count() < expected && std::chrono::steady_clock::now() < drain_end)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));

  std::vector<std::int64_t> latencies;
  {
    std::lock_guard lock(received.mutex);
    latencies = received.latencies_us;
  }
  const long got = static_cast<long>(latencies.size());
  const double p50 = percentile(latencies, 0.50) / 1000.0, p99 = percentile(latencies, 0.99) / 1000.0;
  const double max = latencies.empty() ? 0 : static_cast<double>(latencies.back()) / 1000.0;
  auto& rl = load.request_latencies_us;
  const double rp50 = percentile(rl, 0.50) / 1000.0, rp99 = percentile(rl, 0.99) / 1000.0;
  std::printf(
      "setup_s=%.1f updates=%ld updates_ok=%ld failed=%ld update_rate=%.0f/s update_p50_ms=%.2f update_p99_ms=%.2f "
      "expected_notifications=%ld received=%ld lost=%ld notify_p50_ms=%.2f notify_p99_ms=%.2f notify_max_ms=%.1f requests=%ld\n",
      setup_s, load.sent.load(), load.ok.load(), load.failed.load(), static_cast<double>(load.ok.load()) / elapsed, rp50, rp99,
      expected, got, std::max(0L, expected - got), p50, p99, max, received.notifications.load());
  return 0;
}
