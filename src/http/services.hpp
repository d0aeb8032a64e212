#pragma once
// The parts of the platform the HTTP handlers call, wired together by the program (app/).
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <vector>

#include "http/message.hpp"
#include "http/metrics.hpp"
#include "jsonld/context_store.hpp"
#include "storage/store.hpp"
#include "twin/twin.hpp"

namespace ct::notify {
class Subscriptions;
}
namespace ct::history {
class HistoryStore;
}
namespace ct::ingest {
class Ingestor;
}
namespace ct::rules {
class RulesEngine;
class Incidents;
class RoadGraphs;
}

namespace ct::http {

class Router;

// Paging limits of query endpoints.
struct QueryLimits {
  std::size_t default_page = 20;
  std::size_t max_page = 1000;  // a larger limit is TooManyResults
};

struct Services {
  twin::Twin& twin;
  jsonld::ContextStore& contexts;
  storage::Store& store;
  QueryLimits limits = {};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  notify::Subscriptions* subscriptions = nullptr;
  history::HistoryStore* history = nullptr;  // null: no history kept, the temporal API answers OperationNotSupported
  ingest::Ingestor* ingest = nullptr;
  // Further metric families for GET /metrics (twin, notify and ingest are built in).
  std::vector<MetricsSource> metric_sources = {};
  rules::RulesEngine* rules = nullptr;
  rules::Incidents* incidents = nullptr;
  rules::RoadGraphs* roads = nullptr;
};

// /ngsi-ld/v1/entities and its attributes (ETSI GS CIM 009 clause 6.4–6.7).
void add_entity_routes(Router& router, Services& services);
// GET /ngsi-ld/v1/entities and POST /entityOperations/query (clause 6.4.3.2, 6.23).
void add_query_routes(Router& router, Services& services);
// /ngsi-ld/v1/entityOperations/create|upsert|update|delete (clause 6.14–6.17).
void add_batch_routes(Router& router, Services& services);
// /ngsi-ld/v1/types and /attributes (clause 6.25–6.28).
void add_discovery_routes(Router& router, Services& services);
// /ngsi-ld/v1/jsonldContexts (clause 6.29–6.31).
void add_context_routes(Router& router, Services& services);
// Puts back the contexts users registered before a restart.
Status restore_hosted_contexts(storage::Store& store, jsonld::ContextStore& contexts);
// /ngsi-ld/v1/temporal/entities (clause 6.18–6.22): history queries, aggregation, provision; needs
// services.history.
void add_temporal_routes(Router& router, Services& services);
// /admin/v1/retention: history retention per tenant and entity type; needs services.history.
void add_retention_routes(Router& router, Services& services);
// /health.
void add_health_routes(Router& router, Services& services);
// The FIWARE IoT Agent APIs: /iot/services, /iot/devices (provisioning) and POST /iot/json, /iot/d
// (measures over HTTP); needs services.ingest.
void add_iot_routes(Router& router, Services& services);
// GET /metrics (Prometheus text format).
void add_metrics_routes(Router& router, Services& services);
// /ngsi-ld/v1/subscriptions (clause 6.10–6.11); needs services.subscriptions.
void add_subscription_routes(Router&, Services&);
// /admin/v1/rules, /admin/v1/incidents and /admin/v1/roadgraph (rules/engine.hpp, rules/incidents.hpp);
// need services.rules, incidents and roads.
void add_rules_routes(Router& router, Services& services);
// Loads the road graphs stored by PUT /admin/v1/roadgraph.
Status restore_road_graphs(storage::Store& store, rules::RoadGraphs& roads);
// GET /ngsi-ld/v1/subscriptions/{id}/ws with Upgrade: websocket (for Server::set_upgrade_handler): takes
// over the connection and streams the subscription's notifications.
void upgrade_subscription_stream(Services& services, boost::asio::ip::tcp::socket socket, Request request);

}  // namespace ct::http
