#include "domains/services/requests.hpp"

#include <array>

namespace ct::domains::services {

namespace {
constexpr std::array<std::string_view, 4> kNames{"open", "assigned", "resolved", "closed"};
}

std::optional<RequestStatus> parse_request_status(std::string_view text) {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == text) return static_cast<RequestStatus>(i);
  return std::nullopt;
}

std::string_view request_status_name(RequestStatus status) { return kNames[static_cast<std::size_t>(status)]; }

std::optional<double> RequestFigures::compliance() const {
  const std::size_t judged = resolved + breached_unresolved;
  if (judged == 0) return std::nullopt;
  return 100.0 * static_cast<double>(resolved_on_time) / static_cast<double>(judged);
}

Result<RequestBook::Outcome> RequestBook::observe(const std::string& id, const ServiceRequest& seen, Timestamp at) {
  auto it = requests_.find(id);
  if (it == requests_.end()) {
    ServiceRequest r = seen;
    if (r.status >= RequestStatus::Resolved && r.resolved == kNoTimestamp) r.resolved = at;
    if (r.resolved != kNoTimestamp && r.resolved > r.deadline) r.breached = true;
    requests_.emplace(id, std::move(r));
    return Outcome::New;
  }
  auto& r = it->second;
  if (seen.status == r.status) return Outcome::Unchanged;
  if (seen.status < r.status)
    return invalid_request("status: a service request cannot go back from " +
                           std::string(request_status_name(r.status)) + " to " +
                           std::string(request_status_name(seen.status)) + " (open → assigned → resolved → closed)");
  if (seen.status >= RequestStatus::Resolved && r.resolved == kNoTimestamp) {
    r.resolved = at;
    if (at > r.deadline) r.breached = true;
  }
  r.status = seen.status;
  return Outcome::Moved;
}

std::vector<std::string> RequestBook::newly_breached(Timestamp now) {
  std::vector<std::string> out;
  for (auto& [id, r] : requests_) {
    if (r.breached || r.resolved != kNoTimestamp || now < r.deadline) continue;
    r.breached = true;
    out.push_back(id);
  }
  return out;
}

const ServiceRequest* RequestBook::find(const std::string& id) const {
  auto it = requests_.find(id);
  return it == requests_.end() ? nullptr : &it->second;
}

std::map<std::pair<std::string, std::string>, RequestFigures> RequestBook::figures(Timestamp from, Timestamp to) const {
  std::map<std::pair<std::string, std::string>, RequestFigures> out;
  for (const auto& [id, r] : requests_) {
    std::vector<std::string> districts{""}, categories{""};
    if (!r.district.empty()) districts.push_back(r.district);
    if (!r.category.empty()) categories.push_back(r.category);
    for (const auto& district : districts)
      for (const auto& category : categories) {
        auto& f = out[{district, category}];
        if (r.requested >= from && r.requested < to) ++f.opened;
        const bool resolved_in = r.resolved != kNoTimestamp && r.resolved >= from && r.resolved < to;
        if (resolved_in) {
          ++f.resolved;
          if (r.resolved <= r.deadline) ++f.resolved_on_time;
        }
        const bool unresolved_at_end = r.resolved == kNoTimestamp || r.resolved >= to;
        if (r.breached && r.deadline >= from && r.deadline < to) {
          ++f.breached;
          if (unresolved_at_end) ++f.breached_unresolved;
        }
        if (r.requested < to && unresolved_at_end) ++f.backlog;
      }
  }
  return out;
}

void RequestBook::forget_closed(Timestamp before) {
  std::erase_if(requests_, [&](const auto& entry) {
    return entry.second.status == RequestStatus::Closed && entry.second.resolved < before;
  });
}

}  // namespace ct::domains::services
