#pragma once
// A substation's (or distribution transformer's) load against its rated capacity: pure logic over one
// substation's readings in time order.
//
// The load ratio is apparent power / rated apparent power. Status: normal below `high`, high from
// there, overloaded once the ratio has stayed above `overload` for `hold` readings in a row, and
// back from overloaded once it has stayed below `clear` as long (hysteresis: a load hovering at the
// rating does not flap). The peak ratio is kept until the caller resets it (at each hour).
#include <string_view>

namespace ct::domains::utilities {

enum class LoadStatus { Normal, High, Overloaded };
std::string_view load_status_name(LoadStatus status);  // "normal", "high", "overloaded"

struct LoadSettings {
  double high = 0.8;
  double overload = 1.0;
  double clear = 0.95;
  int hold = 2;
};

class LoadMonitor {
 public:
  struct Outcome {
    double ratio = 0;
    LoadStatus status = LoadStatus::Normal;
    bool changed = false;  // the status changed with this reading
  };
  Outcome observe(double load_kva, double rated_kva, const LoadSettings& settings);
  LoadStatus status() const { return status_; }
  double peak() const { return peak_; }
  void reset_peak() { peak_ = 0; }

 private:
  LoadStatus status_ = LoadStatus::Normal;
  int above_ = 0, below_ = 0;
  double peak_ = 0;
};

}  // namespace ct::domains::utilities
