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
  std::multiset<const Entity*> unindexed;  // one entry per instance whose value is neither
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

}  // namespace

// Each instance of `attribute` contributes its number or string (a Relationship's object is a
// string); any other value (a language map, an object, a list) marks the entity as unindexed for
// the attribute, so that lookups always return it as a candidate and q decides.
void Indexes::add_value_keys(const Entity& entity, Term attribute, Keys& keys) {
  for (const auto& a : entity.attributes) {
    if (a.name != attribute) continue;
    const json::value& v = a.value;
    if (v.is_double()) keys.numbers.emplace_back(attribute, v.get_double());
    else if (v.is_int64()) keys.numbers.emplace_back(attribute, static_cast<double>(v.get_int64()));
    else if (v.is_uint64()) keys.numbers.emplace_back(attribute, static_cast<double>(v.get_uint64()));
    else if (v.is_string()) keys.strings.emplace_back(attribute, std::string(v.get_string()));
    else keys.unindexed.push_back(attribute);
  }
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
  for (Term attribute : keys.unindexed) values_.at(attribute)->unindexed.insert(entity);
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
  for (Term attribute : keys.unindexed) {
    auto& unindexed = values_.at(attribute)->unindexed;
    if (auto it = unindexed.find(entity); it != unindexed.end()) unindexed.erase(it);
  }
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
  using Kind = query::IndexableTerm::Kind;
  using Op = query::IndexableTerm::Op;
  // Only numbers (any comparison) and plain strings (equality) compare in the index as q compares
  // them; dates, times and booleans are left to q over the other candidates.
  auto usable = [](Kind kind, const json::value& v, Op op) {
    return (kind == Kind::Number && v.is_number()) || (kind == Kind::String && v.is_string() && (op == Op::Equal || op == Op::OneOf));
  };
  if (term.op == Op::OneOf) {
    for (std::size_t i = 0; i < term.values.size(); ++i)
      if (i >= term.kinds.size() || !usable(term.kinds[i], term.values[i], term.op)) return std::nullopt;
  } else if (!usable(term.kind, term.value, term.op) || (term.op == Op::Range && !term.upper.is_number())) {
    return std::nullopt;
  }
  std::vector<const Entity*> out(index.unindexed.begin(), index.unindexed.end());
  auto collect = [&](auto begin, auto end) {
    for (auto i = begin; i != end; ++i) out.push_back(i->second);
  };
  auto equal = [&](const json::value& v) {
    if (v.is_string()) {
      auto [b, e] = index.strings.equal_range(std::string_view(v.get_string()));
      collect(b, e);
    } else {
      auto [b, e] = index.numbers.equal_range(v.to_number<double>());
      collect(b, e);
    }
  };
  const auto& n = index.numbers;
  switch (term.op) {
    case Op::OneOf:
      for (const auto& v : term.values) equal(v);
      break;
    case Op::Equal: equal(term.value); break;
    case Op::Greater: collect(n.upper_bound(term.value.to_number<double>()), n.end()); break;
    case Op::GreaterEqual: collect(n.lower_bound(term.value.to_number<double>()), n.end()); break;
    case Op::Less: collect(n.begin(), n.lower_bound(term.value.to_number<double>())); break;
    case Op::LessEqual: collect(n.begin(), n.upper_bound(term.value.to_number<double>())); break;
    case Op::Range:
      collect(n.lower_bound(term.value.to_number<double>()), n.upper_bound(term.upper.to_number<double>()));
      break;
  }
  return out;
}

std::optional<std::vector<const Entity*>> Indexes::lookup(const query::GeoQuery& geo, bool& decided) const {
  decided = false;
  const auto box = geo.candidate_box();
  auto it = spatial_.find(geo.geoproperty());
  if (!box || it == spatial_.end()) return std::nullopt;
  std::vector<const Entity*> out;
  bool all_accepted = true;
  it->second->tree.query(bgi::intersects(SpatialIndex::to_box(*box)),
                         boost::make_function_output_iterator([&](const SpatialIndex::Item& item) {
                           const auto& min = item.first.min_corner();
                           const auto& max = item.first.max_corner();
                           std::optional<bool> accepted;
                           if (bg::get<0>(min) == bg::get<0>(max) && bg::get<1>(min) == bg::get<1>(max))
                             accepted = geo.decide_point(bg::get<0>(min), bg::get<1>(min));
                           if (accepted == false) return;
                           all_accepted = all_accepted && accepted.has_value();
                           out.push_back(item.second);
                         }));
  decided = all_accepted;
  return out;
}

}  // namespace ct::twin
