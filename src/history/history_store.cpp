#include "history/history_store.hpp"

#include "history/checksum.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <set>

#include "common/json.hpp"
#include "history/series_codec.hpp"
#include "jsonld/context.hpp"
#include "jsonld/entity_codec.hpp"

namespace ct::history {
namespace {

constexpr char kRawKind = 'R';
constexpr char kBlockKind = 'B';
constexpr char kBlockFormat = 1;
constexpr std::string_view kInstancePrefix = "urn:ngsi-ld:history:";
// Below this every record time is clamped when computing a day, so that no day arithmetic overflows.
constexpr Timestamp kEarliest = -(Timestamp{1} << 62);

// Compacting at least this many raw records of one series at once asks the store to reclaim them.
constexpr std::size_t kReclaimAfterDeletions = 20'000;

void put_u64(std::string& out, std::uint64_t u) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(u >> (8 * (7 - i)));
  out.append(bytes, 8);
}
std::uint64_t get_u64(std::string_view bytes) {
  std::uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  return u;
}
void put_time(std::string& out, Timestamp t) { put_u64(out, static_cast<std::uint64_t>(t) ^ (std::uint64_t{1} << 63)); }
Timestamp get_time(std::string_view bytes) {
  return static_cast<Timestamp>(get_u64(bytes) ^ (std::uint64_t{1} << 63));
}

Timestamp day_of(Timestamp t) {
  t = std::max(t, kEarliest);
  Timestamp q = t / kBucketMs;
  if (t % kBucketMs < 0) --q;
  return q * kBucketMs;
}

std::string entity_part(std::string_view tenant, std::string_view entity_id) {
  std::string out;
  out.append(tenant).push_back('\0');
  out.append(entity_id).push_back('\0');
  return out;
}
std::string series_part(std::string_view tenant, const SeriesId& s) {
  std::string out = entity_part(tenant, s.entity_id);
  out.append(s.attribute).push_back('\0');
  out.append(s.dataset_id);
  return out;
}
std::string series_prefix(std::string_view tenant, const SeriesId& s) { return 'S' + series_part(tenant, s) + '\0'; }

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}
std::optional<std::string> unhex(std::string_view text) {
  if (text.size() % 2) return std::nullopt;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = digit(text[i]), lo = digit(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

const jsonld::Context& identity_context() {
  static const jsonld::Context context = [] {
    jsonld::Context c;
    c.seal(nullptr);
    return c;
  }();
  return context;
}

std::optional<double> number_of(const json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return std::nullopt;
}

// A raw record's value: {"c": changedAt, "a": the instance (expanded, normalized)} or {"c", "d": true}.
struct RawRecord {
  Timestamp changed_at = 0;
  bool deleted = false;
  json::object attribute;
};
std::optional<RawRecord> parse_raw(std::string_view value) {
  auto parsed = parse_json(value);
  if (!parsed || !parsed->is_object()) return std::nullopt;
  const auto& o = parsed->get_object();
  RawRecord r;
  if (const auto* c = o.if_contains("c"); c && c->is_int64()) r.changed_at = c->get_int64();
  if (const auto* d = o.if_contains("d"); d && d->is_bool()) r.deleted = d->get_bool();
  if (const auto* a = o.if_contains("a"); a && a->is_object()) r.attribute = a->get_object();
  return r;
}

// The number and unit of a raw record that a block can hold without loss, else nullopt.
struct Compactable {
  double value = 0;
  std::string unit;
};
std::optional<Compactable> compactable(const RawRecord& r) {
  if (r.deleted) return std::nullopt;
  Compactable out;
  bool has_value = false;
  for (const auto& [key, member] : r.attribute) {
    if (key == "type") {
      if (!member.is_string() || member.get_string() != "Property") return std::nullopt;
    } else if (key == "value") {
      auto n = number_of(member);
      if (!n || std::isnan(*n)) return std::nullopt;
      out.value = *n;
      has_value = true;
    } else if (key == "unitCode") {
      if (!member.is_string() || member.get_string().size() > 255) return std::nullopt;
      out.unit = std::string(member.get_string());
    } else if (key != "observedAt" && key != "datasetId" && key != "createdAt" && key != "modifiedAt") {
      return std::nullopt;  // a sub-attribute
    }
  }
  if (!has_value) return std::nullopt;
  return out;
}

// A stored block: [format: 1, or 2 once rolled up by retention][unitCode size][unitCode][series block].
constexpr char kRolledUpFormat = 2;

std::string block_value(const std::string& unit, std::string_view block, bool rolled_up = false) {
  std::string out;
  out.push_back(rolled_up ? kRolledUpFormat : kBlockFormat);
  out.push_back(static_cast<char>(unit.size()));
  out.append(unit);
  out.append(block);
  return out;
}
// Splits a stored block value into its unitCode and encoded series block.
bool split_block_value(std::string_view value, std::string_view& unit, std::string_view& block,
                       bool* rolled_up = nullptr) {
  if (value.size() < 2 || (value[0] != kBlockFormat && value[0] != kRolledUpFormat)) return false;
  const auto unit_size = static_cast<unsigned char>(value[1]);
  if (value.size() < 2u + unit_size) return false;
  unit = value.substr(2, unit_size);
  block = value.substr(2 + unit_size);
  if (rolled_up) *rolled_up = value[0] == kRolledUpFormat;
  return true;
}

HistoryInstance instance_from_raw(const SeriesId& series, Timestamp time, std::string_view suffix, const RawRecord& r) {
  HistoryInstance out;
  out.time = time;
  out.changed_at = r.changed_at;
  out.deleted = r.deleted;
  out.instance_id = std::string(kInstancePrefix) + hex(suffix);
  out.attribute.name = model::Term::intern(series.attribute);
  out.attribute.dataset_id = model::Term::intern(series.dataset_id);
  if (!r.deleted) {
    jsonld::DecodeOptions options;
    options.trusted = true;
    auto decoded = jsonld::decode_attribute(out.attribute.name, r.attribute, identity_context(), options);
    if (decoded && !decoded->empty()) out.attribute = std::move(decoded->front());
    if (out.attribute.kind == model::AttributeKind::Property) out.number = number_of(out.attribute.value);
  }
  return out;
}

HistoryInstance instance_from_point(const SeriesId& series, Timestamp time, double value, std::string_view unit,
                                    std::size_t ordinal) {
  HistoryInstance out;
  out.time = out.changed_at = time;
  out.number = value;
  std::string suffix;
  put_time(suffix, time);
  out.instance_id = std::string(kInstancePrefix) + hex(suffix) + "-" + std::to_string(ordinal);
  out.attribute.name = model::Term::intern(series.attribute);
  out.attribute.dataset_id = model::Term::intern(series.dataset_id);
  out.attribute.kind = model::AttributeKind::Property;
  out.attribute.value = value;
  out.attribute.observed_at = time;
  if (!unit.empty()) out.attribute.unit_code = model::Term::intern(unit);
  return out;
}

}  // namespace


HistoryStore::HistoryStore(storage::Store& store) : store_(store), counter_(std::random_device{}()) {}

HistoryStore::~HistoryStore() { stop(); }

namespace {

// A raw record's value for a plain Property (no sub-attributes, a scalar value): the common case,
// written straight and concise (a Property is what a bare value decodes to).
std::string plain_raw_value(const json::value& value, Timestamp observed_at, std::string_view unit_code,
                            std::string_view dataset_id, Timestamp created_at, Timestamp changed_at) {
  std::string record = "{\"c\":" + std::to_string(changed_at) + ",\"a\":{\"value\":";
  append_text(record, value);
  if (observed_at != kNoTimestamp) record += ",\"observedAt\":\"" + format_datetime(observed_at) + '"';
  if (!unit_code.empty()) {
    record += ",\"unitCode\":";
    append_text(record, json::value(unit_code));
  }
  if (!dataset_id.empty()) {
    record += ",\"datasetId\":";
    append_text(record, json::value(dataset_id));
  }
  if (created_at != kNoTimestamp && created_at != changed_at)
    record += ",\"createdAt\":\"" + format_datetime(created_at) + '"';
  record += "}}";
  return record;
}

bool is_plain(const model::Attribute& instance) {
  const bool scalar = instance.value.is_number() || instance.value.is_string() || instance.value.is_bool();
  return instance.kind == model::AttributeKind::Property && instance.sub_attributes.empty() && scalar;
}

// A raw record's value for `instance` written at `changed_at` (see RawRecord).
std::string raw_value(const std::string& entity_id, const model::Attribute& instance, Timestamp changed_at) {
  if (is_plain(instance))
    return plain_raw_value(instance.value, instance.observed_at, instance.unit_code.str(), instance.dataset_id.str(),
                           instance.created_at, changed_at);
  std::string record = "{\"c\":" + std::to_string(changed_at) + ",\"a\":";
  model::Entity wrapper;
  wrapper.id = entity_id;
  wrapper.attributes.push_back(instance);
  jsonld::EncodeOptions options;
  options.sys_attrs = true;
  auto encoded = jsonld::encode_entity(wrapper, identity_context(), options);
  const json::value* a = encoded.if_contains(instance.name.str());
  if (a && a->is_array() && !a->get_array().empty()) a = &a->get_array().front();
  append_text(record, a ? *a : json::value(json::object()));
  record += '}';
  return record;
}

void put_u32(std::string& out, std::uint32_t n) {
  char bytes[4];
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>(n >> (8 * (3 - i)));
  out.append(bytes, 4);
}
std::uint32_t get_u32(std::string_view bytes) {
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  return n;
}

// The key of a raw record of `series_prefix`.
std::string raw_key(std::string_view series_prefix, Timestamp time, Timestamp changed_at, std::uint32_t counter) {
  std::string key(series_prefix);
  put_time(key, time);
  key.push_back(kRawKind);
  put_time(key, changed_at);
  put_u32(key, counter);
  return key;
}

// An event record's value: a format byte (2), then per instance, in order, one entry:
//   head(1)  name  [datasetId]  [observedAt]  [createdAt]  [unitCode]  payload
// head: the payload's form in bits 0-2, and bits 3-6 say which optional fields follow.
// name: front-coded against the previous entry's (expanded names of one entity mostly share a long
//   vocabulary IRI): shared(1), varint size of the rest, the rest. datasetId and unitCode: varint
//   size, text. observedAt: zigzag varint of observedAt - change time; createdAt: zigzag varint of
//   change time - createdAt (both mostly small or 0).
// payloads (plain Properties and GeoJSON Points, binary because that is much cheaper to write than
// their raw value; everything else as its raw value):
//   kNumber   a double as a number: varint (zigzag(n) << 4 | k) when it is exactly n / 10^k,
//             k <= kMaxDecimalScale (JSON decimals: mostly 1-3 bytes), else the varint kRawNumberTag
//             and the double's 8 bytes (little-endian bits)
//   kInteger  zigzag varint of an int64
//   kPoint    count(1: 2 or 3), then each coordinate as a number
//   kJson     varint size and the raw value (as a raw record's)   kDeleted  nothing
// The record time of an entry is its observedAt, else the change time. The instance i of the
// event takes the event's counter + i.
constexpr char kEventFormat = 2;
enum EventForm : std::uint8_t { kNumber = 0, kInteger = 1, kPoint = 2, kJson = 3, kDeleted = 4 };
constexpr std::uint8_t kHasDataset = 1 << 3, kHasObserved = 1 << 4, kHasCreated = 1 << 5, kHasUnit = 1 << 6;
constexpr unsigned kMaxDecimalScale = 13;
constexpr unsigned kRawNumberTag = 15;
constexpr double kPowersOfTenUpTo13[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13};

void put_varint(std::string& out, std::uint64_t u) {
  while (u >= 0x80) {
    out.push_back(static_cast<char>(u | 0x80));
    u >>= 7;
  }
  out.push_back(static_cast<char>(u));
}
// False (and `in` unchanged) if `in` holds no complete varint of at most 64 bits.
bool get_varint(std::string_view& in, std::uint64_t& u) {
  u = 0;
  for (std::size_t i = 0; i < in.size() && i < 10; ++i) {
    const auto byte = static_cast<unsigned char>(in[i]);
    u |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      in.remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}
std::uint64_t zigzag(std::int64_t n) { return (static_cast<std::uint64_t>(n) << 1) ^ static_cast<std::uint64_t>(n >> 63); }
std::int64_t unzigzag(std::uint64_t u) { return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1); }
// Time differences modulo 2^64: no timestamp, nor a corrupt record, can overflow a signed integer.
std::int64_t wrapping_add(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}
std::int64_t wrapping_sub(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}

// A double as varint (zigzag(n) << 4 | k) when it is exactly n / 10^k (bit for bit, so the decoder's
// n / 10^k gives it back), else kRawNumberTag and its 8 bytes.
void put_number(std::string& out, double v) {
  for (unsigned k = 0; k <= kMaxDecimalScale; ++k) {
    const double n = std::nearbyint(v * kPowersOfTenUpTo13[k]);
    if (!(std::fabs(n) <= 9007199254740992.0)) break;  // 2^53; also NaN and infinities
    if (std::bit_cast<std::uint64_t>(n / kPowersOfTenUpTo13[k]) == std::bit_cast<std::uint64_t>(v)) {
      put_varint(out, zigzag(static_cast<std::int64_t>(n)) << 4 | k);
      return;
    }
  }
  out.push_back(static_cast<char>(kRawNumberTag));
  const auto bits = std::bit_cast<std::uint64_t>(v);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(bits >> (8 * i)));
}
bool get_number(std::string_view& in, double& v) {
  std::uint64_t u;
  if (!get_varint(in, u)) return false;
  const unsigned k = u & 15;
  if (k == kRawNumberTag) {
    if (u != kRawNumberTag || in.size() < 8) return false;
    std::uint64_t bits = 0;
    for (int i = 7; i >= 0; --i) bits = (bits << 8) | static_cast<unsigned char>(in[static_cast<std::size_t>(i)]);
    in.remove_prefix(8);
    v = std::bit_cast<double>(bits);
    return true;
  }
  if (k > kMaxDecimalScale) return false;
  v = static_cast<double>(unzigzag(u >> 4)) / kPowersOfTenUpTo13[k];
  return true;
}

void put_text(std::string& out, std::string_view text) {
  put_varint(out, text.size());
  out.append(text);
}
bool get_text(std::string_view& in, std::string_view& text) {
  std::uint64_t size;
  if (!get_varint(in, size) || size > in.size()) return false;
  text = in.substr(0, size);
  in.remove_prefix(size);
  return true;
}

// The coordinates of a GeoJSON Point held as doubles (2 or 3 of them), else 0.
std::size_t point_coordinates(const json::value& value, double (&xyz)[3]) {
  const auto* o = value.if_object();
  if (!o || o->size() != 2) return 0;
  const auto* type = o->if_contains("type");
  const auto* coordinates = o->if_contains("coordinates");
  if (!type || !coordinates || !type->is_string() || type->get_string() != "Point" || !coordinates->is_array()) return 0;
  const auto& a = coordinates->get_array();
  if (a.size() < 2 || a.size() > 3) return 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_double()) return 0;
    xyz[i] = a[i].get_double();
  }
  return a.size();
}

