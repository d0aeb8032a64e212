#include "app/serve.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include <spdlog/spdlog.h>

#include "app/demo_city.hpp"
#include "app/demo_feed.hpp"
#include "app/demo_generated.hpp"
#include "domains/catalog.hpp"
#include "domains/core/city_settings.hpp"
#include "domains/core/host.hpp"
#include "domains/core/kpi.hpp"
#include "evaluation/evaluations.hpp"
#include "history/history_store.hpp"
#include "http/city_api.hpp"
#include "http/context_fetcher.hpp"
#include "http/live_api.hpp"
#include "http/evaluation_api.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/services.hpp"
#include "http/static_files.hpp"
#include "ingest/coap_adapter.hpp"
#include "ingest/device_registry.hpp"
#include "ingest/ingestor.hpp"
#include "ingest/mqtt_adapter.hpp"
#include "jsonld/context_store.hpp"
#include "live/live_stream.hpp"
#include "notify/subscriptions.hpp"
#include "rules/engine.hpp"
#include "rules/history_source.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"
#include "twin/twin.hpp"

namespace ct::app {
namespace {

// Rules rebuild their windows after a restart from the recorded history.
class HistoryWindows final : public rules::HistorySource {
 public:
  explicit HistoryWindows(const history::HistoryStore& history) : history_(history) {}
  Status numeric_points(const std::string& tenant, const std::string& entity_id, const std::string& attribute,
                        Timestamp from, Timestamp to,
                        const std::function<void(Timestamp, double)>& visit) const override {
    return history_.numeric_points(tenant, entity_id, attribute, from, to, visit);
  }

