#include "twin/entity_record.hpp"

#include <boost/endian/conversion.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

// Layout of version 1 (varint: LEB128, unsigned; zigzag: a signed number as a varint, small
// magnitudes short; str: varint length, then the bytes):
//
//   record    := 0x01 entity
//   entity    := flags:u8 str(id) varint(types) name* varint(scopes) str* [zigzag(modifiedAt)]
//                [modified(createdAt)] varint(attributes) attribute*
//   attribute := kind:u8 flags:u8 name [str(datasetId)] [str(unitCode)] [modified(observedAt)]
//                [created(createdAt)] [modified(modifiedAt)] value [varint(subs) attribute*]
//   name      := varint(bytes shared with the previous name of the record) str(the rest)
//   modified  := zigzag(t - the entity's modifiedAt (0 when it has none))
//   created   := zigzag(t - the entity's createdAt (0 when it has none))
//   value     := tag:u8, then per tag: null | false | true | int zigzag | uint varint
//              | double 8 bytes (little-endian) | decimal varint(zigzag(n) << 4 | k): exactly n / 10^k
//              | string str | array varint(n) value* | object varint(n) (str value)*
//              | point (double|decimal) (double|decimal): {"type":"Point","coordinates":[lon,lat]}
//
// Names (types, attribute and sub-attribute IRIs) share long prefixes ("https://uri.etsi.org/
// ngsi-ld/default-context/"), so each is written as what it adds to the one before: a sensor of
// ten attributes is about a quarter of its JSON document. Times are close to the entity's last
// write, so they are written as differences from it; most
// readings are short decimals (21.5), written as their digits and scale.

