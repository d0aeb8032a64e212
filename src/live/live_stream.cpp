#include "live/live_stream.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "common/json.hpp"
#include "common/time.hpp"
#include "jsonld/entity_codec.hpp"
#include "jsonld/entity_writer.hpp"
#include "query/geo.hpp"

namespace ct::live {
namespace {

const model::Term& location_term() {
  static const model::Term term = model::Term::intern("https://uri.etsi.org/ngsi-ld/location");
  return term;
}

struct Filter {
  bool all_types = true;
  std::unordered_set<model::Term> types;
  std::optional<query::Box> bbox;
  std::unordered_set<model::Term> everywhere;
};

// One change as kept for catch-up.
struct Kept {
  storage::Sequence sequence = 0;
  std::string tenant;
  std::shared_ptr<const model::Entity> entity;  // after the change; for a deletion, as it was
  bool deleted = false;
  Timestamp at = kNoTimestamp;
  std::optional<query::Box> box;  // of its location
};

bool matches(const Filter& f, const Kept& change) {
  const auto& types = change.entity->types;
  auto any_in = [&](const std::unordered_set<model::Term>& set) {
    for (model::Term t : types)
      if (set.contains(t)) return true;
    return false;
  };
  if (!f.all_types && !any_in(f.types)) return false;
  if (!f.bbox || !change.box || any_in(f.everywhere)) return true;
  return query::boxes_intersect(*f.bbox, *change.box);
}

struct Connection {
  std::weak_ptr<notify::Listener> listener;
  std::string tenant;
  Filter filter;     // every type, everywhere, until the client sends one
  bool stale = false;  // what it missed is not known (another process, or forgotten): reset it
  // The entities that changed since the client's baseline without their newest state being sent
  // to it (they did not match its filter then).
  std::unordered_set<std::string> missed;
};

std::string make_epoch() {
  std::random_device random;
  std::uniform_int_distribution<std::uint32_t> any;
  char text[32];
  std::snprintf(text, sizeof text, "%08x%08x", any(random), any(random));
  return text;
}

std::string text_message(std::string_view type, storage::Sequence seq, std::string_view extra = {}) {
  std::string out = "{\"type\":\"";
  out += type;
  out += "\",\"seq\":";
  out += std::to_string(seq);
  out += extra;
  out += '}';
  return out;
}

}  // namespace

struct LiveStream::Impl {
  jsonld::ContextPtr core_context;
  const jsonld::Context& core;
  LiveOptions options;
  std::string epoch = make_epoch();
  std::atomic<bool> recording{false};  // a client connected once: changes are kept from then on

  mutable std::mutex mutex;  // everything below
  // The newest change of each entity (by tenant_key(tenant, id)) since recording began, at most
  // options.kept_changes of them; `order` lists them oldest first (with superseded entries, pruned).
  std::unordered_map<std::string, Kept> latest;
  std::deque<std::pair<storage::Sequence, std::string>> order;
  storage::Sequence last_sequence = 0;    // of the last change consumed
  storage::Sequence forgotten_up_to = 0;  // the highest sequence of an entity's newest change dropped
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections;
  std::uint64_t changes_sent = 0, resets = 0;

  jsonld::EntityWriter writer;  // keyValues, core @context; used under `mutex`

  static jsonld::EncodeOptions key_values() {
    jsonld::EncodeOptions options;
    options.form = jsonld::Form::Simplified;
    return options;
  }

  Impl(jsonld::ContextPtr c, LiveOptions o)
      : core_context(std::move(c)), core(*core_context), options(o), writer(core_context, key_values()) {}

  // Appends the change as the client gets it: the entity in keyValues form, or its deletion.
  void render(std::string& out, const Kept& change) {
    if (change.deleted) {
      json::object gone;
      gone["id"] = change.entity->id;
      gone["type"] = change.entity->types.empty() ? std::string() : core.compact(change.entity->types.front().str());
      gone["deletedAt"] = format_datetime(change.at);
      append_text(out, gone);
      return;
    }
    writer.entity(out, *change.entity);
  }

  static void send(Connection& c, std::string message) {
    if (auto l = c.listener.lock()) l->deliver(std::make_shared<const std::string>(std::move(message)));
  }