struct EventWriter {
  std::string value;
  std::string_view previous_name;
};
void put_name(EventWriter& event, std::string_view name) {
  std::size_t shared = 0;
  const std::size_t most = std::min({name.size(), event.previous_name.size(), std::size_t{255}});
  while (shared < most && name[shared] == event.previous_name[shared]) ++shared;
  event.previous_name = name;
  event.value.push_back(static_cast<char>(shared));
  put_text(event.value, name.substr(shared));
}
void append_event_head(EventWriter& event, std::uint8_t form, const model::Attribute& instance, Timestamp changed_at) {
  std::string& out = event.value;
  std::uint8_t head = form;
  if (!instance.dataset_id.empty()) head |= kHasDataset;
  if (instance.observed_at != kNoTimestamp) head |= kHasObserved;
  if (instance.created_at != kNoTimestamp) head |= kHasCreated;
  if (!instance.unit_code.empty()) head |= kHasUnit;
  out.push_back(static_cast<char>(head));
  put_name(event, instance.name.str());
  if (head & kHasDataset) put_text(out, instance.dataset_id.str());
  if (head & kHasObserved) put_varint(out, zigzag(wrapping_sub(instance.observed_at, changed_at)));
  if (head & kHasCreated) put_varint(out, zigzag(wrapping_sub(changed_at, instance.created_at)));
  if (head & kHasUnit) put_text(out, instance.unit_code.str());
}
// An instance of `entity_id` written by the change.
void append_event_entry(EventWriter& event, const std::string& entity_id, const model::Attribute& instance,
                        Timestamp changed_at) {
  std::string& out = event.value;
  const bool plain = instance.sub_attributes.empty();
  double xyz[3];
  std::size_t points = 0;
  if (plain && instance.kind == model::AttributeKind::Property && instance.value.is_double()) {
    const double v = instance.value.get_double();
    append_event_head(event, kNumber, instance, changed_at);
    put_number(out, v);
  } else if (plain && instance.kind == model::AttributeKind::Property && instance.value.is_int64()) {
    append_event_head(event, kInteger, instance, changed_at);
    put_varint(out, zigzag(instance.value.get_int64()));
  } else if (plain && instance.kind == model::AttributeKind::GeoProperty &&
             (points = point_coordinates(instance.value, xyz)) > 0) {
    append_event_head(event, kPoint, instance, changed_at);
    out.push_back(static_cast<char>(points));
    for (std::size_t i = 0; i < points; ++i) put_number(out, xyz[i]);
  } else {
    append_event_head(event, kJson, instance, changed_at);
    put_text(out, raw_value(entity_id, instance, changed_at));
  }
}
void append_deleted_entry(EventWriter& event, std::string_view name, std::string_view dataset) {
  event.value.push_back(static_cast<char>(kDeleted | (dataset.empty() ? 0 : kHasDataset)));
  put_name(event, name);
  if (!dataset.empty()) put_text(event.value, dataset);
}