namespace ct::twin {
namespace {

using model::Attribute;
using model::AttributeKind;
using model::Entity;
using model::Term;

// Bounds the decoder's recursion (sub-attributes and JSON nesting together); what the API accepts
// nests far less (kMaxJsonDepth per request body).
constexpr int kMaxDepth = 512;

enum EntityFlags : std::uint8_t { kEntityCreated = 1, kEntityModified = 2, kKnownEntityFlags = 3 };
enum AttributeFlags : std::uint8_t {
  kDatasetId = 1,
  kUnitCode = 2,
  kObservedAt = 4,
  kCreatedAt = 8,
  kModifiedAt = 16,
  kSubAttributes = 32,
};
constexpr std::uint8_t kKnownAttributeFlags = 63;
constexpr std::size_t kMinAttributeBytes = 5;  // kind, flags, name (2), value tag
constexpr std::uint8_t kKindCount = static_cast<std::uint8_t>(AttributeKind::ListRelationship) + 1;

enum ValueTag : std::uint8_t { kNull, kFalse, kTrue, kInt, kUint, kDouble, kString, kArray, kObject, kPoint, kDecimal };

constexpr unsigned kMaxDecimalScale = 13;
constexpr double kPowersOfTen[kMaxDecimalScale + 1] = {1e0, 1e1, 1e2, 1e3, 1e4,  1e5,  1e6,
                                                       1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13};
constexpr double kExactIntegers = 9007199254740992.0;  // 2^53: every integer up to it is a double

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) { return static_cast<std::int64_t>((v >> 1) ^ (~(v & 1) + 1)); }

// Differences are taken modulo 2^64, so that no pair of timestamps overflows.
std::int64_t difference(Timestamp t, Timestamp base) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(t) - static_cast<std::uint64_t>(base));
}
Timestamp sum(Timestamp base, std::int64_t d) {
  return static_cast<Timestamp>(static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d));
}

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void entity(const Entity& e) {
    modified_base_ = e.modified_at != kNoTimestamp ? e.modified_at : 0;
    created_base_ = e.created_at != kNoTimestamp ? e.created_at : 0;
    out_.push_back(static_cast<char>(kEntityRecordVersion));
    out_.push_back(static_cast<char>((e.created_at != kNoTimestamp ? kEntityCreated : 0) |
                                     (e.modified_at != kNoTimestamp ? kEntityModified : 0)));
    str(e.id);
    varint(e.types.size());
    for (Term t : e.types) name(t);
    varint(e.scopes.size());
    for (const auto& s : e.scopes) str(s);
    if (e.modified_at != kNoTimestamp) varint(zigzag(e.modified_at));
    if (e.created_at != kNoTimestamp) time(e.created_at, modified_base_);
    varint(e.attributes.size());
    for (const auto& a : e.attributes) attribute(a);
  }

 private:
  void attribute(const Attribute& a) {
    out_.push_back(static_cast<char>(a.kind));
    out_.push_back(static_cast<char>((a.dataset_id.empty() ? 0 : kDatasetId) | (a.unit_code.empty() ? 0 : kUnitCode) |
                                     (a.observed_at == kNoTimestamp ? 0 : kObservedAt) |
                                     (a.created_at == kNoTimestamp ? 0 : kCreatedAt) |
                                     (a.modified_at == kNoTimestamp ? 0 : kModifiedAt) |
                                     (a.sub_attributes.empty() ? 0 : kSubAttributes)));
    name(a.name);
    if (!a.dataset_id.empty()) str(a.dataset_id.str());
    if (!a.unit_code.empty()) str(a.unit_code.str());
    if (a.observed_at != kNoTimestamp) time(a.observed_at, modified_base_);
    if (a.created_at != kNoTimestamp) time(a.created_at, created_base_);
    if (a.modified_at != kNoTimestamp) time(a.modified_at, modified_base_);
    value(a.value);
    if (!a.sub_attributes.empty()) {
      varint(a.sub_attributes.size());
      for (const auto& sub : a.sub_attributes) attribute(sub);
    }
  }

  void value(const json::value& v) {
    switch (v.kind()) {
      case json::kind::null:
        tag(kNull);
        return;
      case json::kind::bool_:
        tag(v.get_bool() ? kTrue : kFalse);
        return;
      case json::kind::int64:
        tag(kInt);
        varint(zigzag(v.get_int64()));
        return;
      case json::kind::uint64:
        tag(kUint);
        varint(v.get_uint64());
        return;
      case json::kind::double_:
        number(v.get_double());
        return;
      case json::kind::string:
        tag(kString);
        str(v.get_string());
        return;
      case json::kind::array:
        tag(kArray);
        varint(v.get_array().size());
        for (const auto& item : v.get_array()) value(item);
        return;
      case json::kind::object: {
        const auto& o = v.get_object();
        if (const json::array* lon_lat = point_coordinates(o)) {
          tag(kPoint);
          number((*lon_lat)[0].get_double());
          number((*lon_lat)[1].get_double());
          return;
        }
        tag(kObject);
        varint(o.size());
        for (const auto& [key, member] : o) {
          str(key);
          value(member);
        }
        return;
      }
    }
  }

  // The coordinates of {"type":"Point","coordinates":[lon,lat]} written in that order with two
  // doubles (what reads back from the point tag); nullptr for anything else.
  static const json::array* point_coordinates(const json::object& o) {
    if (o.size() != 2) return nullptr;
    auto it = o.begin();
    if (it->key() != "type" || !it->value().is_string() || it->value().get_string() != "Point") return nullptr;
    ++it;
    if (it->key() != "coordinates" || !it->value().is_array()) return nullptr;
    const auto& c = it->value().get_array();
    if (c.size() != 2 || !c[0].is_double() || !c[1].is_double()) return nullptr;
    return &c;
  }

  void name(Term t) {
    const std::string_view text = t.str();
    const std::size_t limit = std::min(text.size(), previous_name_.size());
    std::size_t shared = 0;
    while (shared < limit && text[shared] == previous_name_[shared]) ++shared;
    varint(shared);
    str(text.substr(shared));
    previous_name_ = text;  // interned: outlives the writer
  }
  // A double as a decimal when it is exactly n / 10^k, bit for bit (so not -0.0), else its 8 bytes.
  void number(double d) {
    for (unsigned k = 0; k <= kMaxDecimalScale; ++k) {
      const double scaled = std::nearbyint(d * kPowersOfTen[k]);
      if (!(std::fabs(scaled) <= kExactIntegers)) break;  // also NaN and infinities
      const auto n = static_cast<std::int64_t>(scaled);
      if (std::bit_cast<std::uint64_t>(static_cast<double>(n) / kPowersOfTen[k]) == std::bit_cast<std::uint64_t>(d)) {
        tag(kDecimal);
        varint(zigzag(n) << 4 | k);
        return;
      }
    }
    tag(kDouble);
    real(d);
  }
  void time(Timestamp t, Timestamp base) { varint(zigzag(difference(t, base))); }
  void tag(ValueTag t) { out_.push_back(static_cast<char>(t)); }
  void str(std::string_view s) {
    varint(s.size());
    out_.append(s);
  }
  void real(double d) {
    char bytes[8];
    boost::endian::store_little_u64(reinterpret_cast<unsigned char*>(bytes), std::bit_cast<std::uint64_t>(d));
    out_.append(bytes, 8);
  }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }

  std::string& out_;
  Timestamp modified_base_ = 0, created_base_ = 0;
  std::string_view previous_name_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  Result<Entity> entity() {
    Entity e;
    std::uint8_t version = 0, flags = 0;
    if (!byte(version)) return failure();
    if (version != kEntityRecordVersion) return problem("unknown entity record version " + std::to_string(version));
    if (!byte(flags)) return failure();
    if (flags & ~kKnownEntityFlags) return problem("unknown entity flags");
    std::uint64_t n = 0;
    if (!str(e.id) || !count(n, 2)) return failure();
    if (e.id.empty()) return problem("an entity record without an id");
    for (; n > 0; --n)
      if (!name(e.types.emplace_back())) return failure();
    if (!count(n, 1)) return failure();
    for (; n > 0; --n)
      if (!str(e.scopes.emplace_back())) return failure();
    if (flags & kEntityModified) {
      std::uint64_t modified = 0;
      if (!varint(modified)) return failure();
      e.modified_at = unzigzag(modified);
      modified_base_ = e.modified_at;
    }
    if ((flags & kEntityCreated) && !time(e.created_at, modified_base_)) return failure();
    if (flags & kEntityCreated) created_base_ = e.created_at;
    if (!count(n, kMinAttributeBytes)) return failure();
    e.attributes.reserve(n);
    for (; n > 0; --n)
      if (!attribute(e.attributes.emplace_back(), 0)) return failure();
    if (pos_ != in_.size()) return problem("unexpected bytes after the entity record at byte " + std::to_string(pos_));
    return e;
  }

 private:
  bool attribute(Attribute& a, int depth) {
    if (depth > kMaxDepth) return fail("sub-attributes nested too deep");
    std::uint8_t kind = 0, flags = 0;
    if (!byte(kind) || !byte(flags)) return false;
    if (kind >= kKindCount) return fail("unknown attribute kind " + std::to_string(kind));
    if (flags & ~kKnownAttributeFlags) return fail("unknown attribute flags");
    a.kind = static_cast<AttributeKind>(kind);
    if (!name(a.name)) return false;
    if ((flags & kDatasetId) && !term(a.dataset_id)) return false;
    if ((flags & kUnitCode) && !term(a.unit_code)) return false;
    if ((flags & kObservedAt) && !time(a.observed_at, modified_base_)) return false;
    if ((flags & kCreatedAt) && !time(a.created_at, created_base_)) return false;
    if ((flags & kModifiedAt) && !time(a.modified_at, modified_base_)) return false;
    if (!value(a.value, depth + 1)) return false;
    if (flags & kSubAttributes) {
      std::uint64_t n = 0;
      if (!count(n, kMinAttributeBytes)) return false;
      for (; n > 0; --n)
        if (!attribute(a.sub_attributes.emplace_back(), depth + 1)) return false;
    }
    return true;
  }

  bool value(json::value& v, int depth) {
    if (depth > kMaxDepth) return fail("value nested too deep");
    std::uint8_t t = 0;
    if (!byte(t)) return false;
    switch (t) {
      case kNull:
        v = nullptr;
        return true;
      case kFalse:
      case kTrue:
        v = (t == kTrue);
        return true;
      case kInt: {
        std::uint64_t n = 0;
        if (!varint(n)) return false;
        v = unzigzag(n);
        return true;
      }
      case kUint: {
        std::uint64_t n = 0;
        if (!varint(n)) return false;
        v = n;
        return true;
      }
      case kDouble:
      case kDecimal: {
        double d = 0;
        if (!number(t, d)) return false;
        v = d;
        return true;
      }
      case kString: {
        std::string_view s;
        if (!bytes(s)) return false;
        v = json::string(s);
        return true;
      }
      case kArray: {
        std::uint64_t n = 0;
        if (!count(n, 1)) return false;
        auto& array = v.emplace_array();
        for (std::uint64_t i = 0; i < n; ++i)
          if (!value(array.emplace_back(nullptr), depth + 1)) return false;
        return true;
      }
      case kObject: {
        std::uint64_t n = 0;
        if (!count(n, 2)) return false;
        auto& object = v.emplace_object();
        for (std::uint64_t i = 0; i < n; ++i) {
          std::string_view key;
          json::value member;
          if (!bytes(key) || !value(member, depth + 1)) return false;
          object.emplace(key, std::move(member));
        }
        return true;
      }
      case kPoint: {
        double lon = 0, lat = 0;
        std::uint8_t lon_tag = 0, lat_tag = 0;
        if (!byte(lon_tag) || !number(lon_tag, lon) || !byte(lat_tag) || !number(lat_tag, lat)) return false;
        v = json::object{{"type", "Point"}, {"coordinates", json::array{lon, lat}}};
        return true;
      }
      default:
        return fail("unknown value tag " + std::to_string(t));
    }
  }

  bool name(Term& t) {
    std::uint64_t shared = 0;
    std::string_view rest;
    if (!varint(shared) || !bytes(rest)) return false;
    if (shared > previous_name_.size()) return fail("a name shares more than the previous name has");
    name_.assign(previous_name_.substr(0, shared));
    name_.append(rest);
    if (name_.empty()) return fail("an empty name");
    t = Term::intern(name_);
    previous_name_ = t.str();
    return true;
  }
  bool term(Term& t) {
    std::string_view text;
    if (!bytes(text)) return false;
    if (text.empty()) return fail("an empty datasetId or unitCode");
    t = Term::intern(text);
    return true;
  }
  bool number(std::uint8_t tag, double& d) {
    if (tag == kDouble) return real(d);
    if (tag != kDecimal) return fail("a number with tag " + std::to_string(tag));
    std::uint64_t u = 0;
    if (!varint(u)) return false;
    const unsigned k = u & 15;
    if (k > kMaxDecimalScale) return fail("a decimal with scale " + std::to_string(k));
    d = static_cast<double>(unzigzag(u >> 4)) / kPowersOfTen[k];
    return true;
  }
  bool time(Timestamp& t, Timestamp base) {
    std::uint64_t d = 0;
    if (!varint(d)) return false;
    t = sum(base, unzigzag(d));
    return true;
  }
  // A count of items that take at least `min_bytes` each: one larger than what is left of the
  // record is corruption. Containers grow as items are read rather than being sized by the count,
  // since nested counts would claim the same remaining bytes over again (only the top-level
  // attribute list is reserved).
  bool count(std::uint64_t& n, std::size_t min_bytes) {
    if (!varint(n)) return false;
    if (n > (in_.size() - pos_) / min_bytes) return fail("a count of " + std::to_string(n) + " larger than the record");
    return true;
  }
  bool str(std::string& s) {
    std::string_view view;
    if (!bytes(view)) return false;
    s.assign(view);
    return true;
  }
  bool bytes(std::string_view& s) {
    std::uint64_t n = 0;
    if (!varint(n)) return false;
    if (n > in_.size() - pos_) return truncated();
    s = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool byte(std::uint8_t& b) {
    if (pos_ >= in_.size()) return truncated();
    b = static_cast<std::uint8_t>(in_[pos_++]);
    return true;
  }
  bool real(double& d) {
    if (in_.size() - pos_ < 8) return truncated();
    d = std::bit_cast<double>(boost::endian::load_little_u64(reinterpret_cast<const unsigned char*>(in_.data() + pos_)));
    pos_ += 8;
    return true;
  }
  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return truncated();
      const auto b = static_cast<std::uint8_t>(in_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return fail("a varint longer than 64 bits");
  }

  bool truncated() { return fail("the record ends early"); }
  bool fail(std::string why) {
    if (error_.empty()) error_ = std::move(why) + " (at byte " + std::to_string(pos_) + ")";
    return false;
  }
  Problem failure() const { return Problem{ProblemKind::InternalError, error_}; }
  Problem problem(std::string why) {
    fail(std::move(why));
    return failure();
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  Timestamp modified_base_ = 0, created_base_ = 0;
  std::string_view previous_name_;
  std::string name_;
  std::string error_;
};

}  // namespace

void append_entity_record(std::string& out, const Entity& entity) { Writer(out).entity(entity); }

bool is_entity_record(std::string_view stored) { return !stored.empty() && stored.front() != '{'; }

Result<Entity> read_entity_record(std::string_view record) { return Reader(record).entity(); }

}  // namespace ct::twin
