#pragma once
// The keys of the History collection, and the instance ids made from them. Pure functions of their
// arguments: any thread.
//
// One series = tenant, entity, attribute, datasetId (names are expanded and hold no zero byte).
// Every time in a key is 8 bytes big-endian with the sign bit flipped, so that keys sort by time;
// a counter is 4 bytes big-endian.
//   'S' tenant \0 entity \0 attribute \0 datasetId \0 time 'B'                   a compacted day block
//   'S' tenant \0 entity \0 attribute \0 datasetId \0 time 'R' changedAt counter a raw record
//   'E' tenant \0 entity \0 changedAt counter                                     an event record
//   'C' tenant \0 type                                                            a retention policy
// Promised orderings, on which the reader and the compactor rely:
// - the records of a series in [from, to) are one range scan from block_key(day_of(from)) to `to`,
//   day by day, a day's block before its raws;
// - a series prefix ('S' ... datasetId \0) prefixes the keys of that series only;
// - an entity's event records are under one prefix, in change order.
// The record time of a raw record is the instance's observedAt, or, without one, the change time.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/time.hpp"

namespace ct::history {

inline constexpr std::int64_t kBucketMs = 86'400'000;  // one block per series and UTC day
// Below this every record time is clamped when computing a day, so that no day arithmetic overflows.
inline constexpr Timestamp kEarliest = -(Timestamp{1} << 62);

struct SeriesId {
  std::string entity_id;
  std::string attribute;   // expanded
  std::string dataset_id;  // expanded; empty for the default instance
};

inline constexpr char kRawKind = 'R';
inline constexpr char kBlockKind = 'B';
// time(8) kind(1): the shortest suffix of a series key; a raw's is time 'R' changedAt(8) counter(4).
inline constexpr std::size_t kSuffixHead = 9;
inline constexpr std::size_t kRawSuffixSize = 21;
// changedAt(8) counter(4): what follows an entity's event prefix.
inline constexpr std::size_t kEventSuffixSize = 12;

void put_be32(std::string& out, std::uint32_t n);
std::uint32_t get_be32(std::string_view bytes);  // reads 4 bytes
void put_time(std::string& out, Timestamp t);
Timestamp get_time(std::string_view bytes);  // reads 8 bytes

// The start of the UTC day of `t` (clamped at kEarliest).
Timestamp day_of(Timestamp t);

// tenant \0 entity \0
std::string entity_part(std::string_view tenant, std::string_view entity_id);
// 'S' tenant \0 entity \0: the prefix of every series of an entity.
std::string entity_series_prefix(std::string_view tenant, std::string_view entity_id);
// 'E' tenant \0 entity \0: the prefix of an entity's event records.
std::string entity_event_prefix(std::string_view tenant, std::string_view entity_id);
// 'S' tenant \0 entity \0 attribute \0 datasetId \0
std::string series_prefix(std::string_view tenant, const SeriesId& series);
// The series prefix a series key starts with (its first four zero bytes), or empty.
std::string_view series_prefix_of(std::string_view key);
// The smallest key after every key that starts with `prefix`.
std::string prefix_end(std::string_view prefix);

// time 'R' changedAt counter: what follows the series prefix in a raw record's key.
std::string raw_suffix(Timestamp time, Timestamp changed_at, std::uint32_t counter);
std::string raw_key(std::string_view series_prefix, Timestamp time, Timestamp changed_at, std::uint32_t counter);
std::string block_key(std::string_view series_prefix, Timestamp day);
std::string event_key(std::string_view tenant, std::string_view entity_id, Timestamp changed_at, std::uint32_t counter);

struct EventKey {
  std::string_view entity_part;  // tenant \0 entity \0
  Timestamp changed_at = 0;
  std::uint32_t counter = 0;
};
// The parts of an event record's key; nullopt if it is not one.
std::optional<EventKey> parse_event_key(std::string_view key);

std::string policy_key(std::string_view tenant, std::string_view type);

// Instance ids (urn:ngsi-ld:history:...): for a raw record, the hex of its key suffix; for a point
// of a compacted block, the hex of its time and its ordinal among the points of that time. A raw
// instance's id thus changes once, when it is compacted.
inline constexpr std::string_view kInstancePrefix = "urn:ngsi-ld:history:";
std::string raw_instance_id(std::string_view suffix);
std::string point_instance_id(Timestamp time, std::size_t ordinal);
struct InstanceRef {
  std::string suffix;                  // a raw suffix, or (with an ordinal) a point's time (8 bytes)
  std::optional<std::size_t> ordinal;  // set for a point of a block
};
// nullopt if `id` is not an instance id.
std::optional<InstanceRef> parse_instance_id(std::string_view id);

}  // namespace ct::history