  static void send_changes(Connection& c, storage::Sequence seq, const std::string& data) {
    send(c, text_message("changes", seq, ",\"data\":[" + data + "]"));
  }

  Result<Filter> parse_filter(const std::string& text) const {
    auto parsed = parse_json(text);
    if (!parsed || !parsed->is_object()) return Problem{ProblemKind::BadRequestData, "a filter is a JSON object"};
    const json::object& o = parsed->as_object();
    Filter f;
    auto term_list = [&](const char* key, std::unordered_set<model::Term>& out) -> Status {
      const auto* v = o.if_contains(key);
      if (!v) return {};
      if (!v->is_array()) return Problem{ProblemKind::BadRequestData, std::string(key) + " must be a list of type names"};
      for (const auto& item : v->as_array()) {
        if (!item.is_string()) return Problem{ProblemKind::BadRequestData, std::string(key) + " must be a list of type names"};
        out.insert(model::Term::intern(core.expand(item.get_string())));
      }
      return {};
    };
    if (auto st = term_list("types", f.types); !st) return st.problem();
    f.all_types = !o.contains("types");
    if (auto st = term_list("everywhere", f.everywhere); !st) return st.problem();
    if (const auto* b = o.if_contains("bbox"); b && !b->is_null()) {
      double c[4];
      if (!b->is_array() || b->as_array().size() != 4) return Problem{ProblemKind::BadRequestData, "bbox must be [minLon, minLat, maxLon, maxLat]"};
      for (std::size_t i = 0; i < 4; ++i) {
        const auto& n = b->as_array()[i];
        if (!n.is_number()) return Problem{ProblemKind::BadRequestData, "bbox must be [minLon, minLat, maxLon, maxLat]"};
        c[i] = n.to_number<double>();
      }
      if (c[0] > c[2] || c[1] > c[3]) return Problem{ProblemKind::BadRequestData, "bbox: the minimum is above the maximum"};
      f.bbox = query::Box{c[0], c[1], c[2], c[3]};
    }
    return f;
  }

  // A client's filter message: the new filter, then what it missed, then the acknowledgement.
  void on_filter(Connection& c, const std::string& text) {
    auto filter = parse_filter(text);
    std::lock_guard lock(mutex);
    if (!filter) {
      send(c, to_text(json::object{{"type", "error"}, {"detail", filter.problem().detail}}));
      return;
    }
    c.filter = std::move(*filter);
    // The newest state of each entity the client missed that the new filter matches, oldest first.
    std::vector<const Kept*> replay;
    for (auto it = c.missed.begin(); !c.stale && it != c.missed.end();) {
      auto found = latest.find(storage::tenant_key(c.tenant, *it));
      if (found == latest.end()) {
        c.stale = true;  // forgotten
      } else if (matches(c.filter, found->second)) {
        replay.push_back(&found->second);
        it = c.missed.erase(it);
        continue;
      }
      ++it;
    }
    if (c.stale) {
      c.stale = false;
      c.missed.clear();
      ++resets;
      send(c, text_message("reset", last_sequence));
      return;
    }
    std::sort(replay.begin(), replay.end(), [](const Kept* a, const Kept* b) { return a->sequence < b->sequence; });
    std::string data;
    for (const Kept* change : replay) {
      if (!data.empty()) data += ',';
      render(data, *change);
    }
    if (!replay.empty()) send_changes(c, replay.back()->sequence, data);
    changes_sent += replay.size();
    send(c, text_message("filter", last_sequence, ",\"replayed\":" + std::to_string(replay.size())));
  }