// A raw record's value for a GeoJSON Point (see RawRecord), like the one encode_entity writes.
std::string point_raw_value(const double* xyz, std::size_t count, Timestamp observed_at, std::string_view unit_code,
                            std::string_view dataset_id, Timestamp created_at, Timestamp changed_at) {
  json::array coordinates;
  for (std::size_t i = 0; i < count; ++i) coordinates.push_back(xyz[i]);
  json::object a{{"type", "GeoProperty"}, {"value", json::object{{"type", "Point"}, {"coordinates", std::move(coordinates)}}}};
  if (observed_at != kNoTimestamp) a["observedAt"] = format_datetime(observed_at);
  if (!unit_code.empty()) a["unitCode"] = unit_code;
  if (!dataset_id.empty()) a["datasetId"] = dataset_id;
  if (created_at != kNoTimestamp) a["createdAt"] = format_datetime(created_at);
  std::string record = "{\"c\":" + std::to_string(changed_at) + ",\"a\":";
  append_text(record, a);
  record += '}';
  return record;
}

struct EventEntry {
  std::string attribute;
  std::string_view dataset;
  Timestamp time = 0;
  std::string raw;
};
// Visits the entries of an event record changed at `changed_at`; false if it is malformed.
bool for_each_event_entry(std::string_view event, Timestamp changed_at,
                          const std::function<void(const EventEntry&)>& visit) {
  if (event.empty() || event[0] != kEventFormat) return false;
  event.remove_prefix(1);
  std::string previous_name;
  while (!event.empty()) {
    EventEntry e;
    const auto head = static_cast<std::uint8_t>(event[0]);
    if (event.size() < 2) return false;
    const std::size_t shared = static_cast<unsigned char>(event[1]);
    if (shared > previous_name.size()) return false;
    event.remove_prefix(2);
    std::string_view rest_of_name, unit;
    if (!get_text(event, rest_of_name)) return false;
    e.attribute = previous_name.substr(0, shared).append(rest_of_name);
    previous_name = e.attribute;
    std::uint64_t u;
    if ((head & kHasDataset) && !get_text(event, e.dataset)) return false;
    Timestamp observed_at = kNoTimestamp, created_at = kNoTimestamp;
    if (head & kHasObserved) {
      if (!get_varint(event, u)) return false;
      observed_at = wrapping_add(changed_at, unzigzag(u));
    }
    if (head & kHasCreated) {
      if (!get_varint(event, u)) return false;
      created_at = wrapping_sub(changed_at, unzigzag(u));
    }
    if ((head & kHasUnit) && !get_text(event, unit)) return false;
    e.time = observed_at != kNoTimestamp ? observed_at : changed_at;
    switch (head & 7) {
      case kNumber: {
        double v;
        if (!get_number(event, v)) return false;
        e.raw = plain_raw_value(v, observed_at, unit, e.dataset, created_at, changed_at);
        break;
      }
      case kInteger:
        if (!get_varint(event, u)) return false;
        e.raw = plain_raw_value(unzigzag(u), observed_at, unit, e.dataset, created_at, changed_at);
        break;
      case kPoint: {
        if (event.empty()) return false;
        const std::size_t count = static_cast<unsigned char>(event[0]);
        if (count < 2 || count > 3) return false;
        event.remove_prefix(1);
        double xyz[3];
        for (std::size_t i = 0; i < count; ++i)
          if (!get_number(event, xyz[i])) return false;
        e.raw = point_raw_value(xyz, count, observed_at, unit, e.dataset, created_at, changed_at);
        break;
      }
      case kJson: {
        std::string_view raw;
        if (!get_text(event, raw)) return false;
        e.raw = std::string(raw);
        break;
      }
      case kDeleted:
        e.time = changed_at;
        e.raw = "{\"c\":" + std::to_string(changed_at) + ",\"d\":true}";
        break;
      default:
        return false;
    }
    visit(e);
  }
  return true;
}

}  // namespace

