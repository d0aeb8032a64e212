#include "domains/core/units.hpp"

#include <array>

namespace ct::domains {
namespace {

struct UnitEntry {
  Quantity quantity;
  std::string_view code;
  double factor;
};

constexpr std::array<UnitEntry, 17> kUnits{{
    {Quantity::Flow, "L2", 1},                 // litre per second
    {Quantity::Flow, "MQH", 1000.0 / 3600.0},  // cubic metre per hour
    {Quantity::Flow, "MQS", 1000},             // cubic metre per second
    {Quantity::Pressure, "MTR", 1},            // metre of water head
    {Quantity::Pressure, "KPA", 0.101972},     // 1 kPa = 0.101972 m of water
    {Quantity::Pressure, "BAR", 10.1972},
    {Quantity::Pressure, "MPA", 101.972},
    {Quantity::Power, "KVA", 1},
    {Quantity::Power, "MVA", 1000},
    {Quantity::Power, "D46", 0.001},           // volt-ampere
    {Quantity::Level, "MTR", 1},
    {Quantity::Level, "CMT", 0.01},
    {Quantity::Strain, "59", 1},               // part per million: microstrain
    {Quantity::Angle, "DD", 1},                // degree
    {Quantity::Angle, "C25", 0.0572958},       // milliradian
    {Quantity::Velocity, "C16", 1},            // millimetre per second
    {Quantity::Velocity, "MTS", 1000},
}};

}  // namespace

std::optional<double> unit_factor(Quantity quantity, std::string_view unit_code) {
  for (const auto& u : kUnits)
    if (u.quantity == quantity && u.code == unit_code) return u.factor;
  return std::nullopt;
}

std::string_view base_unit(Quantity quantity) {
  for (const auto& u : kUnits)
    if (u.quantity == quantity && u.factor == 1) return u.code;
  return {};
}

}  // namespace ct::domains
