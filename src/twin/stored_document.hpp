#pragma once
// The document the twin stores for an entity and reads back on start-up (jsonld::decode_entity with
// `trusted`): the normalized form with expanded names and system attributes. It is the same JSON
// that to_text(encode_entity(entity, <a context with no terms>, {.sys_attrs = true})) gives, printed
// straight into the output without building a Boost.JSON tree first (that tree cost a quarter of a
// batch upsert's CPU).
#include <string>

#include "model/entity.hpp"

namespace ct::twin {

// Appends the stored document of `entity` to `out`.
void append_stored_document(std::string& out, const model::Entity& entity);

}  // namespace ct::twin
