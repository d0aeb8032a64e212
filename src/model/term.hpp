#pragma once
// Term: an interned string (an expanded IRI: attribute name, entity type, datasetId, unitCode).
// A city has a few thousand distinct names but millions of attribute instances: each instance
// holds one pointer instead of its own copy, and comparing two terms compares pointers.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace ct::model {

class Term {
 public:
  Term() = default;  // the empty term
  static Term intern(std::string_view text);

  std::string_view str() const { return text_ ? std::string_view(*text_) : std::string_view(); }
  bool empty() const { return text_ == nullptr; }
  friend bool operator==(Term a, Term b) { return a.text_ == b.text_; }
  std::size_t hash() const { return std::hash<const void*>()(text_); }

 private:
  explicit Term(const std::string* text) : text_(text) {}
  const std::string* text_ = nullptr;
};

}  // namespace ct::model

template <>
struct std::hash<ct::model::Term> {
  std::size_t operator()(ct::model::Term t) const noexcept { return t.hash(); }
};
