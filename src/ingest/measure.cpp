#include "ingest/measure.hpp"

#include <charconv>
#include <cstring>
#include <type_traits>
#include <utility>

#include "common/text.hpp"

namespace ct::ingest {

PayloadText::PayloadText(std::size_t capacity)
    : buffer_(capacity ? std::make_unique_for_overwrite<char[]>(capacity) : nullptr), capacity_(capacity) {}

// Moves leave the source empty (capacity 0), not claiming room in a buffer it no longer has.
PayloadText::PayloadText(PayloadText&& other) noexcept
    : buffer_(std::move(other.buffer_)),
      capacity_(std::exchange(other.capacity_, 0)),
      used_(std::exchange(other.used_, 0)),
      overflow_(std::move(other.overflow_)) {}

PayloadText& PayloadText::operator=(PayloadText&& other) noexcept {
  buffer_ = std::move(other.buffer_);
  capacity_ = std::exchange(other.capacity_, 0);
  used_ = std::exchange(other.used_, 0);
  overflow_ = std::move(other.overflow_);
  return *this;
}

std::string_view PayloadText::keep(std::string_view text) {
  if (text.empty()) return {};
  if (text.size() <= capacity_ - used_) {
    char* at = buffer_.get() + used_;
    std::memcpy(at, text.data(), text.size());
    used_ += text.size();
    return {at, text.size()};
  }
  auto& block = overflow_.emplace_back(std::make_unique_for_overwrite<char[]>(text.size()));
  std::memcpy(block.get(), text.data(), text.size());
  return {block.get(), text.size()};
}

std::optional<Timestamp> parse_instant(std::string_view text) {
  constexpr Timestamp kFirst = -62167219200000;  // 0000-01-01T00:00:00.000Z
  constexpr Timestamp kLast = 253402300799999;   // 9999-12-31T23:59:59.999Z
  const auto when = parse_datetime(text);
  if (!when || *when < kFirst || *when > kLast) return std::nullopt;
  return when;
}

std::size_t DecodedPayload::measure_count() const {
  std::size_t n = 0;
  for (const auto& reading : readings) n += reading.measures.size();
  return n;
}

namespace {

// The longest prefix of `text` of at most `max_bytes` that does not end inside a UTF-8 sequence.
std::string_view cut_at_character(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

std::string cut_json(const json::value& value, std::size_t max_bytes) {
  std::string text = to_text(value);
  const std::string_view kept = cut_at_character(text, max_bytes);
  if (kept.size() == text.size()) return text;
  return std::string(kept) + "…";
}

template <class Number>
std::string measure_number_text(Number n) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  return std::string(buf, end);
}

}  // namespace

std::string describe_text(std::string_view text, std::size_t max_bytes) {
  const std::string_view kept = cut_at_character(text, max_bytes);
  std::string quoted = to_text(json::string(printable_utf8(kept)));
  if (kept.size() != text.size()) quoted += "…";
  return quoted;
}

std::string describe(const MeasureValue& value, std::size_t max_bytes) {
  return std::visit(
      [max_bytes](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Null>) return "null";
        else if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::string_view>) return describe_text(v, max_bytes);
        else if constexpr (std::is_same_v<T, json::value>) return cut_json(v, max_bytes);
        else return measure_number_text(v);
      },
      value);
}

}  // namespace ct::ingest
