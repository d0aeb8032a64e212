#include "app/replay.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/tokenizer.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include "common/json.hpp"
#include "common/time.hpp"
#include "net/mqtt_client.hpp"

namespace ct::app {
namespace {

namespace beast = boost::beast;
namespace asio = boost::asio;
using Row = std::vector<std::string>;

struct Table {
  Row header;
  std::vector<Row> rows;
};

std::optional<Table> read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  Table table;
  std::string line;
  using Tokens = boost::tokenizer<boost::escaped_list_separator<char>>;
  bool first = true;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    Row row;
    try {
      for (const auto& field : Tokens(line)) row.push_back(field);
    } catch (const boost::escaped_list_error&) {
      spdlog::error("replay: {}: a malformed CSV line: {}", path, line.substr(0, 80));
      return std::nullopt;
    }
    if (first) {
      table.header = std::move(row);
      first = false;
    } else {
      row.resize(table.header.size());
      table.rows.push_back(std::move(row));
    }
  }
  return table;
}

std::optional<std::size_t> column(const Row& header, std::string_view name) {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i;
  return std::nullopt;
}

bool missing(const std::string& value) { return value.empty() || value == "NA" || value == "NaN" || value == "null"; }

bool is_number(const std::string& value) {
  double d = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), d);
  return ec == std::errc() && end == value.data() + value.size();
}

// A device id or attribute name from free text: lower case letters, digits, '_' and '-'.
std::string clean(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '_' || c == '-') out.push_back(static_cast<char>(std::tolower(u)));
  }
  return out;
}

struct Endpoint {
  std::string scheme, host;
  std::uint16_t port = 0;
};

std::optional<Endpoint> endpoint(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->host().empty()) return std::nullopt;
  Endpoint e{std::string(parsed->scheme()), std::string(parsed->host_address()), 0};
  if (e.scheme != "mqtt" && e.scheme != "http") return std::nullopt;
  e.port = parsed->has_port() ? parsed->port_number() : (e.scheme == "mqtt" ? 1883 : 80);
  return e;
}

// One keep-alive HTTP/1.1 connection.
class HttpClient {
 public:
  explicit HttpClient(Endpoint e) : endpoint_(std::move(e)), socket_(io_) {}
  // The status of the answer, or 0 if the server could not be reached.
  unsigned post(const std::string& target, const std::string& body, std::string_view content_type,
                const std::string& service = {}) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        if (!socket_.is_open()) {
          asio::ip::tcp::resolver resolver(io_);
          asio::connect(socket_, resolver.resolve(endpoint_.host, std::to_string(endpoint_.port)));
        }
        beast::http::request<beast::http::string_body> request(beast::http::verb::post, target, 11);
        request.set(beast::http::field::host, endpoint_.host);
        request.set(beast::http::field::content_type, content_type);
        if (!service.empty()) request.set("fiware-service", service);
        request.body() = body;
        request.prepare_payload();
        beast::http::write(socket_, request);
        beast::http::response<beast::http::string_body> response;
        beast::http::read(socket_, buffer_, response);
        if (!response.keep_alive()) socket_.close();
        if (response.result_int() >= 400) last_error_ = response.body();
        return response.result_int();
      } catch (const std::exception& e) {
        last_error_ = e.what();
        beast::error_code ignored;
        socket_.close(ignored);
      }
    }
    return 0;
  }
  const std::string& last_error() const { return last_error_; }

 private:
  Endpoint endpoint_;
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  beast::flat_buffer buffer_;
  std::string last_error_;
};

