#pragma once
// The city's settings and its applications' reports (issue #15), over the tenant's NGSILD-Tenant:
//   GET|PUT|PATCH /admin/v1/city       the tenant's city settings (domains/core/city_settings.hpp)
//   GET /city/v1/air/daily?id=ID&date=YYYY-MM-DD[&profile=P]     a station's daily report (日报)
//   GET /city/v1/air/calendar?id=ID&month=YYYY-MM[&profile=P]    every day of a month
#include "http/router.hpp"

namespace ct::domains {
class CitySettingsStore;
class Host;
}  // namespace ct::domains

namespace ct::http {

struct Services;

// `city` and `applications` outlive the router.
void add_city_routes(Router& router, Services& services, domains::CitySettingsStore& city,
                     domains::Host& applications);

}  // namespace ct::http
