#include "domains/utilities/power.hpp"

#include <algorithm>

namespace ct::domains::utilities {

std::string_view load_status_name(LoadStatus status) {
  switch (status) {
    case LoadStatus::Normal: return "normal";
    case LoadStatus::High: return "high";
    case LoadStatus::Overloaded: return "overloaded";
  }
  return "normal";
}

LoadMonitor::Outcome LoadMonitor::observe(double load_kva, double rated_kva, const LoadSettings& s) {
  Outcome o;
  o.ratio = rated_kva > 0 ? load_kva / rated_kva : 0;
  peak_ = std::max(peak_, o.ratio);
  LoadStatus next = status_;
  if (status_ == LoadStatus::Overloaded) {
    below_ = o.ratio < s.clear ? below_ + 1 : 0;
    if (below_ >= s.hold) next = o.ratio >= s.high ? LoadStatus::High : LoadStatus::Normal;
  } else {
    above_ = o.ratio > s.overload ? above_ + 1 : 0;
    if (above_ >= s.hold) next = LoadStatus::Overloaded;
    else next = o.ratio >= s.high ? LoadStatus::High : LoadStatus::Normal;
  }
  if (next != status_) {
    if (next == LoadStatus::Overloaded || status_ == LoadStatus::Overloaded) above_ = below_ = 0;
    o.changed = true;
    status_ = next;
  }
  o.status = status_;
  return o;
}

}  // namespace ct::domains::utilities