void HistoryStore::record_instance(const std::string& tenant, const std::string& entity_id,
                                   const model::Attribute& instance, Timestamp changed_at,
                                   std::vector<storage::Write>& writes) {
  const SeriesId series{entity_id, std::string(instance.name.str()), std::string(instance.dataset_id.str())};
  const Timestamp time = instance.observed_at != kNoTimestamp ? instance.observed_at : changed_at;
  std::string key = raw_key(series_prefix(tenant, series), time, changed_at, counter_.fetch_add(1));
  mark_dirty('S' + entity_part(tenant, entity_id), time);  // the compactor's next pass looks from this day on
  writes.push_back({storage::Collection::History, std::move(key), raw_value(entity_id, instance, changed_at)});
  records_written_.fetch_add(1, std::memory_order_relaxed);
}

void HistoryStore::record_backfill(const std::string& tenant, const std::string& entity_id,
                                   const model::Attribute& instance, Timestamp now, std::vector<storage::Write>& writes) {
  if (instance.observed_at == kNoTimestamp) return record_instance(tenant, entity_id, instance, now, writes);
  const SeriesId series{entity_id, std::string(instance.name.str()), std::string(instance.dataset_id.str())};
  const Timestamp time = instance.observed_at;
  std::string value = raw_value(entity_id, instance, time);
  std::string key = raw_key(series_prefix(tenant, series), time, time, crc32c(value));
  mark_dirty('S' + entity_part(tenant, entity_id), time);
  writes.push_back({storage::Collection::History, std::move(key), std::move(value)});
  records_written_.fetch_add(1, std::memory_order_relaxed);
}

void HistoryStore::mark_dirty(std::string_view entity_series_prefix, Timestamp earliest) const {
  std::lock_guard lock(dirty_mutex_);
  auto it = dirty_.find(entity_series_prefix);
  if (it == dirty_.end()) dirty_.emplace(std::string(entity_series_prefix), earliest);
  else it->second = std::min(it->second, earliest);
}

void HistoryStore::contribute(const twin::ChangeEvent& event, std::vector<storage::Write>& writes) {
  if (event.origin == twin::Origin::TemporalBackfill || !event.entity) return;
  const model::Entity& entity = *event.entity;
  EventWriter value;
  value.value.reserve(256);
  value.value.push_back(kEventFormat);
  std::uint32_t entries = 0;
  for (const auto& [name, dataset] : event.written) {
    const auto* instance = entity.find(name, dataset);
    if (!instance) continue;
    append_event_entry(value, entity.id, *instance, event.at);
    ++entries;
  }
  for (const auto& [name, dataset] : event.removed) {
    append_deleted_entry(value, name.str(), dataset.str());
    ++entries;
  }
  if (entries == 0) return;
  std::string key;
  key.reserve(event.tenant.size() + entity.id.size() + 15);
  key.push_back('E');
  key.append(event.tenant).push_back('\0');
  key.append(entity.id).push_back('\0');
  put_time(key, event.at);
  put_u32(key, counter_.fetch_add(entries));
  writes.push_back({storage::Collection::History, std::move(key), std::move(value.value)});
  records_written_.fetch_add(entries, std::memory_order_relaxed);
}

Status HistoryStore::materialize(const std::string& event_prefix, Timestamp changed_before) const {
  std::lock_guard lock(rewrite_mutex_);
  constexpr std::size_t kEventsPerGroup = 1000;
  std::vector<storage::Write> writes;
  std::size_t events = 0;
  storage::Sequence last = 0;
  std::unordered_map<std::string, Timestamp> earliest;  // per entity ('S' + entity part), to re-mark dirty
  auto st = store_.scan(storage::Collection::History, event_prefix, [&](std::string_view key, std::string_view value) {
    // 'E' tenant \0 entity \0 changedAt(8) counter(4)
    const auto tenant_end = key.find('\0', 1);
    const auto entity_end = tenant_end == std::string_view::npos ? tenant_end : key.find('\0', tenant_end + 1);
    if (entity_end == std::string_view::npos || key.size() != entity_end + 1 + 12) return true;
    const std::string_view entity = key.substr(1, entity_end);  // tenant \0 entity \0
    const Timestamp changed_at = get_time(key.substr(entity_end + 1));
    if (changed_at >= changed_before) return true;
    std::uint32_t counter = get_u32(key.substr(entity_end + 9));
    const std::string entity_prefix = 'S' + std::string(entity);
    Timestamp& mark = earliest.try_emplace(entity_prefix, std::numeric_limits<Timestamp>::max()).first->second;
    const bool ok = for_each_event_entry(value, changed_at, [&](const EventEntry& e) {
      std::string prefix = entity_prefix;
      prefix.append(e.attribute).push_back('\0');
      prefix.append(e.dataset).push_back('\0');
      writes.push_back({storage::Collection::History, raw_key(prefix, e.time, changed_at, counter++), e.raw});
      mark = std::min(mark, e.time);
    });
    if (!ok) spdlog::warn("history: a malformed event record was dropped");
    writes.push_back({storage::Collection::History, std::string(key), std::nullopt});
    if (++events >= kEventsPerGroup) {  // every event whole in one group
      last = store_.enqueue(std::move(writes));
      writes.clear();
      events = 0;
    }
    return true;
  });
  if (!st) return st;
  if (!writes.empty()) last = store_.enqueue(std::move(writes));
  if (last == 0) return {};
  if (auto durable = store_.wait_durable(last); !durable) return durable;
  for (const auto& [entity, time] : earliest) mark_dirty(entity, time);
  return {};
}

