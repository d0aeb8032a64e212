#pragma once
// The real-time AQI of a station, derived inside the reading's own write (twin/enricher.hpp).
//
// A write of an `AirQualityObserved` station that wrote one of pm25, pm10, so2, no2, co, o3 is a reading.
// The station's current values (those not older than the reading's hour) are evaluated on the tenant's
// profile (city settings) and put on the station in the same write: airQualityIndex (Number),
// airQualityLevel (Text, the category's English key), iaqi (a Property whose value is {indicator: n})
// and primaryPollutants (array), observed at the reading's time; so they are stored, recorded in history
// and notified with the reading itself. A value that is not a number, is negative or has a unit the
// profile cannot convert leaves the AQI as it was and puts aqiProblem (a problem detail) instead, which
// the next good reading removes; each cause is counted.
//
// Thread-safe: enrich() runs on every writing thread at once; the counters are atomics.
#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "domains/core/city_settings.hpp"
#include "twin/enricher.hpp"

namespace ct::domains::air {

// Why a reading's AQI was left out (counted on /metrics, labelled by cause).
enum class SkipCause : std::uint8_t { NotNumeric, Negative, UnknownUnit, NoValues };
inline constexpr std::size_t kSkipCauseCount = 4;
std::string_view skip_cause_name(SkipCause cause);

class RealTimeAqi final : public twin::Enricher {
 public:
  explicit RealTimeAqi(const CitySettingsStore& settings) : settings_(settings) {}

  void enrich(const twin::Enrichment& write) override;

  std::uint64_t readings() const { return readings_.load(); }
  std::uint64_t written() const { return written_.load(); }
  std::uint64_t skipped(SkipCause cause) const { return skipped_[static_cast<std::size_t>(cause)].load(); }

 private:
  const CitySettingsStore& settings_;
  std::atomic<std::uint64_t> readings_{0}, written_{0};
  std::array<std::atomic<std::uint64_t>, kSkipCauseCount> skipped_{};
};

}  // namespace ct::domains::air
