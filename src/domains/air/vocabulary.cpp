#include "domains/air/vocabulary.hpp"

#include <string>

namespace ct::domains::air {
namespace {

constexpr std::string_view kSdm = "https://smartdatamodels.org/dataModel.Environment/";
constexpr std::string_view kDefault = "https://uri.etsi.org/ngsi-ld/default-context/";

model::Term term(std::string_view ns, std::string_view name) {
  return model::Term::intern(std::string(ns) + std::string(name));
}

Vocabulary make_vocabulary() {
  Vocabulary v;
  v.sdm_type = term(kSdm, "AirQualityObserved");
  v.default_type = term(kDefault, "AirQualityObserved");
  for (std::size_t p = 0; p < kPollutantCount; ++p) {
    const auto key = pollutant_key(static_cast<Pollutant>(p));
    v.pollutants[p] = {term(kSdm, key), term(kDefault, key)};
  }
  v.index_sdm = term(kSdm, "airQualityIndex");
  v.index_default = term(kDefault, "airQualityIndex");
  v.level_sdm = term(kSdm, "airQualityLevel");
  v.level_default = term(kDefault, "airQualityLevel");
  v.iaqi = term(kDefault, "iaqi");
  v.primary = term(kDefault, "primaryPollutants");
  v.problem = term(kDefault, "aqiProblem");
  return v;
}

}  // namespace

std::optional<Pollutant> Vocabulary::pollutant_of(model::Term name) const {
  for (std::size_t p = 0; p < kPollutantCount; ++p)
    if (pollutants[p][0] == name || pollutants[p][1] == name) return static_cast<Pollutant>(p);
  return std::nullopt;
}

const model::Attribute* Vocabulary::find(const model::Entity& e, Pollutant p) const {
  const auto& names = pollutants[static_cast<std::size_t>(p)];
  if (const auto* a = e.find(names[0])) return a;
  return e.find(names[1]);
}

const Vocabulary& vocabulary() {
  static const Vocabulary v = make_vocabulary();
  return v;
}

}  // namespace ct::domains::air
