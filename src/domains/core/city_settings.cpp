#include "domains/core/city_settings.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "history/duration.hpp"

namespace ct::domains {
namespace {

constexpr std::string_view kSettingsKey = "city-settings";

Problem wrong(std::string_view member, std::string_view why) {
  return bad_request("city settings: '" + std::string(member) + "' " + std::string(why));
}

Result<double> positive_number(const json::value& v, std::string_view member) {
  if (!v.is_number()) return wrong(member, "must be a number");
  const double d = v.to_number<double>();
  if (!(d > 0) || d > 1e9) return wrong(member, "must be a positive number");
  return d;
}

Result<std::map<std::string, ServiceCategory>> parse_categories(const json::value& value) {
  constexpr std::string_view key = "serviceCategories";
  if (!value.is_object() || value.as_object().empty())
    return wrong(key, "must be an object of categories: {\"code\": {\"name\": \"...\", \"sla\": \"PT72H\"}}");
  std::map<std::string, ServiceCategory> out;
  for (const auto& [code_view, entry] : value.as_object()) {
    const std::string code(code_view.data(), code_view.size());
    const std::string member = std::string(key) + "." + code;
    if (code.empty() || code.size() > 64) return wrong(member, "a category code must be 1 to 64 characters");
    if (!entry.is_object()) return wrong(member, "must be an object with \"name\" and \"sla\"");
    const auto& e = entry.as_object();
    ServiceCategory c;
    const auto* name = e.if_contains("name");
    c.name = name && name->is_string() ? std::string(name->as_string()) : code;
    const auto* sla = e.if_contains("sla");
    if (!sla || !sla->is_string()) return wrong(member + ".sla", "must be an ISO 8601 duration such as PT72H");
    auto ms = history::parse_duration_ms(std::string_view(sla->as_string()));
    if (!ms) return wrong(member + ".sla", ms.problem().detail);
    if (*ms <= 0) return wrong(member + ".sla", "must be longer than zero, not " + std::string(sla->as_string()));
    c.sla = std::string(sla->as_string());
    c.sla_ms = *ms;
    out.emplace(code, std::move(c));
  }
  return out;
}

}  // namespace

std::map<std::string, ServiceCategory> default_service_categories() {
  constexpr std::int64_t h = 3'600'000;
  return {
      {"roads", {"Road facilities 道路设施", "PT72H", 72 * h}},
      {"streetlight", {"Street lighting 路灯照明", "PT48H", 48 * h}},
      {"water", {"Water supply 供水", "PT24H", 24 * h}},
      {"heating", {"Heating 供暖", "PT24H", 24 * h}},
      {"sanitation", {"Sanitation 环境卫生", "PT48H", 48 * h}},
      {"noise", {"Noise 噪声扰民", "PT72H", 72 * h}},
      {"greening", {"Parks and greening 园林绿化", "P5D", 120 * h}},
  };
}

json::object to_json(const CitySettings& s) {
  json::object out{{"timeZone", s.time_zone.name()},
                   {"aqiProfile", s.aqi_profile},
                   {"freeFlowPercentile", s.free_flow_percentile},
                   {"slaResponseMinutes", s.sla_response_minutes},
                   {"slaResolutionHours", s.sla_resolution_hours},
                   {"districtType", s.district_type}};
  out["freeFlowSpeedKmh"] = s.free_flow_speed_kmh ? json::value(*s.free_flow_speed_kmh) : json::value(nullptr);
  json::object categories;
  for (const auto& [code, c] : s.service_categories) categories[code] = json::object{{"name", c.name}, {"sla", c.sla}};
  out["serviceCategories"] = std::move(categories);
  return out;
}

Result<CitySettings> parse_city_settings(const json::object& body, CitySettings s,
                                         const std::vector<std::string>& aqi_profiles) {
  for (const auto& [key, value] : body) {
    if (key == "timeZone") {
      if (!value.is_string()) return wrong(key, "must be an IANA time zone name such as Asia/Shanghai");
      auto zone = TimeZone::find(std::string_view(value.as_string()));
      if (!zone) return wrong(key, zone.problem().detail);
      s.time_zone = *zone;
    } else if (key == "aqiProfile") {
      const std::string name = value.is_string() ? std::string(value.as_string()) : "";
      if (std::find(aqi_profiles.begin(), aqi_profiles.end(), name) == aqi_profiles.end()) {
        std::string known;
        for (const auto& p : aqi_profiles) known += (known.empty() ? "" : ", ") + p;
        return wrong(key, "must name a known AQI profile (" + known + "), not " + to_text(value));
      }
      s.aqi_profile = name;
    } else if (key == "freeFlowSpeedKmh") {
      if (value.is_null()) {
        s.free_flow_speed_kmh.reset();
      } else {
        auto d = positive_number(value, key);
        if (!d) return d.problem();
        s.free_flow_speed_kmh = *d;
      }
    } else if (key == "freeFlowPercentile") {
      auto d = positive_number(value, key);
      if (!d || *d > 100) return wrong(key, "must be a percentile in (0, 100]");
      s.free_flow_percentile = *d;
    } else if (key == "slaResponseMinutes" || key == "slaResolutionHours") {
      auto d = positive_number(value, key);
      if (!d) return d.problem();
      (key == "slaResponseMinutes" ? s.sla_response_minutes : s.sla_resolution_hours) = *d;
    } else if (key == "districtType") {
      if (!value.is_string() || value.as_string().empty()) return wrong(key, "must be an entity type name");
      s.district_type = std::string(value.as_string());
    } else if (key == "serviceCategories") {
      auto categories = parse_categories(value);
      if (!categories) return categories.problem();
      s.service_categories = std::move(categories).value();
    } else {
      return wrong(key, "is not a city setting (timeZone, aqiProfile, freeFlowSpeedKmh, freeFlowPercentile, "
                        "slaResponseMinutes, slaResolutionHours, districtType, serviceCategories)");
    }
  }
  return s;
}

CitySettingsStore::CitySettingsStore(storage::Store& store)
    : store_(store), defaults_(std::make_shared<const CitySettings>()) {}

void CitySettingsStore::allow_aqi_profiles(std::vector<std::string> names) {
  std::lock_guard lock(mutex_);
  aqi_profiles_ = std::move(names);
}

std::vector<std::string> CitySettingsStore::aqi_profiles() const {
  std::lock_guard lock(mutex_);
  return aqi_profiles_;
}

Status CitySettingsStore::load() {
  std::unordered_map<std::string, std::shared_ptr<const CitySettings>> loaded;
  auto st = store_.scan(storage::Collection::Meta, "", [&](std::string_view key, std::string_view value) {
    std::string_view tenant, name;
    if (!storage::split_tenant_key(key, tenant, name) || name != kSettingsKey) return true;
    auto parsed = parse_json(value);
    if (!parsed || !parsed->is_object()) {
      spdlog::warn("city settings of tenant '{}' do not read; the defaults apply", tenant);
      return true;
    }
    // Stored settings were validated when written; a profile unknown to this build is kept as is.
    auto settings = parse_city_settings(parsed->as_object(), CitySettings{}, {});
    CitySettings s;
    if (!settings) {
      json::object without_profile = parsed->as_object();
      const auto profile = without_profile.contains("aqiProfile") ? without_profile.at("aqiProfile") : json::value();
      without_profile.erase("aqiProfile");
      auto rest = parse_city_settings(without_profile, CitySettings{}, {});
      if (!rest) {
        spdlog::warn("city settings of tenant '{}': {}; the defaults apply", tenant, rest.problem().detail);
        return true;
      }
      s = *rest;
      if (profile.is_string()) s.aqi_profile = std::string(profile.as_string());
    } else {
      s = *settings;
    }
    loaded[std::string(tenant)] = std::make_shared<const CitySettings>(std::move(s));
    return true;
  });
  if (!st) return st;
  std::lock_guard lock(mutex_);
  tenants_ = std::move(loaded);
  return {};
}

std::shared_ptr<const CitySettings> CitySettingsStore::get(const std::string& tenant) const {
  std::lock_guard lock(mutex_);
  auto it = tenants_.find(tenant);
  return it == tenants_.end() ? defaults_ : it->second;
}

Result<CitySettingsStore::Written> CitySettingsStore::put(const std::string& tenant, const json::object& body,
                                                          bool merge) {
  std::lock_guard lock(mutex_);
  auto it = tenants_.find(tenant);
  CitySettings base = merge && it != tenants_.end() ? *it->second : CitySettings{};
  auto parsed = parse_city_settings(body, std::move(base), aqi_profiles_);
  if (!parsed) return parsed.problem();
  auto settings = std::make_shared<const CitySettings>(std::move(parsed).value());
  const auto sequence = store_.enqueue({storage::Write{storage::Collection::Meta, storage::tenant_key(tenant, kSettingsKey),
                                                       to_text(to_json(*settings))}});
  tenants_[tenant] = settings;
  return Written{settings, sequence};
}

}  // namespace ct::domains