  // Keeps `change` as its entity's newest, forgetting the oldest entities beyond the limit.
  void keep(Kept change) {
    std::string key = storage::tenant_key(change.tenant, change.entity->id);
    order.emplace_back(change.sequence, key);
    latest.insert_or_assign(std::move(key), std::move(change));
    while (latest.size() > options.kept_changes && !order.empty()) {
      auto [sequence, oldest] = std::move(order.front());
      order.pop_front();
      auto it = latest.find(oldest);
      if (it == latest.end() || it->second.sequence != sequence) continue;  // superseded
      forgotten_up_to = std::max(forgotten_up_to, sequence);
      latest.erase(it);
    }
    if (order.size() > 2 * latest.size() + 1024) {  // drop the superseded entries
      std::erase_if(order, [&](const auto& entry) {
        auto it = latest.find(entry.second);
        return it == latest.end() || it->second.sequence != entry.first;
      });
    }
  }
};

LiveStream::LiveStream(twin::ChangeStream& changes, jsonld::ContextPtr core, LiveOptions options)
    : changes_(changes), impl_(std::make_shared<Impl>(std::move(core), options)) {
  changes_.attach(*this);
}

LiveStream::~LiveStream() { stop(); }

const std::string& LiveStream::epoch() const { return impl_->epoch; }

void LiveStream::accept(boost::asio::ip::tcp::socket socket, notify::UpgradeRequest request, std::string tenant,
                        std::string epoch, storage::Sequence since) {
  impl_->recording = true;
  auto connection = std::make_shared<Connection>();
  connection->tenant = std::move(tenant);
  notify::ConnectionHandlers handlers;
  handlers.opened = [impl = impl_, connection, epoch = std::move(epoch), since](const std::shared_ptr<notify::Listener>& l) {
    std::lock_guard lock(impl->mutex);
    connection->listener = l;
    if (!epoch.empty()) {  // a reconnection: what changed after `since` is what it missed
      // Nothing is sent before its first filter: what changes meanwhile is missed, and replayed by it.
      connection->filter.all_types = false;
      connection->stale = epoch != impl->epoch || since > impl->last_sequence || since < impl->forgotten_up_to;
      if (!connection->stale)
        for (const auto& [key, change] : impl->latest)
          if (change.sequence > since && change.tenant == connection->tenant) connection->missed.insert(change.entity->id);
    }
    impl->connections[connection.get()] = connection;
    Impl::send(*connection, to_text(json::object{{"type", "hello"}, {"epoch", impl->epoch}, {"seq", impl->last_sequence}}));
  };
  handlers.received = [impl = impl_, c = connection.get()](std::string message) { impl->on_filter(*c, message); };
  handlers.closed = [impl = impl_, c = connection.get()] {
    std::lock_guard lock(impl->mutex);
    impl->connections.erase(c);
  };
  notify::accept_websocket(std::move(socket), std::move(request), std::move(handlers));
}

void LiveStream::stop() {
  changes_.detach(*this);
  std::vector<std::shared_ptr<Connection>> all;
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& [key, c] : impl_->connections) all.push_back(c);
  }
  for (auto& c : all)
    if (auto l = c->listener.lock()) l->close();
}

LiveStats LiveStream::stats() const {
  std::lock_guard lock(impl_->mutex);
  return {impl_->connections.size(), impl_->changes_sent, impl_->resets};
}

bool LiveStream::wants(const twin::ChangeEvent&) const { return impl_->recording.load(std::memory_order_relaxed); }

void LiveStream::consume(std::span<const twin::ChangeEvent> events) {
  Impl& s = *impl_;
  std::lock_guard lock(s.mutex);
  std::unordered_map<Connection*, std::string> batches;
  for (const auto& event : events) {
    if (!event.entity) continue;
    Kept change;
    change.sequence = event.sequence;
    change.tenant = event.tenant;
    change.entity = event.entity;
    change.deleted = event.kind == twin::ChangeEvent::Kind::Deleted;
    change.at = event.at;
    if (const auto* location = event.entity->find(location_term())) change.box = query::bounding_box(location->value);
    s.last_sequence = std::max(s.last_sequence, event.sequence);
    std::optional<std::string> rendered;  // once, for every connection that wants it
    for (auto& [key, c] : s.connections) {
      if (c->tenant != change.tenant) continue;
      if (!matches(c->filter, change)) {
        c->missed.insert(change.entity->id);
        continue;
      }
      c->missed.erase(change.entity->id);
      if (!rendered) s.render(rendered.emplace(), change);
      std::string& batch = batches[key];
      if (!batch.empty()) batch += ',';
      batch += *rendered;
      ++s.changes_sent;
    }
    s.keep(std::move(change));
  }
  for (auto& [key, data] : batches) Impl::send_changes(*key, s.last_sequence, data);
}

}  // namespace ct::live
