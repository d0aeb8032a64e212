#pragma once
// The measurement units the city's applications accept (UN/CEFACT Common Codes, as NGSI-LD's
// unitCode carries them), each converted to the one unit an application computes in.
#include <optional>
#include <string_view>

namespace ct::domains {

enum class Quantity {
  Flow,       // litres per second: L2, MQH (m³/h), MQS (m³/s)
  Pressure,   // metres of water head: MTR, KPA, BAR, MPA
  Power,      // kVA: KVA, MVA, D46 (VA)
  Level,      // metres: MTR, CMT (cm)
  Strain,     // microstrain: 59 (ppm)
  Angle,      // degrees: DD, C25 (milliradian)
  Velocity,   // mm/s: C16, MTS (m/s)
};

// The factor that turns a value in `unit_code` into the quantity's base unit; nullopt when the code
// is not one of the quantity's.
std::optional<double> unit_factor(Quantity quantity, std::string_view unit_code);
// The base unit's code (L2, MTR, KVA, MTR, 59, DD, C16).
std::string_view base_unit(Quantity quantity);

}  // namespace ct::domains
