// libFuzzer target for the twin's stored entity records (twin/entity_record.hpp), which start-up
// reads from disk: whatever the bytes, reading answers an entity or a Problem, never crashes or
// runs away with memory; and an entity it accepts writes a record that reads back to the same
// record again (the format holds whatever it reads).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "twin/entity_record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto entity = ct::twin::read_entity_record(bytes);
  if (!entity.ok()) {
    if (entity.problem().detail.empty()) __builtin_trap();  // every refusal says why
    return 0;
  }
  std::string once;
  ct::twin::append_entity_record(once, *entity);
  auto again = ct::twin::read_entity_record(once);
  if (!again.ok()) __builtin_trap();
  std::string twice;
  ct::twin::append_entity_record(twice, *again);
  if (once != twice) __builtin_trap();
  return 0;
}
