#include "domains/traffic/jam_detector.hpp"

#include <algorithm>

namespace ct::domains::traffic {

std::size_t TimeOfDayBaseline::bucket_of(Timestamp t, const JamSettings& s) const {
  constexpr Timestamp kDay = 24LL * 3600 * 1000;
  const Timestamp local = t + static_cast<Timestamp>(s.utc_offset_minutes) * 60'000;
  const Timestamp of_day = ((local % kDay) + kDay) % kDay;
  const int width = std::clamp(s.bucket_minutes, 1, 24 * 60);
  const auto bucket = static_cast<std::size_t>(of_day / (static_cast<Timestamp>(width) * 60'000));
  if (!s.split_weekends) return bucket;
  // 1970-01-01 was a Thursday: day 2 (Saturday) and day 3 (Sunday) modulo 7.
  const Timestamp day = (local - of_day) / kDay;
  const auto weekday = ((day % 7) + 7) % 7;
  const bool weekend = weekday == 2 || weekday == 3;
  return weekend ? bucket + static_cast<std::size_t>((24 * 60 + width - 1) / width) : bucket;
}

std::optional<double> TimeOfDayBaseline::usual(Timestamp t, const JamSettings& s) const {
  const auto bucket = bucket_of(t, s);
  if (bucket >= buckets_.size()) return std::nullopt;
  const auto* b = &buckets_[bucket];
  if ( b->samples < std::max<std::uint32_t>(s.min_baseline, 1)) return std::nullopt;
  return b->mean;
}

void TimeOfDayBaseline::learn(Timestamp t, double kmh, const JamSettings& s) {
  const auto bucket = bucket_of(t, s);
  if (buckets_.size() <= bucket) {
    const int width = std::clamp(s.bucket_minutes, 1, 24 * 60);
    const auto per_day = static_cast<std::size_t>((24 * 60 + width - 1) / width);
    buckets_.resize(std::max<std::size_t>(bucket + 1, s.split_weekends ? 2 * per_day : per_day));
  }
  auto& b = buckets_[bucket];
  // A running mean for the first `memory` samples, an exponential average after (weight 1/memory).
  const auto memory = std::max<std::uint32_t>(s.baseline_memory, 1) * static_cast<std::uint32_t>(
      std::max(1, s.bucket_minutes / 5));  // readings per bucket per day at 5-minute steps
  if (b.samples < memory) ++b.samples;
  b.mean += (kmh - b.mean) / b.samples;
}

JamDetector::Outcome JamDetector::observe(Timestamp t, double kmh, const JamSettings& s) {
  Outcome out;
  if (last_ != kNoTimestamp && t <= last_) return out;
  last_ = t;
  out.in_order = true;
  out.usual_kmh = baseline_.usual(t, s);
  if (out.usual_kmh) {
    const double usual = *out.usual_kmh;
    const bool dropped = kmh < s.drop_ratio * usual && usual - kmh >= s.min_drop_kmh;
    const bool recovered = kmh >= s.recover_ratio * usual;
    if (!jammed_) {
      if (!dropped) {
        drop_since_ = kNoTimestamp;
      } else {
        if (drop_since_ == kNoTimestamp) drop_since_ = t;
        if (t - drop_since_ >= s.hold_ms) {
          jammed_ = true;
          jam_since_ = drop_since_;
          recover_since_ = kNoTimestamp;
          out.change = JamChange::Started;
          out.since = jam_since_;
        }
      }
    } else if (!recovered) {
      recover_since_ = kNoTimestamp;
    } else {
      if (recover_since_ == kNoTimestamp) recover_since_ = t;
      if (t - recover_since_ >= s.recover_hold_ms) {
        jammed_ = false;
        drop_since_ = kNoTimestamp;
        out.change = JamChange::Cleared;
        out.since = jam_since_;
      }
    }
  }
  // A reading during a jam (or while a drop is being confirmed) is not "usual"; the others teach.
  if (!jammed_ && drop_since_ == kNoTimestamp) baseline_.learn(t, kmh, s);
  return out;
}

}  // namespace ct::domains::traffic
