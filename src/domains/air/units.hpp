#pragma once
// Units of pollutant concentrations: a value's unitCode (UN/CEFACT common codes) to µg/m³, and
// µg/m³ to the unit of a breakpoint table. Gases convert between mass and volume fractions at
// 25 °C and 1 atm (molar volume 24.45 L), as the US EPA does.
#include <optional>
#include <string_view>

#include "common/result.hpp"
#include "domains/air/aqi.hpp"

namespace ct::domains::air {

// `value` of `pollutant` in the unit `unit_code` ("GQ" µg/m³, "GP" mg/m³, "59" ppm, "61" ppb; empty:
// µg/m³) as µg/m³. BadRequestData naming the unit code it cannot convert (a volume fraction of
// particulate matter, an unknown code).
Result<double> to_micrograms(Pollutant pollutant, std::string_view unit_code, double value);

// µg/m³ of `pollutant` in `unit` (ppm/ppb only for gases; particulate matter stays in µg/m³).
double from_micrograms(Pollutant pollutant, TableUnit unit, double micrograms_per_m3);

std::string_view table_unit_name(TableUnit unit);  // "µg/m³", "mg/m³", "ppm", "ppb"

}  // namespace ct::domains::air
