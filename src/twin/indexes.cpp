#include "twin/indexes.hpp"

#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <boost/iterator/function_output_iterator.hpp>

namespace ct::twin {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;
using model::Entity;
using model::Term;

namespace {

// Orders (value, entity) entries by value, then entity: erasing one entity's entry is a lookup, not
// a walk over every entity with the same value (a reading such as 42.0 may be shared by thousands).
// Transparent, so that lookups by value alone find the range of every entity holding it.
struct ByValueThenEntity {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const std::pair<A, const Entity*>& a, const std::pair<B, const Entity*>& b) const {
    if (a.first < b.first) return true;
    if (b.first < a.first) return false;
    return std::less<const Entity*>()(a.second, b.second);
  }
  template <class A, class Value>
  bool operator()(const std::pair<A, const Entity*>& a, const Value& b) const { return a.first < b; }
  template <class Value, class B>
  bool operator()(const Value& a, const std::pair<B, const Entity*>& b) const { return a < b.first; }
};

}  // namespace

struct Indexes::ValueIndex {
  std::set<std::pair<double, const Entity*>, ByValueThenEntity> numbers;
  std::set<std::pair<std::string, const Entity*>, ByValueThenEntity> strings;
  std::set<const Entity*> unindexed;  // entities with an instance whose value is neither
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

// Keys are sets: an entity appears once per distinct key, however many instances share it. An
// update can then move only the keys that changed, and each stored entry is removed exactly once.
template <class Key>
void add_key(std::vector<Key>& keys, Key key) {
  if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
}

bool same_box(const query::Box& a, const query::Box& b) {
  return a.min_lon == b.min_lon && a.min_lat == b.min_lat && a.max_lon == b.max_lon && a.max_lat == b.max_lat;
}

}  // namespace

// Each instance of `attribute` contributes its number or string (a Relationship's object is a
// string); any other value (a language map, an object, a list) marks the entity as unindexed for
// the attribute, so that lookups always return it as a candidate and q decides.
void Indexes::add_value_keys(const Entity& entity, Term attribute, Keys& keys) {
  for (const auto& a : entity.attributes) {
    if (a.name != attribute) continue;
    const json::value& v = a.value;
    if (v.is_double()) add_key(keys.numbers, {attribute, v.get_double()});
    else if (v.is_int64()) add_key(keys.numbers, {attribute, static_cast<double>(v.get_int64())});
    else if (v.is_uint64()) add_key(keys.numbers, {attribute, static_cast<double>(v.get_uint64())});
    else if (v.is_string()) add_key(keys.strings, {attribute, std::string(v.get_string())});
    else add_key(keys.unindexed, attribute);
  }
}

void Indexes::add_box_keys(const Entity& entity, Term attribute, Keys& keys) {
  for (const auto& a : entity.attributes) {
    if (a.name != attribute || a.kind != model::AttributeKind::GeoProperty) continue;
    auto box = query::bounding_box(a.value);
    if (!box) continue;
    const bool known = std::any_of(keys.boxes.begin(), keys.boxes.end(), [&](const auto& key) {
      return key.first == attribute && same_box(key.second, *box);
    });
    if (!known) keys.boxes.emplace_back(attribute, *box);
  }
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
  for (const auto& [attribute, number] : keys.numbers) values_.at(attribute)->numbers.erase({number, entity});
  for (const auto& [attribute, text] : keys.strings) {
    auto& strings = values_.at(attribute)->strings;
    if (auto it = strings.find(std::pair<std::string_view, const Entity*>(text, entity)); it != strings.end())
      strings.erase(it);
  }
  for (Term attribute : keys.unindexed) values_.at(attribute)->unindexed.erase(entity);
  for (const auto& [attribute, box] : keys.boxes) spatial_.at(attribute)->tree.remove({SpatialIndex::to_box(box), entity});
}

void Indexes::update(const Entity* entity, const Keys& before, const Keys& after) {
  // Most writes change a few values and keep the entity's types and most of its values: only the
  // keys that differ are moved (an R-tree removal and insertion is the dearest step of a write).
  Keys gone, added;
  auto diff = [](const auto& from, const auto& to, auto& out, auto same) {
    for (const auto& key : from)
      if (std::none_of(to.begin(), to.end(), [&](const auto& other) { return same(key, other); })) out.push_back(key);
  };
  auto equal = [](const auto& a, const auto& b) { return a == b; };
  auto equal_box = [](const auto& a, const auto& b) { return a.first == b.first && same_box(a.second, b.second); };
  diff(before.types, after.types, gone.types, equal);
  diff(after.types, before.types, added.types, equal);
  diff(before.numbers, after.numbers, gone.numbers, equal);
  diff(after.numbers, before.numbers, added.numbers, equal);
  diff(before.strings, after.strings, gone.strings, equal);
  diff(after.strings, before.strings, added.strings, equal);
  diff(before.unindexed, after.unindexed, gone.unindexed, equal);
  diff(after.unindexed, before.unindexed, added.unindexed, equal);
  diff(before.boxes, after.boxes, gone.boxes, equal_box);
  diff(after.boxes, before.boxes, added.boxes, equal_box);
  erase(entity, gone);
  insert(entity, added);
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