 private:
  const history::HistoryStore& history_;
};

bool split_listen(const std::string& listen, std::string& address, std::uint16_t& port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  address = listen.substr(0, colon);
  if (address.size() > 2 && address.front() == '[') address = address.substr(1, address.size() - 2);
  try {
    const int p = std::stoi(listen.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    port = static_cast<std::uint16_t>(p);
  } catch (...) {
    return false;
  }
  return true;
}

// Every connection, store file and MQTT client is a descriptor; the default soft limit (1024) is
// far below what the hard limit allows. Running out anyway is handled (the HTTP server pauses
// accepting), this only moves the wall.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0)
    spdlog::warn("cannot raise the open file limit from {}: {}", before, std::strerror(errno));
  else
    spdlog::debug("open file limit raised from {} to {}", before, limit.rlim_cur);
}

}  // namespace

// The applications --applications names (see ServeOptions::applications); nullopt: none.
static std::optional<std::vector<std::string>> application_names(const ServeOptions& options) {
  const std::string list = options.applications.empty() ? (options.demo ? "all" : "none") : options.applications;
  if (list == "none") return std::nullopt;
  if (list == "all") return std::vector<std::string>{};
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = std::min(list.find(',', start), list.size());
    if (comma > start) names.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return names;
}

int serve(const ServeOptions& options, const sigset_t& stop_signals) {
  http::ServerOptions server_options;
  if (!split_listen(options.listen, server_options.address, server_options.port)) {
    spdlog::error("--listen must be address:port, got {}", options.listen);
    return 2;
  }
  server_options.threads = options.threads;
  server_options.body_limit = options.body_limit;
  raise_descriptor_limit();

  auto store = storage::open_rocksdb_store({options.data_dir, !options.no_fsync});
  if (!store) {
    spdlog::error("{}", store.problem().detail);
    return 1;
  }
  twin::Twin twin(**store);
  if (auto st = twin.load(); !st) {
    spdlog::error("cannot rebuild the twin: {}", st.problem().detail);
    return 1;
  }
  std::unique_ptr<history::HistoryStore> history;
  if (!options.no_history) {
    history = std::make_unique<history::HistoryStore>(**store);
    if (auto st = history->load_retention(); !st) {
      spdlog::error("cannot read the history retention policies: {}", st.problem().detail);
      return 1;
    }
    history->set_type_resolver([&twin](const std::string& tenant, const std::string& id) {
      std::vector<std::string> types;
      (void)twin.read(tenant, id, [&](const model::Entity& e) {
        for (auto t : e.types) types.emplace_back(t.str());
      });
      return types;
    });
    twin.add_contributor(history.get());  // history is durable with the change it records
  }
  jsonld::ContextStore contexts(http::make_context_fetcher());
  if (!options.context_dir.empty()) {
    if (auto st = contexts.load_directory(options.context_dir); !st) {
      spdlog::error("--context-dir: {}", st.problem().detail);
      return 1;
    }
  }

  if (auto st = http::restore_hosted_contexts(**store, contexts); !st) {
    spdlog::error("cannot restore registered @contexts: {}", st.problem().detail);
    return 1;
  }
  if (options.demo) {
    auto city = load_demo_city(twin, contexts, **store, options.demo_data);
    if (!city) {
      spdlog::error("{}", city.problem().detail);
      return 1;
    }
    spdlog::info("demo city: {} Beijing districts, {} air-quality stations, {} Los Angeles road sensors (tenant \"{}\")",
                 city->districts, city->air_stations, city->traffic_sensors, kLosAngelesTenant);
  }
  notify::Subscriptions subscriptions(twin, **store, contexts);
  if (auto st = subscriptions.restore(); !st) {
    spdlog::error("cannot restore subscriptions: {}", st.problem().detail);
    return 1;
  }
  subscriptions.start();
  // The consumers of the twin's change stream (twin/change_stream.hpp): one line each.
  twin.changes().attach(subscriptions);
  live::LiveStream live_stream(twin.changes(), contexts.core());  // the console's stream (GET /city/v1/live)

  ingest::DeviceRegistry devices(**store, contexts.core());
  if (auto st = devices.load(); !st) {
    spdlog::error("cannot restore provisioned devices: {}", st.problem().detail);
    return 1;
  }
  ingest::Ingestor ingestor(twin, devices, contexts.core());
  std::optional<ingest::MqttAdapter> mqtt;
  if (!options.mqtt.empty()) {
    mqtt.emplace(ingestor, ingest::MqttOptions{options.mqtt, options.mqtt_shared_group});
    if (auto st = mqtt->start(); !st) {
      spdlog::error("{}", st.problem().detail);
      return 2;
    }
    ingestor.set_command_sink(&*mqtt);
  }
  ingestor.start();
  twin.changes().attach(ingestor);
  std::optional<ingest::CoapAdapter> coap;
  if (!options.coap.empty()) {
    std::string coap_address;
    std::uint16_t coap_port = 0;
    if (!split_listen(options.coap, coap_address, coap_port)) {
      spdlog::error("--coap must be address:port, got {}", options.coap);
      return 2;
    }
    coap.emplace(ingestor, **store);
    if (auto st = coap->start(coap_address, coap_port); !st) {
      spdlog::error("{}", st.problem().detail);
      return 1;
    }
  }

  rules::RoadGraphs roads;
  if (auto st = http::restore_road_graphs(**store, roads); !st) {
    spdlog::error("cannot restore road graphs: {}", st.problem().detail);
    return 1;
  }
  if (options.demo) {
    if (auto st = load_demo_road_graph(roads, options.demo_data); !st) {
      spdlog::error("{}", st.problem().detail);
      return 1;
    }
  }
  auto incident_context = contexts.core();
  rules::Incidents incidents(twin, incident_context, roads);
  // After a restart, windows are rebuilt from history (when it is kept).
  std::optional<HistoryWindows> history_windows;
  if (history) history_windows.emplace(*history);
  rules::RulesEngine rules_engine(twin, **store, contexts, incidents,
                                  history_windows ? &*history_windows : nullptr);
  if (auto st = rules_engine.restore(); !st) {
    spdlog::error("cannot restore rules: {}", st.problem().detail);
    return 1;
  }
  rules_engine.start();
  twin.changes().attach(rules_engine);
  if (options.demo) {
    auto active = install_demo_rules(rules_engine, options.demo_data);
    if (!active) {
      spdlog::error("{}", active.problem().detail);
      return 1;
    }
    spdlog::info("demo city: {} default rules active", *active);
  }

  // The city's applications (src/domains): settings per tenant, KPIs, one shared change queue.
  domains::CitySettingsStore city_settings(**store);
  if (auto st = city_settings.load(); !st) {
    spdlog::error("cannot read the city settings: {}", st.problem().detail);
    return 1;
  }
  if (options.demo) {
    if (auto st = configure_demo_tenants(city_settings, **store); !st) {
      spdlog::error("{}", st.problem().detail);
      return 1;
    }
  }
  domains::KpiPublisher kpis(twin, contexts);
  // The evaluation frameworks (issue #20) ship beside the demo data, in the repository's data/frameworks.
  auto frameworks = evaluation::load_framework_directory(std::filesystem::path(CITYTWIN_DEMO_DATA_DIR).parent_path() / "frameworks");
  if (!frameworks) spdlog::warn("evaluation frameworks not loaded: {}", frameworks.problem().detail);
  evaluation::Evaluations evaluations(frameworks ? std::move(frameworks).value() : std::vector<evaluation::Framework>{}, twin, contexts, kpis);
  domains::Host applications(
      domains::AppServices{twin, **store, contexts, city_settings, kpis, history.get(), &incidents});
  if (auto names = application_names(options); !names) {
    spdlog::info("city applications: none (--applications)");
  } else if (auto st = domains::add_applications(applications, *names); !st) {
    spdlog::error("{}", st.problem().detail);
    return 1;
  }
  if (auto st = applications.start(); !st) {
    spdlog::error("cannot start the city applications: {}", st.problem().detail);
    return 1;
  }
  twin.changes().attach(applications);
  // The demo city's live feed, once every consumer of its readings is in place.
  std::optional<DemoFeed> feed;
  if (options.demo && options.demo_speed > 0) {
    feed.emplace(twin, contexts, DemoFeedOptions{options.demo_data, options.demo_speed});
    if (auto st = feed->load(); !st) {
      spdlog::error("{}", st.problem().detail);
      return 1;
    }
    feed->start();
  }
  // The generated part of the demo city (water, power, structures, services, emergency, health).
  std::optional<GeneratedCity> generated;
  if (options.demo && options.demo_speed > 0 && options.demo_generated) {
    generated.emplace(twin, contexts, GeneratedCityOptions{options.demo_data, options.demo_seed});
    auto made = generated->load();
    if (!made) {
      spdlog::error("{}", made.problem().detail);
      return 1;
    }
    spdlog::info("demo city: generated {} entities ({} metering areas, {} junctions, {} substations, {} bridges, {} "
                 "reservoirs, {} hospitals, {} response units, {} open service requests), seed {}",
                 made->entities(), made->metering_areas, made->junctions, made->substations, made->bridges,
                 made->reservoirs, made->hospitals, made->units, made->requests, options.demo_seed);
    generated->start();
  }
  http::Services services{twin, contexts, **store};
  services.metric_sources.push_back([&applications](http::MetricsText& out) {
    std::vector<domains::AppCounter> counters;
    applications.counters(counters);
    std::string family;
    for (const auto& c : counters) {
      const std::string name = "citytwin_" + c.name + "_total";
      if (name != family) out.family(name, "counter", c.help);
      family = name;
      out.sample(static_cast<double>(c.value), c.labels);
    }
  });
  services.metric_sources.push_back([&rules_engine](http::MetricsText& out) {
    const auto s = rules_engine.stats();
    out.counter("citytwin_rules_changes_queued_total", "Changes queued for the rules engine.", s.events_queued);
    out.counter("citytwin_rules_changes_processed_total", "Changes the rules engine has evaluated.", s.events_processed);
    out.counter("citytwin_rules_evaluations_total", "Evaluations of a rule for an entity.", s.evaluations);
  });
  services.subscriptions = &subscriptions;
  services.history = history.get();
  if (history) history->start(options.history_compact_interval_ms, options.history_compact_grace_ms,
                                options.history_retention_interval_ms);
  services.ingest = &ingestor;
  services.rules = &rules_engine;
  services.incidents = &incidents;
  services.roads = &roads;
  http::Router router;
  http::add_health_routes(router, services);
  http::add_entity_routes(router, services);
  http::add_query_routes(router, services);
  http::add_batch_routes(router, services);
  http::add_discovery_routes(router, services);
  http::add_context_routes(router, services);
  http::add_subscription_routes(router, services);
  http::add_temporal_routes(router, services);
  http::add_retention_routes(router, services);
  http::add_iot_routes(router, services);
  http::add_metrics_routes(router, services);
  http::add_rules_routes(router, services);
  http::add_city_routes(router, services, city_settings, applications);
  http::add_evaluation_routes(router, services, evaluations);
  http::add_static_routes(router, options.web_dir.empty() ? http::default_web_dir(CITYTWIN_WEB_DIR) : std::filesystem::path(options.web_dir));  // last

  http::Server server(server_options, [&router](http::Request&& request, http::Reply reply) {
    router.handle(std::move(request), std::move(reply));
  });
  server.set_upgrade_handler([&services, &live_stream](boost::asio::ip::tcp::socket socket, http::Request request) {
    if (http::is_live_stream_target(request.target()))
      return http::upgrade_live_stream(live_stream, std::move(socket), std::move(request));
    http::upgrade_subscription_stream(services, std::move(socket), std::move(request));
  });
  if (auto st = server.start(); !st) {
    spdlog::error("{}", st.problem().detail);
    return 1;
  }
  spdlog::info("citytwin {} on http://{}:{} (data in {})", options.demo ? "demo city" : "serving",
               server_options.address, server.port(), options.data_dir);

  int signal = 0;
  sigwait(&stop_signals, &signal);
  spdlog::info("signal {}: shutting down", signal);
  server.stop();
  live_stream.stop();
  if (feed) feed->stop();
  if (generated) generated->stop();
  if (coap) coap->stop();
  ingestor.stop();  // first: its command thread publishes through the MQTT adapter
  if (mqtt) mqtt->stop();
  applications.stop();  // before the rules: its write-backs go through the twin to them
  rules_engine.stop();
  subscriptions.stop();
  if (history) history->stop();
  (*store)->close();
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace ct::app
