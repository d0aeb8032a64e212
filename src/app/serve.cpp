#include "app/serve.hpp"

#include <spdlog/spdlog.h>

#include "http/context_fetcher.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/services.hpp"
#include "jsonld/context_store.hpp"
#include "notify/subscriptions.hpp"
#include "rules/engine.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"
#include "twin/twin.hpp"

namespace ct::app {
namespace {

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

}  // namespace

int serve(const ServeOptions& options, const sigset_t& stop_signals) {
  http::ServerOptions server_options;
  if (!split_listen(options.listen, server_options.address, server_options.port)) {
    spdlog::error("--listen must be address:port, got {}", options.listen);
    return 2;
  }
  server_options.threads = options.threads;
  server_options.body_limit = options.body_limit;

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
  notify::Subscriptions subscriptions(twin, **store, contexts);
  if (auto st = subscriptions.restore(); !st) {
    spdlog::error("cannot restore subscriptions: {}", st.problem().detail);
    return 1;
  }
  twin.add_observer(&subscriptions);
  subscriptions.start();
  rules::RoadGraphs roads;
  if (auto st = http::restore_road_graphs(**store, roads); !st) {
    spdlog::error("cannot restore road graphs: {}", st.problem().detail);
    return 1;
  }
  auto incident_context = contexts.core();
  rules::Incidents incidents(twin, incident_context, roads);
  // History source: null until the history layer (issue #5) is wired here; windows then start empty.
  rules::RulesEngine rules_engine(twin, **store, contexts, incidents, /*history=*/nullptr);
  if (auto st = rules_engine.restore(); !st) {
    spdlog::error("cannot restore rules: {}", st.problem().detail);
    return 1;
  }
  twin.add_observer(&rules_engine);
  rules_engine.start();
  http::Services services{twin, contexts, **store};
  services.subscriptions = &subscriptions;
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
  http::add_rules_routes(router, services);

  http::Server server(server_options, [&router](http::Request&& request, http::Reply reply) {
    router.handle(std::move(request), std::move(reply));
  });
  server.set_upgrade_handler([&services](boost::asio::ip::tcp::socket socket, http::Request request) {
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
  rules_engine.stop();
  subscriptions.stop();
  (*store)->close();
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace ct::app
