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

void get_city(City& s, Call& call, Reply reply) {
  CT_TRY_OR_REPLY(tenant, tenant_of(call));
  reply(make_response(200, to_text(domains::to_json(*s.settings.get(tenant)))));
}

void put_city(City& s, Call& call, Reply reply, bool merge) {
  CT_TRY_OR_REPLY(tenant, tenant_of(call));
  CT_TRY_OR_REPLY(body, read_json_value(call, /*allow_merge_patch=*/merge));
  if (!body.is_object()) return reply(problem_response(bad_request("the city settings must be a JSON object")));
  CT_TRY_OR_REPLY(written, s.settings.put(tenant, body.as_object(), merge));
  reply_when_durable(s.services.store, written.sequence, std::move(reply),
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

void air_daily(City& s, Call& call, Reply reply) {
  auto* air = air_of(s);
  if (!air) return reply(problem_response({ProblemKind::OperationNotSupported, "the air application is not running"}));
  CT_TRY_OR_REPLY(tenant, tenant_of(call));
  CT_TRY_OR_REPLY(id, required(call, "id"));
  CT_TRY_OR_REPLY(date_text, required(call, "date"));
  CT_TRY_OR_REPLY(date, domains::parse_local_date(date_text));
  const std::string profile_name = call.param("profile");
  CT_TRY_OR_REPLY(report, air->daily(tenant, id, date, profile_name));
  auto profile = domains::air::find_profile(report.profile);
  if (!profile) return reply(problem_response(profile.problem()));
  reply(make_response(200, to_text(domains::air::daily_report_json(**profile, report))));
}

void air_calendar(City& s, Call& call, Reply reply) {
  auto* air = air_of(s);
  if (!air) return reply(problem_response({ProblemKind::OperationNotSupported, "the air application is not running"}));
  CT_TRY_OR_REPLY(tenant, tenant_of(call));
  CT_TRY_OR_REPLY(id, required(call, "id"));
  CT_TRY_OR_REPLY(month_text, required(call, "month"));
  int year = 0, month = 0;
  const char* text = month_text.data();
  const bool shaped = month_text.size() == 7 && month_text[4] == '-' &&
                      std::from_chars(text, text + 4, year).ptr == text + 4 &&
                      std::from_chars(text + 5, text + 7, month).ptr == text + 7 && month >= 1 && month <= 12;
  if (!shaped) return reply(problem_response(bad_request("'" + month_text.substr(0, 40) + "' is not a month YYYY-MM")));
  CT_TRY_OR_REPLY(days, air->calendar(tenant, id, year, static_cast<unsigned>(month), call.param("profile")));
  json::array out;
  const domains::air::Profile* profile = nullptr;
  for (const auto& day : days) {
    if (!profile) {
      auto found = domains::air::find_profile(day.profile);
      if (!found) return reply(problem_response(found.problem()));
      profile = *found;
    }
    out.push_back(domains::air::daily_report_json(*profile, day));
  }
  reply(make_response(200, to_text(json::object{{"id", id}, {"month", month_text}, {"days", std::move(out)}})));
}

}  // namespace

void add_city_routes(Router& router, Services& services, domains::CitySettingsStore& settings,
                     domains::Host& applications) {
  auto city = std::make_shared<City>(City{services, settings, applications});
  auto bind = [city](auto fn) { return [city, fn](Call& call, Reply reply) { fn(*city, call, std::move(reply)); }; };
  router.add(verb::get, "/admin/v1/city", bind(get_city));
  router.add(verb::put, "/admin/v1/city",
             bind([](City& s, Call& call, Reply reply) { put_city(s, call, std::move(reply), false); }));
  router.add(verb::patch, "/admin/v1/city",
             bind([](City& s, Call& call, Reply reply) { put_city(s, call, std::move(reply), true); }));
  router.add(verb::get, "/city/v1/air/daily", bind(air_daily));
  router.add(verb::get, "/city/v1/air/calendar", bind(air_calendar));
}

}  // namespace ct::http
