#pragma once
// How the notifications of one subscription went: shared by the subscription (its GET shows it) and
// the notifications in flight, which outlive a PATCH or DELETE of the subscription.
#include <mutex>

#include "notify/subscription.hpp"

namespace ct::notify {

class DeliveryStatus {
 public:
  // One attempt to deliver a notification, successful or not.
  void record(bool delivered, Timestamp at) {
    std::lock_guard lock(mutex_);
    ++report_.times_sent;
    report_.last_notification = at;
    report_.failing = !delivered;
    if (delivered) {
      report_.last_success = at;
    } else {
      ++report_.times_failed;
      report_.last_failure = at;
    }
  }
  // A notification given up without a last attempt (its receiver failing or stalled too long): a
  // failure, though not an attempt.
  void record_abandoned(Timestamp at) {
    std::lock_guard lock(mutex_);
    ++report_.times_failed;
    report_.last_failure = at;
    report_.failing = true;
  }
  DeliveryReport report() const {
    std::lock_guard lock(mutex_);
    return report_;
  }

 private:
  mutable std::mutex mutex_;
  DeliveryReport report_;
};

}  // namespace ct::notify
