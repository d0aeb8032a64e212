#include "domains/air/realtime_aqi.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "domains/air/aqi.hpp"
#include "domains/air/units.hpp"
#include "domains/air/vocabulary.hpp"

namespace ct::domains::air {
namespace {

constexpr Timestamp kHourMs = 3'600'000;

model::Attribute property(model::Term name, json::value value, Timestamp observed_at) {
  model::Attribute a;
  a.name = name;
  a.kind = model::AttributeKind::Property;
  a.value = std::move(value);
  a.observed_at = observed_at;
  return a;
}

// Why the station's values give no AQI: a problem detail and its cause.
struct Refusal {
  SkipCause cause;
  Problem problem;
};

}  // namespace

std::string_view skip_cause_name(SkipCause cause) {
  switch (cause) {
    case SkipCause::NotNumeric: return "not_numeric";
    case SkipCause::Negative: return "negative";
    case SkipCause::UnknownUnit: return "unknown_unit";
    case SkipCause::NoValues: return "no_values";
  }
  return "";
}

void RealTimeAqi::enrich(const twin::Enrichment& write) {
  const auto& v = vocabulary();
  const model::Entity& station = write.entity;
  if (!v.is_station(station)) return;
  // A reading is a write of a pollutant; its time is the latest observedAt among those written.
  Timestamp reading_time = kNoTimestamp;
  bool reading = false;
  for (const auto& a : station.attributes) {
    if (!write.wrote(a) || !v.pollutant_of(a.name)) continue;
    reading = true;
    if (a.observed_at != kNoTimestamp) reading_time = std::max(reading_time, a.observed_at);
  }
  if (!reading) return;
  ++readings_;

  const Profile& profile = profile_or_default(settings_.get(write.tenant)->aqi_profile);
  std::vector<IndicatorValue> values;
  std::optional<Refusal> refusal;
  for (const auto& indicator : profile.real_time) {
    if (indicator.fallback_only) continue;
    const auto* a = v.find(station, indicator.pollutant);
    if (a == nullptr) continue;
    // Values of an earlier hour than the reading are not part of it.
    if (reading_time != kNoTimestamp && a->observed_at != kNoTimestamp && a->observed_at + kHourMs <= reading_time)
      continue;
    const auto key = pollutant_key(indicator.pollutant);
    if (!a->value.is_number()) {
      refusal = Refusal{SkipCause::NotNumeric, bad_request("the value of " + std::string(key) + " of " + station.id +
                                                           " is not a number: " + to_text(a->value))};
      break;
    }
    const double raw = a->value.to_number<double>();
    if (raw < 0) {
      refusal = Refusal{SkipCause::Negative, bad_request("the value of " + std::string(key) + " of " + station.id +
                                                         " is negative: " + to_text(a->value))};
      break;
    }
    auto ug = to_micrograms(indicator.pollutant, a->unit_code.str(), raw);
    if (!ug) {
      refusal = Refusal{SkipCause::UnknownUnit, Problem{ug.problem().kind, ug.problem().detail + " (" + station.id + ")"}};
      break;
    }
    values.push_back({indicator.key, *ug});
  }

  if (refusal) {
    ++skipped_[static_cast<std::size_t>(refusal->cause)];
    // The reading stays stored; its AQI is left out, and the station says why.
    write.put(property(v.problem,
                       json::object{{"type", "https://uri.etsi.org/ngsi-ld/errors/" + std::string(kind_name(refusal->problem.kind))},
                                    {"title", "AQI not computed"},
                                    {"detail", refusal->problem.detail}},
                       reading_time));
    return;
  }
  const AqiResult result = compute_aqi(profile, profile.real_time, values);
  if (!result.aqi) {
    ++skipped_[static_cast<std::size_t>(SkipCause::NoValues)];
    return;
  }
  const bool sdm = station.has_type(v.sdm_type);
  json::object iaqi;
  for (const auto& [key, index] : result.iaqi) iaqi[key] = index;
  json::array primary;
  for (const auto& key : result.primary) primary.emplace_back(key);
  write.put(property(sdm ? v.index_sdm : v.index_default, *result.aqi, reading_time));
  write.put(property(sdm ? v.level_sdm : v.level_default, json::string(result.category->key), reading_time));
  write.put(property(v.iaqi, std::move(iaqi), reading_time));
  write.put(property(v.primary, std::move(primary), reading_time));
  write.remove(v.problem);
  ++written_;
}

}  // namespace ct::domains::air