Status HistoryStore::materialize_entity(const std::string& tenant, const std::string& entity_id) const {
  return materialize('E' + entity_part(tenant, entity_id));
}

Status HistoryStore::pending_raws(const std::string& tenant, const std::string& entity_id,
                                  const std::function<void(PendingRaw&&)>& visit) const {
  const std::string prefix = 'E' + entity_part(tenant, entity_id);
  return store_.scan(storage::Collection::History, prefix, [&](std::string_view key, std::string_view value) {
    if (key.size() != prefix.size() + 12) return true;  // changedAt(8) counter(4)
    const Timestamp changed_at = get_time(key.substr(prefix.size()));
    std::uint32_t counter = get_u32(key.substr(prefix.size() + 8));
    const bool ok = for_each_event_entry(value, changed_at, [&](const EventEntry& e) {
      PendingRaw pending{e.attribute, std::string(e.dataset), e.time, {}, e.raw};
      put_time(pending.suffix, e.time);
      pending.suffix.push_back(kRawKind);
      put_time(pending.suffix, changed_at);
      put_u32(pending.suffix, counter++);
      visit(std::move(pending));
    });
    if (!ok) spdlog::warn("history: a malformed event record was skipped");
    return true;
  });
}

Status HistoryStore::for_each_series(const std::string& prefix,
                                     const std::function<void(const std::string& series_prefix)>& visit) const {
  // The smallest key after every key that starts with `prefix`.
  std::string end = prefix;
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (end.empty()) end = std::string(1, '\xff');
  else end.back() = static_cast<char>(end.back() + 1);
  std::string begin = prefix;
  for (;;) {
    std::string series;
    auto st = store_.scan_range(storage::Collection::History, begin, end, [&](std::string_view key, std::string_view) {
      // 'S' tenant \0 entity \0 attribute \0 datasetId \0: the first four zero bytes end the series.
      std::size_t pos = 1;
      for (int i = 0; i < 4 && pos != std::string_view::npos; ++i) {
        pos = key.find('\0', pos);
        if (pos != std::string_view::npos) ++pos;
      }
      if (pos != std::string_view::npos) series = std::string(key.substr(0, pos));
      return false;
    });
    if (!st) return st;
    if (series.empty()) return {};
    visit(series);
    begin = series;
    begin.back() = '\x01';  // past every key of this series (names hold no zero byte)
  }
}

Result<std::vector<SeriesId>> HistoryStore::series_of(const std::string& tenant, const std::string& entity_id) const {
  std::shared_lock lock(rewrite_mutex_);
  // attribute \0 datasetId, which sorts as the series keys do (names hold no zero byte)
  std::set<std::string> names;
  auto st = pending_raws(tenant, entity_id, [&](PendingRaw&& p) { names.insert(p.attribute + '\0' + p.dataset); });
  if (!st) return st.problem();
  const std::string prefix = 'S' + entity_part(tenant, entity_id);
  st = for_each_series(prefix, [&](const std::string& series) {
    const std::string_view rest = std::string_view(series).substr(prefix.size());
    if (rest.size() >= 2) names.insert(std::string(rest.substr(0, rest.size() - 1)));  // without the last \0
  });
  if (!st) return st.problem();
  std::vector<SeriesId> out;
  for (const auto& name : names) {
    const auto zero = name.find('\0');
    if (zero == std::string::npos) continue;
    out.push_back({entity_id, name.substr(0, zero), name.substr(zero + 1)});
  }
  return out;
}

Status HistoryStore::read(const std::string& tenant, const SeriesId& series, Timestamp from, Timestamp to,
                          const std::function<void(const HistoryInstance&)>& visit, std::size_t limit) const {
  if (from >= to) return {};
  std::shared_lock lock(rewrite_mutex_);
  std::vector<HistoryInstance> pending;
  std::set<std::string> pending_suffixes;
  auto pending_st = pending_raws(tenant, series.entity_id, [&](PendingRaw&& p) {
    if (p.attribute != series.attribute || p.dataset != series.dataset_id || p.time < from || p.time >= to) return;
    if (auto raw = parse_raw(p.raw)) pending.push_back(instance_from_raw(series, p.time, p.suffix, *raw));
    pending_suffixes.insert(std::move(p.suffix));
  });
  if (!pending_st) return pending_st;
  // Keys come in day order (a day's block first, then its raws), so once `limit` instances are
  // found, finishing the day at hand makes the first `limit` in time order final (the unsplit
  // ones are all in `pending`, merged afterwards).
  std::optional<Timestamp> last_day;
  const std::string prefix = series_prefix(tenant, series);
  std::string begin = prefix, end = prefix;
  put_time(begin, day_of(from));
  put_time(end, to);
  std::vector<HistoryInstance> found;
  Status failure;
  auto st = store_.scan_range(storage::Collection::History, begin, end, [&](std::string_view key, std::string_view value) {
    const auto suffix = key.substr(prefix.size());
    if (suffix.size() < 9) return true;
    const Timestamp time = get_time(suffix);
    if (last_day && day_of(time) > *last_day) return false;
    if (!last_day && found.size() >= limit) last_day = day_of(time);
    if (suffix[8] == kBlockKind) {
      std::string_view unit, block;
      if (!split_block_value(value, unit, block)) {
        failure = Problem{ProblemKind::InternalError, "history: a malformed block"};
        return false;
      }
      auto reader = SeriesBlockReader::open(block);
      if (!reader) {
        failure = reader.problem();
        return false;
      }
      Timestamp t, previous = kNoTimestamp;
      double v;
      std::size_t same_time = 0;  // the ordinal of a point among those of its time: stable across merges
      while (reader->next(t, v)) {
        same_time = t == previous ? same_time + 1 : 0;
        previous = t;
        if (t >= from && t < to) found.push_back(instance_from_point(series, t, v, unit, same_time));
      }
      if (!reader->status()) failure = reader->status();
      return static_cast<bool>(failure);
    }
    if (time < from || pending_suffixes.contains(std::string(suffix))) return true;
    auto raw = parse_raw(value);
    if (raw) found.push_back(instance_from_raw(series, time, suffix, *raw));
    return true;
  });
  if (!st) return st;
  if (!failure) return failure;
  found.insert(found.end(), std::make_move_iterator(pending.begin()), std::make_move_iterator(pending.end()));
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.time < b.time; });
  if (found.size() > limit) found.resize(limit);
  for (const auto& instance : found) visit(instance);
  return {};
}

