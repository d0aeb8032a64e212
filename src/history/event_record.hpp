#pragma once
// The event record: every instance one change of an entity wrote or removed, in ONE store value
// (keyed by keys.hpp's event_key), so that recording costs one key per change rather than one per
// attribute value. It is later split into raw records (records.hpp) by the compactor; until then
// readers decode it in memory (for_each_event_entry). Pure functions: any thread.
//
// Format 2: a format byte, then per instance, in order, one entry:
//   head(1)  name  [datasetId]  [observedAt]  [createdAt]  [unitCode]  payload
// head: the payload's form in bits 0-2, and bits 3-6 say which optional fields follow.
// name: front-coded against the previous entry's (expanded names of one entity mostly share a long
//   vocabulary IRI): shared(1), varint size of the rest, the rest. datasetId and unitCode: varint
//   size, text. observedAt: zigzag varint of observedAt - change time; createdAt: zigzag varint of
//   change time - createdAt (both mostly small or 0).
// payloads (plain Properties and GeoJSON Points, binary because that is much cheaper to write than
// their raw value; everything else as its raw value):
//   number   a double: varint (zigzag(n) << 4 | k) when it is exactly n / 10^k, k <= 13 (JSON
//            decimals: mostly 1-3 bytes), else the varint 15 and the double's 8 bytes (little-endian)
//   integer  zigzag varint of an int64
//   point    count(1: 2 or 3), then each coordinate as a number
//   json     varint size and the raw record          deleted  nothing
// Entry i of an event takes the event key's counter + i: the raw it becomes has that counter, so an
// instance id does not depend on when, or whether, the event is split.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/time.hpp"
#include "model/entity.hpp"

namespace ct::history {

class EventRecordWriter {
 public:
  EventRecordWriter();
  // An instance of `entity_id` written by the change at `changed_at`.
  void add_written(const std::string& entity_id, const model::Attribute& instance, Timestamp changed_at);
  // An instance the change removed.
  void add_removed(std::string_view name, std::string_view dataset);
  std::uint32_t entries() const { return entries_; }
  std::string take() { return std::move(value_); }

 private:
  void put_name(std::string_view name);
  void put_head(std::uint8_t form, const model::Attribute& instance, Timestamp changed_at);
  std::string value_;
  std::string_view previous_name_;
  std::uint32_t entries_ = 0;
};

struct EventEntry {
  std::string attribute;
  std::string_view dataset;
  Timestamp time = 0;  // the record time
  std::string raw;     // the raw record it becomes
};
// Visits the entries of an event record changed at `changed_at`, in order; false if it is malformed
// (the entries before the fault have been visited).
bool for_each_event_entry(std::string_view event, Timestamp changed_at,
                          const std::function<void(const EventEntry&)>& visit);

}  // namespace ct::history
