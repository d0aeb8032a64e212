#include "notify/matching.hpp"

#include <algorithm>
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <map>

#include "query/geo.hpp"

namespace ct::notify {
namespace {

using model::Term;
using Kind = twin::ChangeEvent::Kind;

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;
using Point = bg::model::point<double, 2, bg::cs::cartesian>;
using Box = bg::model::box<Point>;
using AreaEntry = std::pair<Box, const Registration*>;
using AreaTree = bgi::rtree<AreaEntry, bgi::quadratic<16>>;
using Bucket = std::vector<const Registration*>;

Box to_box(const query::Box& b) { return Box(Point(b.min_lon, b.min_lat), Point(b.max_lon, b.max_lat)); }

bool had_instance(const model::Entity* previous, const twin::ChangeEvent::Instance& instance) {
  return previous && previous->find(instance.first, instance.second) != nullptr;
}

// How a subscription is filed (see SubscriptionIndex).
struct Filing {
  enum class By { Id, Area, Type, Attribute, Everything } by = By::Everything;
  std::vector<std::string> ids;
  std::vector<Term> terms;  // types or attributes
  Term geoproperty;
  query::Box box{};
};

Filing filing_of(const Subscription& s) {
  Filing f;
  const auto& selectors = s.query.selectors;
  if (!selectors.empty() && std::all_of(selectors.begin(), selectors.end(), [](const auto& sel) { return !sel.ids.empty(); })) {
    f.by = Filing::By::Id;
    for (const auto& sel : selectors) f.ids.insert(f.ids.end(), sel.ids.begin(), sel.ids.end());
    return f;
  }
  if (s.query.geo)
    if (auto box = s.query.geo->candidate_box()) {
      f.by = Filing::By::Area;
      f.geoproperty = s.query.geo->geoproperty();
      f.box = *box;
      return f;
    }
  if (!selectors.empty()) {
    std::vector<Term> types;
    bool plain = true;
    for (const auto& sel : selectors) {
      auto any = sel.types ? sel.types->any_of() : std::nullopt;
      if (!any) {
        plain = false;
        break;
      }
      types.insert(types.end(), any->begin(), any->end());
    }
    if (plain) {
      f.by = Filing::By::Type;
      f.terms = std::move(types);
      return f;
    }
  }
  if (!s.watched_attributes.empty()) {
    f.by = Filing::By::Attribute;
    f.terms = s.watched_attributes;
  }
  return f;
}

void erase_from(Bucket& bucket, const Registration* r) { std::erase(bucket, r); }

}  // namespace

TriggerSet fired_triggers(const Subscription& s, const twin::ChangeEvent& event) {
  if (!event.entity) return 0;
  const bool watch_all = s.watched_set.empty();
  auto counted = [&](Term attribute) { return watch_all || s.watched_set.contains(attribute); };
  TriggerSet fired = 0;
  switch (event.kind) {
    case Kind::Created: {
      bool touched = watch_all;
      for (const auto& instance : event.written)
        if (counted(instance.first)) {
          touched = true;
          fired |= bit(Trigger::AttributeCreated);
        }
      if (touched) fired |= bit(Trigger::EntityCreated);
      break;
    }
    case Kind::Updated: {
      for (const auto& instance : event.written)
        if (counted(instance.first))
          fired |= bit(had_instance(event.previous.get(), instance) ? Trigger::AttributeUpdated : Trigger::AttributeCreated);
      for (const auto& instance : event.removed)
        if (counted(instance.first)) fired |= bit(Trigger::AttributeDeleted);
      if (fired) fired |= bit(Trigger::EntityUpdated);
      break;
    }
    case Kind::Deleted: {
      bool touched = watch_all;
      for (const auto& instance : event.removed) touched = touched || counted(instance.first);
      if (touched) fired |= bit(Trigger::EntityDeleted);
      break;
    }
  }
  fired &= s.triggers;
  if (!fired) return 0;
  return twin::matches(*event.entity, s.query) ? fired : TriggerSet{0};
}

struct SubscriptionIndex::Buckets {
  std::map<std::string, std::shared_ptr<const Registration>> registered;  // by subscription id
  std::unordered_map<std::string, Bucket> by_id;
  std::unordered_map<Term, AreaTree> by_area;  // by geoproperty
  std::unordered_map<Term, Bucket> by_type;
  std::unordered_map<Term, Bucket> by_attribute;
  Bucket everything;

