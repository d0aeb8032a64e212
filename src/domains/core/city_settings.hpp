#pragma once
// The city settings of each tenant (/admin/v1/city): what every application reads to interpret the
// city's data. Durable in the store (Collection::Meta, key "city-settings" per tenant); a tenant
// that never set them has the defaults.
//
// Thread-safe: get() from any thread (a snapshot that never changes), put() from HTTP handlers.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/json.hpp"
#include "common/result.hpp"
#include "domains/core/time_zone.hpp"
#include "storage/store.hpp"

namespace ct::domains {

// A category of citizen service request (domains/services): its name and the time it must be resolved in.
struct ServiceCategory {
  std::string name;           // "Road facilities"
  std::string sla;            // ISO 8601 duration as configured ("PT72H")
  std::int64_t sla_ms = 0;    // the same, in milliseconds (> 0)
  friend bool operator==(const ServiceCategory&, const ServiceCategory&) = default;
};

// The categories a city starts with (those of a municipal 12345-style hotline).
std::map<std::string, ServiceCategory> default_service_categories();

struct CitySettings {
  TimeZone time_zone = TimeZone::default_zone();  // IANA name, default Asia/Shanghai
  std::string aqi_profile = "hj633-2012";
  // Traffic: a configured free-flow speed (else each sensor's own, learned as this percentile).
  std::optional<double> free_flow_speed_kmh;
  double free_flow_percentile = 85;
  // Service levels: minutes to respond to and hours to resolve a request or incident.
  double sla_response_minutes = 15;
  double sla_resolution_hours = 72;
  // The district layer: the entity type (short name, expanded with the core @context) whose
  // GeoProperty `location` polygons place things in districts.
  std::string district_type = "District";
  // Citizen service request categories by code (`service_code`), each with its SLA:
  // "serviceCategories": {"pothole": {"name": "...", "sla": "PT72H"}, ...} (a PUT or PATCH replaces the
  // whole map; an SLA that is not a positive ISO 8601 duration is BadRequestData naming it).
  std::map<std::string, ServiceCategory> service_categories = default_service_categories();
};

// The settings as /admin/v1/city shows them.
json::object to_json(const CitySettings& settings);

class CitySettingsStore {
 public:
  explicit CitySettingsStore(storage::Store& store);

  // Reads every tenant's settings from the store; before serving.
  Status load();
  // The AQI profile names PUT and PATCH accept (the air application registers its profiles).
  void allow_aqi_profiles(std::vector<std::string> names);
  std::vector<std::string> aqi_profiles() const;

  // The tenant's settings (the defaults if it has none).
  std::shared_ptr<const CitySettings> get(const std::string& tenant) const;

  // PUT (merge = false: members absent take their defaults) or PATCH (merge = true: members absent
  // keep their value) with a JSON body; BadRequestData naming the member that is wrong. Returns the
  // new settings and the store sequence to wait for.
  struct Written {
    std::shared_ptr<const CitySettings> settings;
    storage::Sequence sequence = 0;
  };
  Result<Written> put(const std::string& tenant, const json::object& body, bool merge);

 private:
  storage::Store& store_;
  mutable std::mutex mutex_;
  std::vector<std::string> aqi_profiles_;
  std::unordered_map<std::string, std::shared_ptr<const CitySettings>> tenants_;
  std::shared_ptr<const CitySettings> defaults_;
};

// Reads settings from JSON over `base` (used by put and load); BadRequestData naming the member.
Result<CitySettings> parse_city_settings(const json::object& body, CitySettings base,
                                         const std::vector<std::string>& aqi_profiles);

}  // namespace ct::domains
