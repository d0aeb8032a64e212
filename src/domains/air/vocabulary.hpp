#pragma once
// The names the air application reads and writes on stations, in both vocabularies it accepts: the
// Smart Data Models' (dataModel.Environment) and the core @context's default one. Interned once;
// read-only afterwards, so any thread may use it.
#include <array>
#include <optional>

#include "domains/air/aqi.hpp"
#include "model/entity.hpp"

namespace ct::domains::air {

struct Vocabulary {
  model::Term sdm_type, default_type;
  std::array<std::array<model::Term, 2>, kPollutantCount> pollutants;  // [pollutant][sdm, default]
  model::Term index_sdm, index_default, level_sdm, level_default;
  // Not in the Smart Data Model: the core @context's default vocabulary, whatever the station's type.
  model::Term iaqi, primary, problem;

  bool is_station(const model::Entity& e) const { return e.has_type(sdm_type) || e.has_type(default_type); }
  std::optional<Pollutant> pollutant_of(model::Term name) const;
  // The instance of a pollutant on a station (the Smart Data Model's name first).
  const model::Attribute* find(const model::Entity& e, Pollutant p) const;
  // The AQI attribute's name on this station: the namespace of its type.
  model::Term index_of(const model::Entity& station) const {
    return station.has_type(sdm_type) ? index_sdm : index_default;
  }
};

const Vocabulary& vocabulary();

}  // namespace ct::domains::air
