#pragma once
// Emergency response figures: which kind of unit a call needs, and response-time statistics.
// Pure logic.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.hpp"

namespace ct::domains::emergency {

// The response unit kind for a call or incident category: medical → ambulance, fire and rescue
// (structural, flood) → fireEngine, crime and traffic → police; empty for other categories.
std::string_view unit_kind_for(std::string_view category);

// The p-th percentile (0 < p ≤ 100) by the nearest-rank method: the smallest value with at least p %
// of the values at or below it. The median is the 50th percentile of an odd count, and the mean of
// the two middle values of an even one. nullopt for no values.
std::optional<double> percentile(std::vector<double> values, double p);
std::optional<double> median(std::vector<double> values);

// Response times (seconds) of the incidents reached in each period, per district and city-wide.
class ResponseTimes {
 public:
  // One incident reached at `at`, `seconds` after it was opened, in `district` ("" unknown).
  void add(Timestamp at, const std::string& district, double seconds);
  // The times of [from, to) per district, with "" for the whole city.
  std::map<std::string, std::vector<double>> between(Timestamp from, Timestamp to) const;
  // Forgets times before `before`.
  void forget(Timestamp before);

 private:
  struct Sample {
    Timestamp at;
    std::string district;
    double seconds;
  };
  std::vector<Sample> samples_;
};

}  // namespace ct::domains::emergency
