#include "jsonld/context.hpp"

namespace ct::jsonld {
namespace {

bool is_absolute_iri(std::string_view s) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  for (std::size_t i = 0; i < colon; ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && ((c >= '0' && c <= '9') || c == '+' ||
                                                                              c == '-' || c == '.'));
    if (!ok) return false;
  }
  return true;
}

}  // namespace

void Context::add_definitions(const json::object& definitions) {
  for (const auto& [key, value] : definitions) {
    if (key == "@vocab") {
      if (value.is_string()) vocab_ = std::string(value.get_string());
      continue;
    }
    if (!key.empty() && key[0] == '@') continue;  // @version, @protected, @base, ...
    if (value.is_null()) {
      terms_.erase(std::string(key));
    } else if (value.is_string()) {
      terms_[std::string(key)] = std::string(value.get_string());
    } else if (value.is_object()) {
      const auto& def = value.get_object();
      if (auto it = def.find("@id"); it != def.end() && it->value().is_string())
        terms_[std::string(key)] = std::string(it->value().get_string());
      else
        terms_[std::string(key)] = std::string(key);  // a term with no @id expands through @vocab
    }
  }
}

std::string Context::expand_raw(std::string_view value, int depth) const {
  if (depth > 8) return std::string(value);
  if (!value.empty() && value[0] == '@') return std::string(value);
  if (auto it = terms_.find(value); it != terms_.end() && it->second != value)
    return expand_raw(it->second, depth + 1);
  if (auto colon = value.find(':'); colon != std::string_view::npos) {
    std::string_view prefix = value.substr(0, colon), suffix = value.substr(colon + 1);
    if (suffix.substr(0, 2) != "//") {
      if (auto it = terms_.find(prefix); it != terms_.end())
        return expand_raw(it->second, depth + 1) + std::string(suffix);
    }
    if (is_absolute_iri(value)) return std::string(value);
  }
  return vocab_ + std::string(value);
}

void Context::seal(const Context* protected_terms) {
  if (protected_terms) {
    for (const auto& [term, iri] : protected_terms->terms_) terms_[term] = iri;
    if (vocab_.empty()) vocab_ = protected_terms->vocab_;
  }
  TextMap resolved;
  resolved.reserve(terms_.size());
  for (const auto& [term, iri] : terms_) resolved[term] = expand_raw(iri, 0);
  terms_ = std::move(resolved);
  iri_to_term_.clear();
  for (const auto& [term, iri] : terms_) {
    auto [it, inserted] = iri_to_term_.emplace(iri, term);
    // Several terms for one IRI: prefer the shortest, then the alphabetically first, so output is stable.
    if (!inserted && (term.size() < it->second.size() || (term.size() == it->second.size() && term < it->second)))
      it->second = term;
  }
}

std::string Context::expand(std::string_view name) const {
  if (auto it = terms_.find(name); it != terms_.end()) return it->second;
  return expand_raw(name, 0);
}

std::string Context::compact(std::string_view iri) const {
  if (auto it = iri_to_term_.find(iri); it != iri_to_term_.end()) return it->second;
  if (!vocab_.empty() && iri.size() > vocab_.size() && iri.substr(0, vocab_.size()) == vocab_) {
    std::string_view rest = iri.substr(vocab_.size());
    if (terms_.find(rest) == terms_.end()) return std::string(rest);
  }
  return std::string(iri);
}

}  // namespace ct::jsonld
