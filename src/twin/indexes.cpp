#include "twin/indexes.hpp"

#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <boost/iterator/function_output_iterator.hpp>

namespace ct::twin {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;
using model::Entity;
using model::Term;

struct Indexes::ValueIndex {
  std::multimap<double, const Entity*> numbers;
  std::multimap<std::string, const Entity*, std::less<>> strings;
};

struct Indexes::SpatialIndex {
  using Point = bg::model::point<double, 2, bg::cs::cartesian>;
  using Box = bg::model::box<Point>;
  using Item = std::pair<Box, const Entity*>;
  bgi::rtree<Item, bgi::rstar<16>> tree;

  static Box to_box(const query::Box& b) { return Box(Point(b.min_lon, b.min_lat), Point(b.max_lon, b.max_lat)); }
};

Indexes::Indexes() = default;
Indexes::~Indexes() = default;

namespace {

// The values of every instance of `attribute` that a value index can hold: numbers, and strings
// (a Relationship's object counts as a string).
template <class Visit>
void for_each_indexable_value(const Entity& entity, Term attribute, Visit visit) {
  for (const auto& a : entity.attributes) {
    if (a.name != attribute) continue;
    const json::value& v = a.value;
    if (v.is_double()) visit(v.get_double());
    else if (v.is_int64()) visit(static_cast<double>(v.get_int64()));
    else if (v.is_uint64()) visit(static_cast<double>(v.get_uint64()));
    else if (v.is_string()) visit(std::string(v.get_string()));
  }
}

}  // namespace

void Indexes::add_value_keys(const Entity& entity, Term attribute, Keys& keys) {
  for_each_indexable_value(entity, attribute, [&](auto value) {
    if constexpr (std::is_same_v<decltype(value), double>)
      keys.numbers.emplace_back(attribute, value);
    else
      keys.strings.emplace_back(attribute, std::move(value));
  });
}

void Indexes::add_box_keys(const Entity& entity, Term attribute, Keys& keys) {
  for (const auto& a : entity.attributes)
    if (a.name == attribute && a.kind == model::AttributeKind::GeoProperty)
      if (auto box = query::bounding_box(a.value)) keys.boxes.emplace_back(attribute, *box);
}

Indexes::Keys Indexes::keys_of(const Entity& entity) const {
  Keys keys;
  keys.types = entity.types;
  for (const auto& [attribute, index] : values_) add_value_keys(entity, attribute, keys);
  for (const auto& [attribute, index] : spatial_) add_box_keys(entity, attribute, keys);
  return keys;
}

void Indexes::insert(const Entity* entity, const Keys& keys) {
  for (Term t : keys.types) by_type_[t].insert(entity);
  for (const auto& [attribute, number] : keys.numbers) values_.at(attribute)->numbers.emplace(number, entity);
  for (const auto& [attribute, text] : keys.strings) values_.at(attribute)->strings.emplace(text, entity);
  for (const auto& [attribute, box] : keys.boxes) spatial_.at(attribute)->tree.insert({SpatialIndex::to_box(box), entity});
}

void Indexes::erase(const Entity* entity, const Keys& keys) {
  for (Term t : keys.types) {
    auto it = by_type_.find(t);
    if (it == by_type_.end()) continue;
    it->second.erase(entity);
    if (it->second.empty()) by_type_.erase(it);
  }
  auto erase_one = [entity](auto& map, const auto& key) {
    for (auto [it, end] = map.equal_range(key); it != end; ++it)
      if (it->second == entity) {
        map.erase(it);
        return;
      }
  };
  for (const auto& [attribute, number] : keys.numbers) erase_one(values_.at(attribute)->numbers, number);
  for (const auto& [attribute, text] : keys.strings) erase_one(values_.at(attribute)->strings, text);
  for (const auto& [attribute, box] : keys.boxes) spatial_.at(attribute)->tree.remove({SpatialIndex::to_box(box), entity});
}

void Indexes::update(const Entity* entity, const Keys& before, const Keys& after) {
  erase(entity, before);
  insert(entity, after);
}

const EntitySet* Indexes::of_type(Term type) const {
  auto it = by_type_.find(type);
  return it == by_type_.end() ? nullptr : &it->second;
}

std::vector<Term> Indexes::types() const {
  std::vector<Term> out;
  out.reserve(by_type_.size());
  for (const auto& [type, entities] : by_type_) out.push_back(type);
  return out;
}

bool Indexes::has_value_index(Term attribute) const { return values_.contains(attribute); }
bool Indexes::has_spatial_index(Term attribute) const { return spatial_.contains(attribute); }

void Indexes::build_value_index(Term attribute, const std::vector<const Entity*>& population) {
  if (has_value_index(attribute)) return;
  values_.emplace(attribute, std::make_unique<ValueIndex>());
  for (const Entity* e : population) {
    Keys keys;
    add_value_keys(*e, attribute, keys);
    insert(e, keys);
  }
}

void Indexes::build_spatial_index(Term attribute, const std::vector<const Entity*>& population) {
  if (has_spatial_index(attribute)) return;
  std::vector<SpatialIndex::Item> items;
  items.reserve(population.size());
  for (const Entity* e : population) {
    Keys keys;
    add_box_keys(*e, attribute, keys);
    for (const auto& [name, box] : keys.boxes) items.emplace_back(SpatialIndex::to_box(box), e);
  }
  auto index = std::make_unique<SpatialIndex>();
  index->tree = bgi::rtree<SpatialIndex::Item, bgi::rstar<16>>(items.begin(), items.end());  // bulk-loaded (packed)
  spatial_.emplace(attribute, std::move(index));
}

std::optional<std::vector<const Entity*>> Indexes::lookup(const query::IndexableTerm& term) const {
  auto it = values_.find(term.attribute);
  if (it == values_.end()) return std::nullopt;
  const ValueIndex& index = *it->second;
  std::vector<const Entity*> out;
  auto collect = [&](auto begin, auto end) {
    for (auto i = begin; i != end; ++i) out.push_back(i->second);
  };
  auto number = [](const json::value& v) -> std::optional<double> {
    if (v.is_number()) return v.to_number<double>();
    return std::nullopt;
  };
  using Op = query::IndexableTerm::Op;
  if (term.op == Op::OneOf) {
    for (const auto& v : term.values) {
      if (auto n = number(v)) {
        auto [b, e] = index.numbers.equal_range(*n);
        collect(b, e);
      } else if (v.is_string()) {
        auto [b, e] = index.strings.equal_range(std::string_view(v.get_string()));
        collect(b, e);
      } else {
        return std::nullopt;
      }
    }
    return out;
  }
  if (term.value.is_string()) {
    if (term.op != Op::Equal) return std::nullopt;  // string order is not the q order for date-times
    auto [b, e] = index.strings.equal_range(std::string_view(term.value.get_string()));
    collect(b, e);
    return out;
  }
  auto value = number(term.value);
  if (!value) return std::nullopt;
  const auto& n = index.numbers;
  switch (term.op) {
    case Op::Equal: {
      auto [b, e] = n.equal_range(*value);
      collect(b, e);
      break;
    }
    case Op::Greater: collect(n.upper_bound(*value), n.end()); break;
    case Op::GreaterEqual: collect(n.lower_bound(*value), n.end()); break;
    case Op::Less: collect(n.begin(), n.lower_bound(*value)); break;
    case Op::LessEqual: collect(n.begin(), n.upper_bound(*value)); break;
    case Op::Range: {
      auto upper = number(term.upper);
      if (!upper) return std::nullopt;
      collect(n.lower_bound(*value), n.upper_bound(*upper));
      break;
    }
    case Op::OneOf: break;
  }
  return out;
}

std::optional<std::vector<const Entity*>> Indexes::lookup(Term attribute, const query::Box& box) const {
  auto it = spatial_.find(attribute);
  if (it == spatial_.end()) return std::nullopt;
  std::vector<const Entity*> out;
  it->second->tree.query(bgi::intersects(SpatialIndex::to_box(box)),
                         boost::make_function_output_iterator([&](const SpatialIndex::Item& item) { out.push_back(item.second); }));
  return out;
}

}  // namespace ct::twin
