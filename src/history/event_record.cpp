#include "history/event_record.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include "history/records.hpp"

namespace ct::history {
namespace {

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

}  // namespace

EventRecordWriter::EventRecordWriter() {
  value_.reserve(256);
  value_.push_back(kEventFormat);
}

void EventRecordWriter::put_name(std::string_view name) {
  std::size_t shared = 0;
  const std::size_t most = std::min({name.size(), previous_name_.size(), std::size_t{255}});
  while (shared < most && name[shared] == previous_name_[shared]) ++shared;
  previous_name_ = name;
  value_.push_back(static_cast<char>(shared));
  put_text(value_, name.substr(shared));
}

void EventRecordWriter::put_head(std::uint8_t form, const model::Attribute& instance, Timestamp changed_at) {
  std::uint8_t head = form;
  if (!instance.dataset_id.empty()) head |= kHasDataset;
  if (instance.observed_at != kNoTimestamp) head |= kHasObserved;
  if (instance.created_at != kNoTimestamp) head |= kHasCreated;
  if (!instance.unit_code.empty()) head |= kHasUnit;
  value_.push_back(static_cast<char>(head));
  put_name(instance.name.str());
  if (head & kHasDataset) put_text(value_, instance.dataset_id.str());
  if (head & kHasObserved) put_varint(value_, zigzag(wrapping_sub(instance.observed_at, changed_at)));
  if (head & kHasCreated) put_varint(value_, zigzag(wrapping_sub(changed_at, instance.created_at)));
  if (head & kHasUnit) put_text(value_, instance.unit_code.str());
}

void EventRecordWriter::add_written(const std::string& entity_id, const model::Attribute& instance, Timestamp changed_at) {
  const bool plain = instance.sub_attributes.empty();
  double xyz[3];
  std::size_t points = 0;
  if (plain && instance.kind == model::AttributeKind::Property && instance.value.is_double()) {
    put_head(kNumber, instance, changed_at);
    put_number(value_, instance.value.get_double());
  } else if (plain && instance.kind == model::AttributeKind::Property && instance.value.is_int64()) {
    put_head(kInteger, instance, changed_at);
    put_varint(value_, zigzag(instance.value.get_int64()));
  } else if (plain && instance.kind == model::AttributeKind::GeoProperty &&
             (points = point_coordinates(instance.value, xyz)) > 0) {
    put_head(kPoint, instance, changed_at);
    value_.push_back(static_cast<char>(points));
    for (std::size_t i = 0; i < points; ++i) put_number(value_, xyz[i]);
  } else {
    put_head(kJson, instance, changed_at);
    put_text(value_, raw_value(entity_id, instance, changed_at));
  }
  ++entries_;
}

void EventRecordWriter::add_removed(std::string_view name, std::string_view dataset) {
  value_.push_back(static_cast<char>(kDeleted | (dataset.empty() ? 0 : kHasDataset)));
  put_name(name);
  if (!dataset.empty()) put_text(value_, dataset);
  ++entries_;
}

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
        e.raw = deleted_raw_value(changed_at);
        break;
      default:
        return false;
    }
    visit(e);
  }
  return true;
}

}  // namespace ct::history
