// The table of applications: one line per application (src/domains/<name>/).
#include "domains/catalog.hpp"

#include <algorithm>

#include "domains/air/air_quality.hpp"
#include "domains/emergency/emergency_app.hpp"
#include "domains/health/health_app.hpp"
#include "domains/services/services_app.hpp"
#include "domains/structures/structures_app.hpp"
#include "domains/traffic/traffic_app.hpp"
#include "domains/utilities/utilities_app.hpp"

namespace ct::domains {

const std::vector<ApplicationRegistration>& application_catalog() {
  static const std::vector<ApplicationRegistration> catalog{
      {"air", [](AppServices& services) { return air::make_application(services); }},
      {"traffic", [](AppServices& services) { return traffic::make_application(services); }},
      {"utilities", [](AppServices& services) { return utilities::make_application(services); }},
      {"structures", [](AppServices& services) { return structures::make_application(services); }},
      {"services", [](AppServices& services) { return services::make_application(services); }},
      {"emergency", [](AppServices& services) { return emergency::make_application(services); }},
      {"health", [](AppServices& services) { return health::make_application(services); }},
  };
  return catalog;
}

Status add_applications(Host& host, const std::vector<std::string>& names) {
  const auto& catalog = application_catalog();
  for (const auto& name : names) {
    const bool known = std::any_of(catalog.begin(), catalog.end(), [&](const auto& r) { return r.name == name; });
    if (!known) return invalid_request("no application is named \"" + name + "\"");
  }
  for (const auto& registration : catalog) {
    if (!names.empty() && std::find(names.begin(), names.end(), registration.name) == names.end()) continue;
    host.add(registration.make(host.services()));
  }
  return {};
}

}  // namespace ct::domains