Status HistoryStore::read_numeric(const std::string& tenant, const SeriesId& series, Timestamp from, Timestamp to,
                                  const std::function<void(std::string_view block)>& block_visit,
                                  const std::function<void(const HistoryInstance&)>& other) const {
  if (from >= to) return {};
  std::shared_lock lock(rewrite_mutex_);
  auto visit_raw = [&](Timestamp time, std::string_view suffix, const RawRecord& raw) {
    if (raw.deleted) return;
    if (auto c = compactable(raw)) {
      HistoryInstance instance;
      instance.time = time;
      instance.changed_at = raw.changed_at;
      instance.number = c->value;
      other(instance);
    } else {
      other(instance_from_raw(series, time, suffix, raw));
    }
  };
  std::set<std::string> pending_suffixes;
  auto pending_st = pending_raws(tenant, series.entity_id, [&](PendingRaw&& p) {
    if (p.attribute != series.attribute || p.dataset != series.dataset_id || p.time < from || p.time >= to) return;
    if (auto raw = parse_raw(p.raw)) visit_raw(p.time, p.suffix, *raw);
    pending_suffixes.insert(std::move(p.suffix));
  });
  if (!pending_st) return pending_st;
  const std::string prefix = series_prefix(tenant, series);
  std::string begin = prefix, end = prefix;
  put_time(begin, day_of(from));
  put_time(end, to);
  Status failure;
  auto st = store_.scan_range(storage::Collection::History, begin, end, [&](std::string_view key, std::string_view value) {
    const auto suffix = key.substr(prefix.size());
    if (suffix.size() < 9) return true;
    const Timestamp time = get_time(suffix);
    if (suffix[8] == kBlockKind) {
      std::string_view unit, block;
      if (!split_block_value(value, unit, block)) {
        failure = Problem{ProblemKind::InternalError, "history: a malformed block"};
        return false;
      }
      block_visit(block);
      return true;
    }
    if (time < from || pending_suffixes.contains(std::string(suffix))) return true;
    if (auto raw = parse_raw(value)) visit_raw(time, suffix, *raw);
    return true;
  });
  if (!st) return st;
  return failure;
}

Status HistoryStore::numeric_points(const std::string& tenant, const std::string& entity_id,
                                    const std::string& attribute, Timestamp from, Timestamp to,
                                    const std::function<void(Timestamp, double)>& visit) const {
  auto all = series_of(tenant, entity_id);
  if (!all) return all.problem();
  std::vector<SeriesPoint> points;
  for (const auto& series : *all) {
    if (series.attribute != attribute) continue;
    Status failure;
    auto st = read_numeric(
        tenant, series, from, to,
        [&](std::string_view block) {
          auto decoded = decode_block(block);
          if (!decoded) {
            failure = decoded.problem();
            return;
          }
          for (const auto& p : *decoded)
            if (p.time >= from && p.time < to) points.push_back(p);
        },
        [&](const HistoryInstance& instance) {
          if (instance.number) points.push_back({instance.time, *instance.number});
        });
    if (!st) return st;
    if (!failure) return failure;
  }
  std::stable_sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.time < b.time; });
  for (const auto& p : points) visit(p.time, p.value);
  return {};
}

Status HistoryStore::delete_prefix(const std::string& prefix) {
  std::vector<storage::Write> writes;
  auto st = store_.scan(storage::Collection::History, prefix, [&](std::string_view key, std::string_view) {
    writes.push_back({storage::Collection::History, std::string(key), std::nullopt});
    return true;
  });
  if (!st) return st;
  if (writes.empty()) return {};
  return store_.wait_durable(store_.enqueue(std::move(writes)));
}

Status HistoryStore::delete_entity(const std::string& tenant, const std::string& entity_id) {
  std::lock_guard lock(rewrite_mutex_);
  if (auto st = delete_prefix('E' + entity_part(tenant, entity_id)); !st) return st;
  return delete_prefix('S' + entity_part(tenant, entity_id));
}

Status HistoryStore::delete_attribute(const std::string& tenant, const std::string& entity_id,
                                      const std::string& attribute, const std::optional<std::string>& dataset_id) {
  if (auto st = materialize_entity(tenant, entity_id); !st) return st;
  std::lock_guard lock(rewrite_mutex_);
  if (dataset_id) {
    return delete_prefix(series_prefix(tenant, SeriesId{entity_id, attribute, *dataset_id}));
  }
  std::string part = entity_part(tenant, entity_id);
  part.append(attribute).push_back('\0');
  return delete_prefix('S' + part);
}

Status HistoryStore::delete_instance(const std::string& tenant, const std::string& entity_id,
                                     const std::string& attribute, const std::string& instance_id) {
  if (!instance_id.starts_with(kInstancePrefix)) return not_found("instance " + instance_id + " was not found");
  std::string_view code = std::string_view(instance_id).substr(kInstancePrefix.size());
  std::optional<std::size_t> ordinal;
  if (const auto b = code.find('-'); b != std::string_view::npos) {
    try {
      ordinal = std::stoul(std::string(code.substr(b + 1)));
    } catch (...) {
      return not_found("instance " + instance_id + " was not found");
    }
    code = code.substr(0, b);
  }
  auto suffix = unhex(code);
  if (!suffix || suffix->size() < 8) return not_found("instance " + instance_id + " was not found");
  if (auto st = materialize_entity(tenant, entity_id); !st) return st;  // the instance may be in an event
  auto all = series_of(tenant, entity_id);
  if (!all) return all.problem();
  std::lock_guard lock(rewrite_mutex_);
  for (const auto& series : *all) {
    if (series.attribute != attribute) continue;
    const std::string prefix = series_prefix(tenant, series);
    if (!ordinal) {
      const std::string key = prefix + *suffix;
      auto existing = store_.get(storage::Collection::History, key);
      if (!existing) return existing.problem();
      if (!*existing) continue;
      return store_.wait_durable(store_.enqueue({{storage::Collection::History, key, std::nullopt}}));
    }
    const Timestamp time = get_time(*suffix);
    std::string key = prefix;
    put_time(key, day_of(time));
    key.push_back(kBlockKind);
    auto existing = store_.get(storage::Collection::History, key);
    if (!existing) return existing.problem();
    if (!*existing) continue;
    std::string_view unit, block;
    if (!split_block_value(**existing, unit, block)) return Problem{ProblemKind::InternalError, "history: a malformed block"};
    auto points = decode_block(block);
    if (!points) return points.problem();
    auto victim = std::find_if(points->begin(), points->end(), [&, n = *ordinal](const SeriesPoint& p) mutable {
      return p.time == time && n-- == 0;
    });
    if (victim == points->end()) continue;
    points->erase(victim);
    std::optional<std::string> rewritten;
    if (!points->empty()) {
      SeriesBlockBuilder builder;
      for (const auto& p : *points)
        if (auto st = builder.append(p.time, p.value); !st) return st;
      rewritten = block_value(std::string(unit), builder.finish());
    }
    return store_.wait_durable(store_.enqueue({{storage::Collection::History, key, std::move(rewritten)}}));
  }
  return not_found("instance " + instance_id + " of " + attribute + " was not found");
}

