#pragma once
// Validity rules for identifiers and names (ETSI GS CIM 009 clause 4.6.2 and 5.2).
#include <string_view>

namespace ct::model {

// An absolute URI: a scheme, a colon, and no whitespace, control characters or <>"{}|\^`.
bool is_uri(std::string_view text);
// A short name (before expansion) for an attribute or type: non-empty, at most 256 bytes, and
// none of the characters NGSI-LD forbids in names: whitespace, controls, <>"'=;() and so on.
bool is_valid_term(std::string_view text);

}  // namespace ct::model