// An MQTT publisher (QoS 1) that counts the broker's acknowledgements.
class MqttPublisher {
 public:
  explicit MqttPublisher(const Endpoint& e) : client_(client_options(e), client_callbacks(acknowledged_)) {}
  // Starts the client and waits for the broker to accept it.
  bool connect(std::chrono::seconds timeout) {
    if (!client_.start()) return false;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!client_.connected() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return client_.connected();
  }
  bool publish(const std::string& topic, const std::string& payload) {
    const bool queued = client_.publish(topic, payload, /*qos=*/1);
    if (queued) ++sent_;
    return queued;
  }
  // Waits until the broker acknowledged everything sent (or the timeout).
  bool drain(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (acknowledged_.load() < sent_ && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return acknowledged_.load() >= sent_;
  }

 private:
  static net::MqttClientOptions client_options(const Endpoint& e) {
    net::MqttClientOptions o;
    o.name = "replay";
    o.broker.host = e.host;
    o.broker.port = e.port;
    o.max_inflight = 1000;  // enough in flight to keep the broker busy at full speed
    return o;
  }
  static net::MqttCallbacks client_callbacks(std::atomic<std::uint64_t>& acknowledged) {
    net::MqttCallbacks c;
    c.on_published = [&acknowledged] { acknowledged.fetch_add(1); };
    return c;
  }

  std::atomic<std::uint64_t> acknowledged_{0};
  std::uint64_t sent_ = 0;
  net::MqttClient client_;  // last: stopped (its thread joined) before the counters go
};

struct Layout {
  std::size_t device = 0;
  std::optional<std::size_t> year, month, day, hour, time;
  std::vector<std::size_t> measures;
  std::vector<bool> numeric;  // per column
};

std::optional<Timestamp> row_time(const Layout& l, const Row& row, const std::string& offset) {
  if (l.time) return parse_datetime(row[*l.time]);
  if (!l.year || !l.month || !l.day) return std::nullopt;
  char text[64];
  auto field = [&](std::optional<std::size_t> i) { return i ? std::atoi(row[*i].c_str()) : 0; };
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:00:00%s", field(l.year), field(l.month), field(l.day),
                field(l.hour), offset.c_str());
  return parse_datetime(text);
}

int provision(const ReplayOptions& o, const Table& t, const Layout& l) {
  auto e = endpoint(o.provision);
  if (!e || e->scheme != "http") {
    spdlog::error("--provision must be http://host:port");
    return 2;
  }
  HttpClient http(*e);
  json::object group{{"apikey", o.apikey}, {"entity_type", o.entity_type}, {"resource", "/iot/d"}};
  const unsigned g = http.post("/iot/services", to_text(json::object{{"services", json::array{group}}}),
                               "application/json", o.service);
  if (g != 201 && g != 409) {
    spdlog::error("replay: provisioning the service group failed ({}): {}", g, http.last_error());
    return 1;
  }
  std::map<std::string, std::pair<double, double>> located;
  if (!o.locations.empty()) {
    auto places = read_csv(o.locations);
    if (!places) {
      spdlog::error("replay: cannot read {}", o.locations);
      return 2;
    }
    auto lon = column(places->header, "longitude"), lat = column(places->header, "latitude");
    if (!lon) lon = column(places->header, "Longitude");
    if (!lat) lat = column(places->header, "Latitude");
    if (!lon || !lat) {
      spdlog::error("replay: {} needs longitude and latitude columns", o.locations);
      return 2;
    }
    for (const auto& row : places->rows)
      located[clean(row[0])] = {std::atof(row[*lon].c_str()), std::atof(row[*lat].c_str())};
  }
  json::array attributes;
  for (std::size_t i : l.measures) {
    std::string name = clean(t.header[i]);
    if (name.empty()) continue;
    attributes.push_back(json::object{{"object_id", t.header[i]}, {"name", name}, {"type", l.numeric[i] ? "Number" : "Text"}});
  }
  std::set<std::string> devices;
  json::array list;
  for (const auto& row : t.rows) {
    const std::string id = clean(row[l.device]);
    if (id.empty() || !devices.insert(id).second) continue;
    json::object d{{"device_id", id}, {"entity_name", "urn:ngsi-ld:" + o.entity_type + ":" + id}, {"attributes", attributes}};
    json::array statics{json::object{{"name", "name"}, {"type", "Text"}, {"value", row[l.device]}}};
    if (auto it = located.find(id); it != located.end())
      statics.push_back(json::object{{"name", "location"}, {"type", "geo:json"},
                                     {"value", json::object{{"type", "Point"}, {"coordinates", {it->second.first, it->second.second}}}}});
    d["static_attributes"] = std::move(statics);
    list.push_back(std::move(d));
  }
  int refused = 0;
  for (const auto& d : list) {  // one by one: a device provisioned by an earlier replay answers 409
    const unsigned s = http.post("/iot/devices", to_text(json::object{{"devices", json::array{d}}}), "application/json", o.service);
    if (s != 201 && s != 409) {
      spdlog::error("replay: provisioning device {} failed ({}): {}", to_text(d.as_object().at("device_id")), s, http.last_error());
      ++refused;
    }
  }
  spdlog::info("replay: provisioned {} devices (apikey {}, service {})", list.size(), o.apikey, o.service.empty() ? "default" : o.service);
  return refused == 0 ? 0 : 1;
}

}  // namespace