  void file(const Registration* r, bool add) {
    const Filing f = filing_of(*r->subscription);
    auto apply = [&](Bucket& bucket) {
      if (add) bucket.push_back(r);
      else erase_from(bucket, r);
    };
    switch (f.by) {
      case Filing::By::Id:
        for (const auto& id : f.ids) {
          apply(by_id[id]);
          if (by_id[id].empty()) by_id.erase(id);
        }
        break;
      case Filing::By::Area: {
        auto& tree = by_area[f.geoproperty];
        if (add) tree.insert({to_box(f.box), r});
        else tree.remove(AreaEntry{to_box(f.box), r});
        if (tree.empty()) by_area.erase(f.geoproperty);
        break;
      }
      case Filing::By::Type:
      case Filing::By::Attribute: {
        auto& map = f.by == Filing::By::Type ? by_type : by_attribute;
        for (Term t : f.terms) {
          apply(map[t]);
          if (map[t].empty()) map.erase(t);
        }
        break;
      }
      case Filing::By::Everything: apply(everything); break;
    }
  }
};

SubscriptionIndex::SubscriptionIndex() : buckets_(std::make_unique<Buckets>()) {}
SubscriptionIndex::~SubscriptionIndex() = default;
SubscriptionIndex::SubscriptionIndex(SubscriptionIndex&&) noexcept = default;
SubscriptionIndex& SubscriptionIndex::operator=(SubscriptionIndex&&) noexcept = default;

void SubscriptionIndex::put(std::shared_ptr<const Registration> registration) {
  const std::string id = registration->subscription->id;
  remove(id);
  const Registration* r = registration.get();
  buckets_->registered.emplace(id, std::move(registration));
  buckets_->file(r, true);
}

void SubscriptionIndex::remove(const std::string& subscription_id) {
  auto it = buckets_->registered.find(subscription_id);
  if (it == buckets_->registered.end()) return;
  buckets_->file(it->second.get(), false);
  buckets_->registered.erase(it);
}

const Registration* SubscriptionIndex::find(const std::string& subscription_id) const {
  auto it = buckets_->registered.find(subscription_id);
  return it == buckets_->registered.end() ? nullptr : it->second.get();
}

std::size_t SubscriptionIndex::size() const { return buckets_->registered.size(); }

std::vector<std::shared_ptr<const Registration>> SubscriptionIndex::all() const {
  std::vector<std::shared_ptr<const Registration>> out;
  out.reserve(buckets_->registered.size());
  for (const auto& [id, r] : buckets_->registered) out.push_back(r);
  return out;
}

void SubscriptionIndex::candidates(const twin::ChangeEvent& event, std::vector<const Registration*>& out) const {
  if (!event.entity) return;
  const Buckets& b = *buckets_;
  const std::size_t first = out.size();
  auto add = [&](const Bucket& bucket) { out.insert(out.end(), bucket.begin(), bucket.end()); };
  const model::Entity& entity = *event.entity;
  if (auto it = b.by_id.find(entity.id); it != b.by_id.end()) add(it->second);
  for (const auto& [geoproperty, tree] : b.by_area)
    for (const auto& a : entity.attributes) {
      if (a.name != geoproperty || a.kind != model::AttributeKind::GeoProperty) continue;
      if (auto box = query::bounding_box(a.value))
        for (auto q = tree.qbegin(bgi::intersects(to_box(*box))); q != tree.qend(); ++q) out.push_back(q->second);
    }
  if (!b.by_type.empty())
    for (Term type : entity.types)
      if (auto it = b.by_type.find(type); it != b.by_type.end()) add(it->second);
  if (!b.by_attribute.empty()) {
    for (const auto* instances : {&event.written, &event.removed})
      for (const auto& instance : *instances)
        if (auto it = b.by_attribute.find(instance.first); it != b.by_attribute.end()) add(it->second);
  }
  add(b.everything);
  if (out.size() - first > 1) {
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
    out.erase(std::unique(out.begin() + static_cast<std::ptrdiff_t>(first), out.end()), out.end());
  }
}

}  // namespace ct::notify
