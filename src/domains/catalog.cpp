// The table of applications: one line per application (src/domains/<name>/).
#include "domains/air/air_quality.hpp"
#include "domains/core/application.hpp"
#include "domains/traffic/traffic_app.hpp"

namespace ct::domains {

const std::vector<ApplicationRegistration>& application_catalog() {
  static const std::vector<ApplicationRegistration> catalog{
      {"air", [](AppServices& services) { return air::make_application(services); }},
      {"traffic", [](AppServices& services) { return traffic::make_application(services); }},
  };
  return catalog;
}

}  // namespace ct::domains
