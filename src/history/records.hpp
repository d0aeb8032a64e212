#pragma once
// The values stored under the series keys (keys.hpp): raw records and day blocks. Pure functions:
// any thread.
//
// A raw record is one instance as JSON: {"c": changedAt, "a": the instance, expanded and
// normalized (the identity context)}, or {"c": changedAt, "d": true} for an instance deleted then.
// A day block is [format][unitCode size][unitCode][an encoded series block (series_codec.hpp)];
// format 1 is compacted from raws, format 2 has been rolled up by retention (one mean per period).
// A raw record fits a block when it is a numeric Property with no sub-attributes (compactable()).
#include <optional>
#include <string>
#include <string_view>

#include "common/json.hpp"
#include "common/time.hpp"
#include "jsonld/context.hpp"
#include "model/entity.hpp"

namespace ct::history {

// The context that leaves names as they are (records hold expanded names).
const jsonld::Context& identity_context();

std::optional<double> number_of(const json::value& v);

struct RawRecord {
  Timestamp changed_at = 0;
  bool deleted = false;
  json::object attribute;
};
// nullopt if `value` is not a raw record.
std::optional<RawRecord> parse_raw(std::string_view value);

// The raw record of `instance` (of `entity_id`) written at `changed_at`.
std::string raw_value(const std::string& entity_id, const model::Attribute& instance, Timestamp changed_at);
// The raw record of a plain Property (a scalar value, no sub-attributes), written straight.
std::string plain_raw_value(const json::value& value, Timestamp observed_at, std::string_view unit_code,
                            std::string_view dataset_id, Timestamp created_at, Timestamp changed_at);
// The raw record of a GeoProperty holding a GeoJSON Point of `count` (2 or 3) coordinates.
std::string point_raw_value(const double* xyz, std::size_t count, Timestamp observed_at, std::string_view unit_code,
                            std::string_view dataset_id, Timestamp created_at, Timestamp changed_at);
// The raw record of a deletion at `changed_at`.
std::string deleted_raw_value(Timestamp changed_at);

// The number and unit of a raw record that a block can hold without loss.
struct Compactable {
  double value = 0;
  std::string unit;
};
std::optional<Compactable> compactable(const RawRecord& r);

std::string block_value(const std::string& unit, std::string_view block, bool rolled_up = false);
// Splits a stored block value into its unitCode and encoded series block; false if malformed.
bool split_block_value(std::string_view value, std::string_view& unit, std::string_view& block,
                       bool* rolled_up = nullptr);

}  // namespace ct::history
