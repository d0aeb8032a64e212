#include "domains/emergency/response.hpp"

#include <algorithm>
#include <cmath>

namespace ct::domains::emergency {

std::string_view unit_kind_for(std::string_view category) {
  if (category == "medical") return "ambulance";
  if (category == "fire" || category == "rescue" || category == "structural" || category == "flood") return "fireEngine";
  if (category == "crime" || category == "traffic" || category == "publicOrder") return "police";
  return {};
}

std::optional<double> percentile(std::vector<double> values, double p) {
  if (values.empty() || !(p > 0) || p > 100) return std::nullopt;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::max<std::size_t>(rank, 1) - 1];
}

std::optional<double> median(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

void ResponseTimes::add(Timestamp at, const std::string& district, double seconds) {
  samples_.push_back({at, district, seconds});
}

std::map<std::string, std::vector<double>> ResponseTimes::between(Timestamp from, Timestamp to) const {
  std::map<std::string, std::vector<double>> out;
  for (const auto& s : samples_) {
    if (s.at < from || s.at >= to) continue;
    out[""].push_back(s.seconds);
    if (!s.district.empty()) out[s.district].push_back(s.seconds);
  }
  return out;
}

void ResponseTimes::forget(Timestamp before) {
  std::erase_if(samples_, [&](const Sample& s) { return s.at < before; });
}

}  // namespace ct::domains::emergency
