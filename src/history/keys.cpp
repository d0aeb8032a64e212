#include "history/keys.hpp"

#include <algorithm>

namespace ct::history {
namespace {

void put_be64(std::string& out, std::uint64_t u) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(u >> (8 * (7 - i)));
  out.append(bytes, 8);
}
std::uint64_t get_be64(std::string_view bytes) {
  std::uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  return u;
}

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

}  // namespace

void put_be32(std::string& out, std::uint32_t n) {
  char bytes[4];
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>(n >> (8 * (3 - i)));
  out.append(bytes, 4);
}
std::uint32_t get_be32(std::string_view bytes) {
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  return n;
}
void put_time(std::string& out, Timestamp t) { put_be64(out, static_cast<std::uint64_t>(t) ^ (std::uint64_t{1} << 63)); }
Timestamp get_time(std::string_view bytes) { return static_cast<Timestamp>(get_be64(bytes) ^ (std::uint64_t{1} << 63)); }

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
std::string entity_series_prefix(std::string_view tenant, std::string_view entity_id) {
  return 'S' + entity_part(tenant, entity_id);
}
std::string entity_event_prefix(std::string_view tenant, std::string_view entity_id) {
  return 'E' + entity_part(tenant, entity_id);
}
std::string series_prefix(std::string_view tenant, const SeriesId& s) {
  std::string out = entity_series_prefix(tenant, s.entity_id);
  out.append(s.attribute).push_back('\0');
  out.append(s.dataset_id).push_back('\0');
  return out;
}
std::string_view series_prefix_of(std::string_view key) {
  std::size_t pos = 1;
  for (int i = 0; i < 4 && pos != std::string_view::npos; ++i) {
    pos = key.find('\0', pos);
    if (pos != std::string_view::npos) ++pos;
  }
  return pos == std::string_view::npos ? std::string_view() : key.substr(0, pos);
}
std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (end.empty()) return std::string(1, '\xff');
  end.back() = static_cast<char>(end.back() + 1);
  return end;
}

std::string raw_suffix(Timestamp time, Timestamp changed_at, std::uint32_t counter) {
  std::string suffix;
  suffix.reserve(kRawSuffixSize);
  put_time(suffix, time);
  suffix.push_back(kRawKind);
  put_time(suffix, changed_at);
  put_be32(suffix, counter);
  return suffix;
}
std::string raw_key(std::string_view series_prefix, Timestamp time, Timestamp changed_at, std::uint32_t counter) {
  std::string key(series_prefix);
  key.append(raw_suffix(time, changed_at, counter));
  return key;
}
std::string block_key(std::string_view series_prefix, Timestamp day) {
  std::string key(series_prefix);
  put_time(key, day);
  key.push_back(kBlockKind);
  return key;
}
std::string event_key(std::string_view tenant, std::string_view entity_id, Timestamp changed_at, std::uint32_t counter) {
  std::string key;
  key.reserve(tenant.size() + entity_id.size() + 3 + kEventSuffixSize);
  key.push_back('E');
  key.append(tenant).push_back('\0');
  key.append(entity_id).push_back('\0');
  put_time(key, changed_at);
  put_be32(key, counter);
  return key;
}
std::optional<EventKey> parse_event_key(std::string_view key) {
  if (key.empty() || key[0] != 'E') return std::nullopt;
  const auto tenant_end = key.find('\0', 1);
  const auto entity_end = tenant_end == std::string_view::npos ? tenant_end : key.find('\0', tenant_end + 1);
  if (entity_end == std::string_view::npos || key.size() != entity_end + 1 + kEventSuffixSize) return std::nullopt;
  return EventKey{key.substr(1, entity_end), get_time(key.substr(entity_end + 1)), get_be32(key.substr(entity_end + 9))};
}

std::string policy_key(std::string_view tenant, std::string_view type) {
  std::string key(1, 'C');
  key.append(tenant).push_back('\0');
  key.append(type);
  return key;
}

std::string raw_instance_id(std::string_view suffix) { return std::string(kInstancePrefix) + hex(suffix); }
std::string point_instance_id(Timestamp time, std::size_t ordinal) {
  std::string suffix;
  put_time(suffix, time);
  return std::string(kInstancePrefix) + hex(suffix) + "-" + std::to_string(ordinal);
}
std::optional<InstanceRef> parse_instance_id(std::string_view id) {
  if (!id.starts_with(kInstancePrefix)) return std::nullopt;
  std::string_view code = id.substr(kInstancePrefix.size());
  InstanceRef out;
  if (const auto dash = code.find('-'); dash != std::string_view::npos) {
    const std::string_view digits = code.substr(dash + 1);
    if (digits.empty() || digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    out.ordinal = std::stoul(std::string(digits));
    code = code.substr(0, dash);
  }
  auto suffix = unhex(code);
  if (!suffix || suffix->size() < 8) return std::nullopt;
  out.suffix = std::move(*suffix);
  return out;
}

}  // namespace ct::history
