#pragma once
// The parts of the platform the HTTP handlers call, wired together by the program (app/).
#include <chrono>

#include "jsonld/context_store.hpp"
#include "storage/store.hpp"
#include "twin/twin.hpp"

namespace ct::http {

class Router;

struct Services {
  twin::Twin& twin;
  jsonld::ContextStore& contexts;
  storage::Store& store;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

// /ngsi-ld/v1/entities and its attributes (ETSI GS CIM 009 clause 6.4–6.7).
void add_entity_routes(Router& router, Services& services);
// /ngsi-ld/v1/jsonldContexts (clause 6.29–6.31).
void add_context_routes(Router& router, Services& services);
// Puts back the contexts users registered before a restart.
Status restore_hosted_contexts(storage::Store& store, jsonld::ContextStore& contexts);
// /health.
void add_health_routes(Router& router, Services& services);

}  // namespace ct::http
