#pragma once
// Where rules read past values from to rebuild their windows after a restart (the contract with
// the history layer, wired by the program in app/). Rules never depend on history's code.
#include <functional>
#include <string>

#include "common/result.hpp"
#include "common/time.hpp"

namespace ct::rules {

class HistorySource {
 public:
  virtual ~HistorySource() = default;
  // Every numeric value of `attribute` (the expanded attribute name, any datasetId) of entity `entity_id`
  // in `tenant` whose observedAt (or, without observedAt, change time) is in [from, to), oldest first.
  virtual Status numeric_points(const std::string& tenant, const std::string& entity_id,
                                const std::string& attribute, Timestamp from, Timestamp to,
                                const std::function<void(Timestamp, double)>& visit) const = 0;
};

}  // namespace ct::rules
