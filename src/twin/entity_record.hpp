#pragma once
// The stored form of an entity in the store's Entities collection: a compact binary record written
// and read straight from and into model::Entity, with no JSON printed or parsed on the write path
// or at start-up.
//
// A record starts with its version byte (kEntityRecordVersion). Documents written before records
// existed are the entity's normalized JSON and start with '{': is_entity_record tells them apart,
// and the twin reads those with the JSON codec, so an upgraded data directory loses nothing.
//
// Everything the twin keeps across a restart round-trips exactly: id, types, scopes, system times,
// and per attribute instance its kind, name, datasetId, unitCode, value (every JSON type, numbers
// with their exact kind and bits), observedAt, createdAt, modifiedAt and sub-attributes. Revisions
// count writes within one process and are not stored (they read back as 0, as from JSON).
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "model/entity.hpp"

namespace ct::twin {

inline constexpr std::uint8_t kEntityRecordVersion = 1;

// Appends the record of `entity` to `out`.
void append_entity_record(std::string& out, const model::Entity& entity);

// False for a JSON document (its first byte is '{') and for nothing; anything else is taken for a
// record, of any version, which read_entity_record then reads or refuses.
bool is_entity_record(std::string_view stored);

// Reads a record back. A record that is truncated, corrupted, of an unknown version or nested
// deeper than a stored document can be, answers a Problem saying where it went wrong; no input
// crashes it or makes it allocate much more than the record's own size.
Result<model::Entity> read_entity_record(std::string_view record);

}  // namespace ct::twin
