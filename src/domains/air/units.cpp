#include "domains/air/units.hpp"

namespace ct::domains::air {
namespace {

constexpr double kMolarVolume = 24.45;  // litres per mole at 25 °C and 1 atm

// g/mol; 0 for particulate matter (no volume fraction).
double molar_mass(Pollutant p) {
  switch (p) {
    case Pollutant::SO2: return 64.066;
    case Pollutant::NO2: return 46.0055;
    case Pollutant::CO: return 28.010;
    case Pollutant::O3: return 47.997;
    case Pollutant::PM10:
    case Pollutant::PM25: return 0;
  }
  return 0;
}

}  // namespace

Result<double> to_micrograms(Pollutant pollutant, std::string_view unit_code, double value) {
  if (unit_code.empty() || unit_code == "GQ") return value;
  if (unit_code == "GP") return value * 1000;
  const double mass = molar_mass(pollutant);
  if ((unit_code == "59" || unit_code == "61") && mass > 0) {
    const double ppb = unit_code == "59" ? value * 1000 : value;
    return ppb * mass / kMolarVolume;
  }
  return bad_request("unitCode '" + std::string(unit_code) + "' of " + std::string(pollutant_key(pollutant)) +
                     " cannot be converted to µg/m³ (GQ µg/m³, GP mg/m³, and for gases 59 ppm, 61 ppb)");
}

double from_micrograms(Pollutant pollutant, TableUnit unit, double ug) {
  switch (unit) {
    case TableUnit::MicrogramsPerM3: return ug;
    case TableUnit::MilligramsPerM3: return ug / 1000;
    case TableUnit::Ppb:
    case TableUnit::Ppm: {
      const double mass = molar_mass(pollutant);
      if (mass <= 0) return ug;
      const double ppb = ug * kMolarVolume / mass;
      return unit == TableUnit::Ppb ? ppb : ppb / 1000;
    }
  }
  return ug;
}

std::string_view table_unit_name(TableUnit unit) {
  switch (unit) {
    case TableUnit::MicrogramsPerM3: return "µg/m³";
    case TableUnit::MilligramsPerM3: return "mg/m³";
    case TableUnit::Ppm: return "ppm";
    case TableUnit::Ppb: return "ppb";
  }
  return "";
}

}  // namespace ct::domains::air