Status HistoryStore::compact_series(const std::string& prefix, Timestamp from, Timestamp cutoff,
                                    CompactionStats& stats) {
  std::lock_guard lock(rewrite_mutex_);
  std::string begin = prefix, end = prefix;
  if (from > kEarliest) put_time(begin, day_of(from));
  put_time(end, cutoff);
  struct Day {
    std::string block_key;
    std::optional<std::string> block;
    std::vector<std::string> raw_keys;
    std::vector<SeriesPoint> points;
    std::string unit;
    bool compactable = true;
  };
  std::vector<Day> days;
  Timestamp current_day = 0;
  auto st = store_.scan_range(storage::Collection::History, begin, end, [&](std::string_view key, std::string_view value) {
    const auto suffix = key.substr(prefix.size());
    if (suffix.size() < 9) return true;
    const Timestamp day = day_of(get_time(suffix));
    if (days.empty() || day != current_day) {
      days.emplace_back();
      current_day = day;
      days.back().block_key = prefix;
      put_time(days.back().block_key, day);
      days.back().block_key.push_back(kBlockKind);
    }
    Day& d = days.back();
    if (!d.compactable) return true;
    if (suffix[8] == kBlockKind) {
      d.block = std::string(value);
      return true;
    }
    auto raw = parse_raw(value);
    auto c = raw ? compactable(*raw) : std::nullopt;
    if (!c || (!d.raw_keys.empty() && c->unit != d.unit)) {
      d.compactable = false;
      return true;
    }
    d.unit = c->unit;
    d.raw_keys.emplace_back(key);
    d.points.push_back({get_time(suffix), c->value});
    return true;
  });
  if (!st) return st;
  storage::Sequence last = 0;
  std::size_t deleted = 0;
  for (auto& d : days) {
    if (!d.compactable || d.raw_keys.empty()) continue;
    if (d.block) {
      std::string_view unit, block;
      if (!split_block_value(*d.block, unit, block) || unit != d.unit) continue;
      auto old = decode_block(block);
      if (!old) continue;
      d.points.insert(d.points.end(), old->begin(), old->end());
    }
    if (d.points.size() > kMaxBlockPoints) continue;
    std::stable_sort(d.points.begin(), d.points.end(), [](const auto& a, const auto& b) { return a.time < b.time; });
    SeriesBlockBuilder builder;
    bool ok = true;
    for (const auto& p : d.points) ok = ok && builder.append(p.time, p.value);
    if (!ok) continue;
    std::vector<storage::Write> writes;
    writes.push_back({storage::Collection::History, d.block_key, block_value(d.unit, builder.finish())});
    for (auto& key : d.raw_keys) writes.push_back({storage::Collection::History, std::move(key), std::nullopt});
    stats.raws_compacted += d.raw_keys.size();
    deleted += d.raw_keys.size();
    ++stats.blocks_written;
    last = store_.enqueue(std::move(writes));  // one group: the block and the deletion of its raws
  }
  if (last == 0) return {};
  if (auto durable = store_.wait_durable(last); !durable) return durable;
  // A bulk of deletions (a back-fill compacted at once): have the store drop their tombstones now,
  // so that scans of this series do not step over them until the store's own compaction comes.
  if (deleted >= kReclaimAfterDeletions) store_.reclaim(storage::Collection::History, prefix, end);
  return {};
}

Result<CompactionStats> HistoryStore::compact(Timestamp now, std::int64_t grace_ms) {
  const Timestamp cutoff = day_of(now - grace_ms);
  CompactionStats stats;
  // The changes older than the grace become raws first. Recording does not mark entities (that
  // costs a hash lookup per change on the ingest path); splitting marks them, here or in a reader.
  if (auto st = materialize("E", now - grace_ms); !st) return st.problem();
  // The entities to look at, from the earliest raw each may have before the cutoff. The first pass
  // looks at everything (raws written before a restart); later ones only at what was recorded since.
  std::vector<std::pair<std::string, Timestamp>> entities;
  {
    std::lock_guard lock(dirty_mutex_);
    if (!full_pass_done_) {
      full_pass_done_ = true;
      std::string last;
      auto st = for_each_series("S", [&](const std::string& series) {
        // 'S' tenant \0 entity \0 ...: the entity part ends at the second zero byte.
        const auto entity_end = series.find('\0', series.find('\0') + 1) + 1;
        std::string entity = series.substr(0, entity_end);
        if (entity != last) entities.emplace_back(entity, kEarliest);
        last = std::move(entity);
      });
      if (!st) return st.problem();
    } else {
      for (auto& [entity, earliest] : dirty_)
        if (earliest < cutoff) entities.emplace_back(entity, earliest);
    }
    // Claimed up to the cutoff: raws recorded from now on lower the mark again.
    for (const auto& [entity, earliest] : entities) dirty_[entity] = cutoff;
  }
  for (const auto& [entity, earliest] : entities) {
    std::vector<std::string> prefixes;
    if (auto st = for_each_series(entity, [&](const std::string& series) { prefixes.push_back(series); }); !st)
      return st.problem();
    for (const auto& prefix : prefixes)
      if (auto st = compact_series(prefix, earliest, cutoff, stats); !st) return st.problem();
  }
  return stats;
}

namespace {

std::string policy_key(const std::string& tenant, const std::string& type) { return 'C' + tenant + '\0' + type; }

}  // namespace

Status HistoryStore::load_retention() {
  std::map<std::pair<std::string, std::string>, RetentionPolicy> loaded;
  auto st = store_.scan(storage::Collection::History, "C", [&](std::string_view key, std::string_view value) {
    const auto rest = key.substr(1);
    const auto zero = rest.find('\0');
    auto parsed = parse_json(value);
    if (zero == std::string_view::npos || !parsed || !parsed->is_object()) return true;
    const auto& o = parsed->get_object();
    auto field = [&](const char* name) -> std::int64_t {
      const auto* v = o.if_contains(name);
      return v && v->is_int64() ? v->get_int64() : 0;
    };
    loaded[{std::string(rest.substr(0, zero)), std::string(rest.substr(zero + 1))}] =
        RetentionPolicy{field("keepRaw"), field("rollUp"), field("keepRollUps")};
    return true;
  });
  if (!st) return st;
  std::lock_guard lock(retention_mutex_);
  policies_ = std::move(loaded);
  return {};
}

