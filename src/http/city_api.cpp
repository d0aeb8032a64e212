#include "http/city_api.hpp"

#include <charconv>

#include "domains/air/air_quality.hpp"
#include "domains/core/city_settings.hpp"
#include "domains/core/host.hpp"
#include "http/ngsi_ld_request.hpp"
#include "http/services.hpp"

namespace ct::http {
namespace {

using beast_http::verb;

struct City {
  Services& services;
  domains::CitySettingsStore& settings;
  domains::Host& applications;
};

Outcome get_city(City& s, Call& call) {
  CT_TRY(tenant, tenant_of(call));
  return make_response(200, to_text(domains::to_json(*s.settings.get(tenant))));
}

Outcome put_city(City& s, Call& call, bool merge) {
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(body, read_json_value(call, /*allow_merge_patch=*/merge));
  if (!body.is_object()) return bad_request("the city settings must be a JSON object");
  CT_TRY(written, s.settings.put(tenant, body.as_object(), merge));
  return answer_when_durable(call, s.services.store, written.sequence,
                             make_response(200, to_text(domains::to_json(*written.settings))));
}

domains::air::AirQuality* air_of(City& s) {
  return dynamic_cast<domains::air::AirQuality*>(s.applications.find("air"));
}

Result<std::string> required(const Call& call, const std::string& name) {
  std::string value = call.param(name);
  if (value.empty()) return bad_request("the query parameter '" + name + "' is required");
  return value;
}

Outcome air_daily(City& s, Call& call) {
  auto* air = air_of(s);
  if (!air) return Problem{ProblemKind::OperationNotSupported, "the air application is not running"};
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(id, required(call, "id"));
  CT_TRY(date_text, required(call, "date"));
  CT_TRY(date, domains::parse_local_date(date_text));
  const std::string profile_name = call.param("profile");
  CT_TRY(report, air->daily(tenant, id, date, profile_name));
  auto profile = domains::air::find_profile(report.profile);
  if (!profile) return profile.problem();
  return make_response(200, to_text(domains::air::daily_report_json(**profile, report)));
}

Outcome air_calendar(City& s, Call& call) {
  auto* air = air_of(s);
  if (!air) return Problem{ProblemKind::OperationNotSupported, "the air application is not running"};
  CT_TRY(tenant, tenant_of(call));
  CT_TRY(id, required(call, "id"));
  CT_TRY(month_text, required(call, "month"));
  int year = 0, month = 0;
  const char* text = month_text.data();
  const bool shaped = month_text.size() == 7 && month_text[4] == '-' &&
                      std::from_chars(text, text + 4, year).ptr == text + 4 &&
                      std::from_chars(text + 5, text + 7, month).ptr == text + 7 && month >= 1 && month <= 12;
  if (!shaped) return bad_request("'" + month_text.substr(0, 40) + "' is not a month YYYY-MM");
  CT_TRY(days, air->calendar(tenant, id, year, static_cast<unsigned>(month), call.param("profile")));
  json::array out;
  const domains::air::Profile* profile = nullptr;
  for (const auto& day : days) {
    if (!profile) {
      auto found = domains::air::find_profile(day.profile);
      if (!found) return found.problem();
      profile = *found;
    }
    out.push_back(domains::air::daily_report_json(*profile, day));
  }
  return make_response(200, to_text(json::object{{"id", id}, {"month", month_text}, {"days", std::move(out)}}));
}

}  // namespace

void add_city_routes(Router& router, Services& services, domains::CitySettingsStore& settings,
                     domains::Host& applications) {
  auto city = std::make_shared<City>(City{services, settings, applications});
  auto bind = [city](auto fn) { return [city, fn](Call& call) -> Outcome { return fn(*city, call); }; };
  router.add(verb::get, "/admin/v1/city", bind(get_city));
  router.add(verb::put, "/admin/v1/city", bind([](City& s, Call& call) { return put_city(s, call, false); }));
  router.add(verb::patch, "/admin/v1/city", bind([](City& s, Call& call) { return put_city(s, call, true); }));
  router.add(verb::get, "/city/v1/air/daily", bind(air_daily));
  router.add(verb::get, "/city/v1/air/calendar", bind(air_calendar));
}

}  // namespace ct::http