int replay(const ReplayOptions& o) {
  auto table = read_csv(o.csv);
  if (!table || table->header.empty()) {
    spdlog::error("replay: cannot read {}", o.csv);
    return 2;
  }
  auto target = endpoint(o.to);
  if (!target) {
    spdlog::error("replay: --to must be mqtt://host:port or http://host:port, got {}", o.to);
    return 2;
  }
  if (o.format != "ul" && o.format != "json") {
    spdlog::error("replay: --format must be ul or json");
    return 2;
  }
  Layout l;
  auto device = column(table->header, o.device_column);
  if (!device) {
    spdlog::error("replay: {} has no column {}", o.csv, o.device_column);
    return 2;
  }
  l.device = *device;
  l.year = column(table->header, "year");
  l.month = column(table->header, "month");
  l.day = column(table->header, "day");
  l.hour = column(table->header, "hour");
  l.time = column(table->header, "time");
  if (!l.time) l.time = column(table->header, "TimeInstant");
  const std::set<std::size_t> not_measures{l.device, l.year.value_or(SIZE_MAX), l.month.value_or(SIZE_MAX),
                                           l.day.value_or(SIZE_MAX), l.hour.value_or(SIZE_MAX), l.time.value_or(SIZE_MAX)};
  l.numeric.assign(table->header.size(), true);
  for (std::size_t i = 0; i < table->header.size(); ++i) {
    if (not_measures.contains(i) || table->header[i] == "No") continue;
    l.measures.push_back(i);
    for (const auto& row : table->rows)
      if (!missing(row[i]) && !is_number(row[i])) {
        l.numeric[i] = false;
        break;
      }
  }
  if (o.limit && table->rows.size() > o.limit) table->rows.resize(o.limit);
  if (!o.provision.empty())
    if (int rc = provision(o, *table, l); rc != 0) return rc;

  std::optional<HttpClient> http;
  std::optional<MqttPublisher> mqtt;
  if (target->scheme == "http") {
    http.emplace(*target);
  } else {
    mqtt.emplace(*target);
    if (!mqtt->connect(std::chrono::seconds(10))) {
      spdlog::error("replay: cannot connect to {}", o.to);
      return 1;
    }
  }

  const auto started = std::chrono::steady_clock::now();
  std::optional<Timestamp> first_time;
  std::size_t sent = 0, failed = 0;
  for (const auto& row : table->rows) {
    const std::string id = clean(row[l.device]);
    if (id.empty()) continue;
    const auto at = row_time(l, row, o.utc_offset);
    if (at && o.speedup > 0) {
      if (!first_time) first_time = *at;
      const auto due = started + std::chrono::microseconds(static_cast<std::int64_t>(
                                     static_cast<double>(*at - *first_time) * 1000.0 / o.speedup));
      std::this_thread::sleep_until(due);
    }
    std::string payload;
    if (o.format == "ul") {
      if (at) payload = "TimeInstant|" + format_datetime(*at);
      for (std::size_t i : l.measures) {
        if (missing(row[i])) continue;
        if (!payload.empty()) payload += '|';
        payload += table->header[i] + "|" + row[i];
      }
    } else {
      json::object o_json;
      if (at) o_json["TimeInstant"] = format_datetime(*at);
      for (std::size_t i : l.measures) {
        if (missing(row[i])) continue;
        if (l.numeric[i])
          o_json[table->header[i]] = std::atof(row[i].c_str());
        else
          o_json[table->header[i]] = row[i];
      }
      payload = to_text(o_json);
    }
    bool ok = false;
    if (http) {
      const std::string path = (o.format == "ul" ? "/iot/d?k=" : "/iot/json?k=") + o.apikey + "&i=" + id;
      const unsigned status = http->post(path, payload, o.format == "ul" ? "text/plain" : "application/json");
      ok = status == 200;
      if (!ok && failed == 0) spdlog::warn("replay: {} answered {}: {}", path, status, http->last_error());
    } else {
      ok = mqtt->publish("/" + o.apikey + "/" + id + "/attrs", payload);
    }
    (ok ? sent : failed) += 1;
  }
  if (mqtt && !mqtt->drain(std::chrono::seconds(30))) {
    spdlog::error("replay: the broker did not acknowledge every message");
    return 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  spdlog::info("replay: {} messages sent, {} failed, in {:.2f} s ({:.0f} messages/s)", sent, failed, seconds,
               seconds > 0 ? static_cast<double>(sent) / seconds : 0.0);
  return failed == 0 ? 0 : 1;
}

}  // namespace ct::app