Status HistoryStore::set_retention(const std::string& tenant, const std::string& type,
                                   const std::optional<RetentionPolicy>& policy) {
  if (policy) {
    if (policy->keep_raw_ms <= 0) return bad_request("keepRaw must be a positive duration");
    if (policy->roll_up_ms < 0 || policy->roll_up_ms > kBucketMs ||
        (policy->roll_up_ms > 0 && kBucketMs % policy->roll_up_ms != 0))
      return bad_request("rollUp must divide a day evenly (PT1M, PT15M, PT1H, P1D, ...)");
    if (policy->keep_roll_ups_ms < 0 || (policy->keep_roll_ups_ms > 0 && policy->keep_roll_ups_ms < policy->keep_raw_ms))
      return bad_request("keepRollUps must not be shorter than keepRaw");
    if (policy->keep_roll_ups_ms > 0 && policy->roll_up_ms == 0)
      return bad_request("keepRollUps needs rollUp");
  }
  std::lock_guard lock(retention_mutex_);
  std::optional<std::string> value;
  if (policy) {
    value = to_text(json::object{
        {"keepRaw", policy->keep_raw_ms}, {"rollUp", policy->roll_up_ms}, {"keepRollUps", policy->keep_roll_ups_ms}});
  }
  auto st = store_.wait_durable(store_.enqueue({{storage::Collection::History, policy_key(tenant, type), value}}));
  if (!st) return st;
  if (policy) policies_[{tenant, type}] = *policy;
  else policies_.erase({tenant, type});
  return {};
}

std::vector<std::pair<std::string, RetentionPolicy>> HistoryStore::retention(const std::string& tenant) const {
  std::lock_guard lock(retention_mutex_);
  std::vector<std::pair<std::string, RetentionPolicy>> out;
  for (const auto& [key, policy] : policies_)
    if (key.first == tenant) out.emplace_back(key.second, policy);
  return out;
}

Status HistoryStore::retain_series(const std::string& prefix, const RetentionPolicy& policy, Timestamp now,
                                   RetentionStats& stats) {
  std::lock_guard lock(rewrite_mutex_);
  const Timestamp raw_cutoff = day_of(now - policy.keep_raw_ms);  // whole days before it are old
  const Timestamp drop_cutoff = policy.roll_up_ms == 0          ? raw_cutoff
                                : policy.keep_roll_ups_ms > 0 ? day_of(now - policy.keep_roll_ups_ms)
                                                              : kEarliest;
  std::string end = prefix;
  put_time(end, raw_cutoff);
  std::vector<storage::Write> writes;
  Status failure;
  auto st = store_.scan_range(storage::Collection::History, prefix, end, [&](std::string_view key, std::string_view value) {
    const auto suffix = key.substr(prefix.size());
    if (suffix.size() < 9) return true;
    if (get_time(suffix) < drop_cutoff) {
      writes.push_back({storage::Collection::History, std::string(key), std::nullopt});
      ++stats.records_deleted;
      return true;
    }
    if (suffix[8] != kBlockKind) return true;
    std::string_view unit, block;
    bool rolled_up = false;
    if (!split_block_value(value, unit, block, &rolled_up) || rolled_up) return true;
    auto points = decode_block(block);
    if (!points) return true;  // a corrupt block is left for a reader to report
    // One point per period: the mean of its points, at its start.
    SeriesBlockBuilder builder;
    for (std::size_t i = 0; i < points->size();) {
      const Timestamp period = day_of((*points)[i].time) +
                               ((*points)[i].time - day_of((*points)[i].time)) / policy.roll_up_ms * policy.roll_up_ms;
      double sum = 0;
      std::size_t n = 0;
      for (; i < points->size() && (*points)[i].time < period + policy.roll_up_ms; ++i, ++n) sum += (*points)[i].value;
      if (auto added = builder.append(period, sum / static_cast<double>(n)); !added) {
        failure = added;
        return false;
      }
    }
    writes.push_back({storage::Collection::History, std::string(key), block_value(std::string(unit), builder.finish(), true)});
    ++stats.days_rolled_up;
    return true;
  });
  if (!st) return st;
  if (!failure) return failure;
  if (writes.empty()) return {};
  return store_.wait_durable(store_.enqueue(std::move(writes)));
}

Result<RetentionStats> HistoryStore::apply_retention(Timestamp now) {
  RetentionStats stats;
  {
    std::lock_guard lock(retention_mutex_);
    if (policies_.empty()) return stats;
  }
  if (auto st = materialize("E"); !st) return st.problem();
  std::vector<std::string> index_keys;
  auto st = for_each_series("S", [&](const std::string& series) { index_keys.push_back(series.substr(0, series.size() - 1)); });
  if (!st) return st.problem();
  std::string last_entity;
  std::vector<std::string> types;
  for (const auto& key : index_keys) {
    const std::string_view rest = std::string_view(key).substr(1);
    const auto tenant_end = rest.find('\0');
    const auto entity_end = rest.find('\0', tenant_end + 1);
    if (entity_end == std::string_view::npos) continue;
    const std::string tenant(rest.substr(0, tenant_end));
    const std::string entity(rest.substr(tenant_end + 1, entity_end - tenant_end - 1));
    if (std::string(rest.substr(0, entity_end)) != last_entity) {
      last_entity = std::string(rest.substr(0, entity_end));
      types = types_of_ ? types_of_(tenant, entity) : std::vector<std::string>();
    }
    std::optional<RetentionPolicy> policy;
    {
      std::lock_guard lock(retention_mutex_);
      for (const auto& type : types)
        if (auto it = policies_.find({tenant, type}); it != policies_.end()) policy = it->second;
      if (!policy)
        if (auto it = policies_.find({tenant, std::string(kAnyType)}); it != policies_.end()) policy = it->second;
    }
    if (!policy) continue;
    if (auto s = retain_series('S' + std::string(rest) + '\0', *policy, now, stats); !s) return s.problem();
  }
  return stats;
}

void HistoryStore::start(std::int64_t interval_ms, std::int64_t grace_ms, std::int64_t retention_interval_ms) {
  compactor_ = std::thread([this, interval_ms, grace_ms, retention_interval_ms] {
    std::unique_lock lock(thread_mutex_);
    Timestamp last_retention = kEarliest;
    while (!stopping_) {
      lock.unlock();
      auto stats = compact(now_ms(), grace_ms);
      if (!stats) spdlog::warn("history compaction: {}", stats.problem().detail);
      else if (stats->blocks_written > 0)
        spdlog::debug("history compaction: {} blocks from {} records", stats->blocks_written, stats->raws_compacted);
      if (now_ms() - last_retention >= retention_interval_ms) {
        last_retention = now_ms();
        auto retained = apply_retention(last_retention);
        if (!retained) spdlog::warn("history retention: {}", retained.problem().detail);
        else if (retained->days_rolled_up + retained->records_deleted > 0)
          spdlog::debug("history retention: {} days rolled up, {} records deleted", retained->days_rolled_up,
                        retained->records_deleted);
      }
      lock.lock();
      wake_.wait_for(lock, std::chrono::milliseconds(interval_ms), [this] { return stopping_; });
    }
  });
}

void HistoryStore::stop() {
  {
    std::lock_guard lock(thread_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (compactor_.joinable()) compactor_.join();
}

}  // namespace ct::history
