#include "notify/subscriptions.hpp"

#include <algorithm>
#include <condition_variable>
#include <queue>
#include <shared_mutex>
#include <spdlog/spdlog.h>
#include <thread>
#include <unordered_map>

#include "notify/matching.hpp"
#include "notify/notification.hpp"

namespace ct::notify {
namespace {

using RegistrationPtr = std::shared_ptr<const Registration>;

constexpr std::string_view kJsonLdContextRel = "http://www.w3.org/ns/json-ld#context";

Timestamp seconds_to_ms(double seconds) { return static_cast<Timestamp>(seconds * 1000.0 + 0.5); }

// The @context of a subscription's notifications as "@context" would carry it.
json::value context_member(const Subscription& s) {
  return s.context.value.is_null() ? json::value(jsonld::kCoreContextUrl) : s.context.value;
}

}  // namespace

struct Subscriptions::Impl {
  Impl(Subscriptions& s, twin::Twin& t, storage::Store& st, jsonld::ContextStore& c, NotifierOptions o)
      : self(s), twin(t), store(st), contexts(c), options(o), dispatcher(o.delivery) {}

  Subscriptions& self;  // the change consumer, to wake its delivery thread
  twin::Twin& twin;
  storage::Store& store;
  jsonld::ContextStore& contexts;
  NotifierOptions options;
  Dispatcher dispatcher;
  ListenerHub hub;

  // The registry: read by the matcher, written by the HTTP handlers.
  mutable std::shared_mutex registry_mutex;
  std::unordered_map<std::string, SubscriptionIndex> tenants;
  std::atomic<std::size_t> count{0};

  // Periodic subscriptions created or changed, for the matcher (the change stream's delivery thread).
  std::mutex schedule_mutex;
  std::vector<std::string> to_schedule;  // their keys
  std::atomic<std::uint64_t> notifications{0};

  // The matcher thread's own: when each subscription was last notified and what throttling holds.
  struct Pacing {
    std::string tenant, id;
    Timestamp last_sent = kNoTimestamp;
    Timestamp due = kNoTimestamp;  // the timer that counts; others for this key are stale
    std::vector<std::pair<std::string, json::object>> held;  // entity id, latest rendering
  };
  std::unordered_map<std::string, Pacing> pacing;
  using Timer = std::pair<Timestamp, std::string>;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;

  // ---- registry -------------------------------------------------------------------------------

  RegistrationPtr find(const std::string& tenant, const std::string& id) const {
    std::shared_lock lock(registry_mutex);
    auto t = tenants.find(tenant);
    if (t == tenants.end()) return nullptr;
    const Registration* r = t->second.find(id);
    return r ? r->shared_from_this() : nullptr;
  }

  // Files `s` and queues its document; the caller holds the lock. `replaced` is the registration a
  // PATCH replaces (its delivery status and creation sequence carry over), or null for a create.
  storage::Sequence put_locked(const std::string& tenant, Subscription s, const Registration* replaced) {
    auto r = std::make_shared<Registration>();
    r->tenant = tenant;
    r->status = replaced ? replaced->status : std::make_shared<DeliveryStatus>();
    const bool periodic = s.periodic();
    const std::string key = storage::tenant_key(tenant, s.id);
    std::string document = encode_document(s);
    r->subscription = std::make_shared<const Subscription>(std::move(s));
    const storage::Sequence sequence =
        store.enqueue({{storage::Collection::Subscriptions, key, std::move(document)}});
    r->since = replaced ? replaced->since : sequence;
    const bool was_active = replaced ? replaced->subscription->is_active : true;
    const bool active = r->subscription->is_active;
    if (was_active && !active) {
      r->paused_from = sequence;
      r->paused_until = Registration::kNotResumed;
    } else if (!was_active && active) {
      r->paused_from = replaced->paused_from;
      r->paused_until = sequence;
    } else if (replaced) {
      r->paused_from = replaced->paused_from;
      r->paused_until = replaced->paused_until;
    }
    auto& index = tenants[tenant];
    const std::size_t before = index.size();
    index.put(std::move(r));
    count += index.size() - before;
    if (periodic) schedule(key);
    return sequence;
  }

  void schedule(const std::string& key) {
    {
      std::lock_guard lock(schedule_mutex);
      to_schedule.push_back(key);
    }
    twin.changes().wake(self);
  }

  // ---- the matcher (the change stream's delivery thread) ------------------------------------------

  std::vector<const Registration*> scratch;  // candidates, in match()
  std::vector<std::string> scheduled;           // scratch of tick()

  Timestamp tick(Timestamp now) {
    {
      std::lock_guard lock(schedule_mutex);
      scheduled.swap(to_schedule);
    }
    for (const auto& key : scheduled) start_periodic(key);
    scheduled.clear();
    run_timers(now);
    return timers.empty() ? kNoTimestamp : timers.top().first;
  }

  void match(const twin::ChangeEvent& event) {
    auto& candidates = scratch;
    std::vector<RegistrationPtr> matched;
    const Timestamp now = now_ms();
    {
      std::shared_lock lock(registry_mutex);
      auto t = tenants.find(event.tenant);
      if (t == tenants.end()) return;
      candidates.clear();
      t->second.candidates(event, candidates);
      for (const Registration* r : candidates) {
        const Subscription& s = *r->subscription;
        if (!r->notifies_change_at(event.sequence) || s.expired(now) || s.periodic()) continue;
        if (fired_triggers(s, event)) matched.push_back(r->shared_from_this());
      }
    }
    for (const auto& r : matched) pace(r, event.entity->id, notified_entity(*r->subscription, event), now);
  }

  // Sends at once, or holds the entity until the throttling period is over.
  void pace(const RegistrationPtr& r, const std::string& entity_id, json::object entity, Timestamp now) {
    const Subscription& s = *r->subscription;
    if (s.throttling <= 0) {
      json::array data;
      data.push_back(std::move(entity));
      notify(r, std::move(data), now);
      return;
    }
    const std::string key = storage::tenant_key(r->tenant, s.id);
    Pacing& p = pacing[key];
    p.tenant = r->tenant;
    p.id = s.id;
    const Timestamp period = seconds_to_ms(s.throttling);
    if (p.held.empty() && (p.last_sent == kNoTimestamp || now - p.last_sent >= period)) {
      p.last_sent = now;
      json::array data;
      data.push_back(std::move(entity));
      notify(r, std::move(data), now);
      return;
    }
    auto same = std::find_if(p.held.begin(), p.held.end(), [&](const auto& h) { return h.first == entity_id; });
    if (same != p.held.end()) same->second = std::move(entity);
    else p.held.emplace_back(entity_id, std::move(entity));
    if (p.due == kNoTimestamp) {
      p.due = p.last_sent + period;
      timers.emplace(p.due, key);
    }
  }

  void start_periodic(const std::string& key) {
    std::string_view tenant, id;
    if (!storage::split_tenant_key(key, tenant, id)) return;
    Pacing& p = pacing[key];
    p.tenant = std::string(tenant);
    p.id = std::string(id);
    p.due = now_ms();
    timers.emplace(p.due, key);
  }

  void run_timers(Timestamp now) {
    while (!timers.empty() && timers.top().first <= now) {
      const auto [due, key] = timers.top();
      timers.pop();
      auto it = pacing.find(key);
      if (it == pacing.end() || it->second.due != due) continue;  // stale
      Pacing& p = it->second;
      p.due = kNoTimestamp;
      RegistrationPtr r = find(p.tenant, p.id);
      if (!r) {
        pacing.erase(it);
        continue;
      }
      const Subscription& s = *r->subscription;
      const bool live = s.is_active && !s.expired(now);
      if (s.periodic()) {
        if (live) send_periodic(r, now);
        p.last_sent = now;
        if (!s.expired(now)) {
          const Timestamp interval = std::max<Timestamp>(1, seconds_to_ms(s.time_interval));
          p.due = due + interval > now ? due + interval : now + interval;
          timers.emplace(p.due, key);
        }
        continue;
      }
      if (!p.held.empty() && live) {
        json::array data;
        for (auto& [entity_id, entity] : p.held) data.push_back(std::move(entity));
        p.last_sent = now;
        notify(r, std::move(data), now);
      }
      p.held.clear();
    }
  }

  void send_periodic(const RegistrationPtr& r, Timestamp now) {
    const Subscription& s = *r->subscription;
    json::array data;
    (void)twin.query(r->tenant, s.query, 0, std::numeric_limits<std::size_t>::max(), [&](const model::Entity& e) {
      data.push_back(notified_entity(s, e));
      if (data.size() >= options.max_entities_per_notification) notify(r, std::exchange(data, {}), now);
    });
    if (!data.empty()) notify(r, std::move(data), now);
  }

  void notify(const RegistrationPtr& r, json::array data, Timestamp now) {
    const Subscription& s = *r->subscription;
    const std::string key = storage::tenant_key(r->tenant, s.id);
    json::object notification = make_notification(s.id, std::move(data), now);
    notifications.fetch_add(1, std::memory_order_relaxed);
    const bool to_endpoint = !s.address.websocket_only();
    if (to_endpoint) {
      Outgoing out;
      out.registration = r;
      const bool context_is_url = s.context.value.is_string() || s.context.value.is_null();
      if (s.endpoint.accept == "application/ld+json" || !context_is_url) {
        out.content_type = "application/ld+json";
        notification["@context"] = context_member(s);
        out.body = to_text(notification);
        notification.erase("@context");
      } else {
        out.content_type = "application/json";
        out.link = "<" + std::string(context_member(s).get_string()) + ">; rel=\"" + std::string(kJsonLdContextRel) +
                   "\"; type=\"application/ld+json\"";
        out.body = to_text(notification);
      }
      dispatcher.send(std::move(out));
    }
    if (hub.has_listeners(key)) {
      notification["@context"] = context_member(s);
      const std::size_t listeners = hub.broadcast(key, std::make_shared<const std::string>(to_text(notification)));
      if (!to_endpoint && listeners > 0) r->status->record(true, now);
    }
  }
};

Subscriptions::Subscriptions(twin::Twin& twin, storage::Store& store, jsonld::ContextStore& contexts,
                             NotifierOptions options)
    : impl_(std::make_unique<Impl>(*this, twin, store, contexts, options)) {}

Subscriptions::~Subscriptions() { stop(); }

Status Subscriptions::restore() {
  std::size_t restored = 0, failed = 0;
  std::unique_lock lock(impl_->registry_mutex);
  auto st = impl_->store.scan(storage::Collection::Subscriptions, "", [&](std::string_view key, std::string_view value) {
    std::string_view tenant, id;
    if (!storage::split_tenant_key(key, tenant, id)) return true;
    auto s = decode_document(value, impl_->contexts);
    if (!s) {
      ++failed;
      spdlog::error("subscription {} (tenant \"{}\") not restored: {}", id, tenant, s.problem().detail);
      return true;
    }
    auto r = std::make_shared<Registration>();
    r->tenant = std::string(tenant);
    r->status = std::make_shared<DeliveryStatus>();
    const bool periodic = s->periodic();
    r->subscription = std::make_shared<const Subscription>(std::move(s).value());
    if (!r->subscription->is_active) {
      r->paused_from = 1;  // every change after the restart
      r->paused_until = Registration::kNotResumed;
    }
    impl_->tenants[r->tenant].put(std::move(r));
    if (periodic) {
      std::lock_guard schedule_lock(impl_->schedule_mutex);
      impl_->to_schedule.push_back(std::string(key));
    }
    ++restored;
    return true;
  });
  impl_->count = restored;
  if (restored || failed) spdlog::info("restored {} subscriptions ({} could not be read back)", restored, failed);
  return st;
}

void Subscriptions::start() {
  impl_->dispatcher.start();
  impl_->twin.changes().release(*this);
}

void Subscriptions::stop() {
  impl_->dispatcher.stop();  // first: a consumer thread waiting in send() for slow receivers goes on
  impl_->twin.changes().detach(*this);
}

Result<Subscriptions::Created> Subscriptions::create(const std::string& tenant, const json::object& body,
                                                     const ContextRef& ctx) {
  auto s = parse_subscription(body, ctx, impl_->contexts, now_ms());
  if (!s) return s.problem();
  std::unique_lock lock(impl_->registry_mutex);
  if (auto t = impl_->tenants.find(tenant); t != impl_->tenants.end() && t->second.find(s->id))
    return Problem{ProblemKind::AlreadyExists, "subscription " + s->id + " already exists"};
  Created created;
  created.id = s->id;
  created.sequence = impl_->put_locked(tenant, std::move(s).value(), nullptr);
  return created;
}

Result<storage::Sequence> Subscriptions::update(const std::string& tenant, const std::string& id,
                                                const json::object& fragment, const ContextRef& ctx) {
  std::unique_lock lock(impl_->registry_mutex);
  auto t = impl_->tenants.find(tenant);
  const Registration* current = t == impl_->tenants.end() ? nullptr : t->second.find(id);
  if (!current) return not_found("subscription " + id + " was not found");
  auto s = patch_subscription(*current->subscription, fragment, ctx, impl_->contexts, now_ms());
  if (!s) return s.problem();
  return impl_->put_locked(tenant, std::move(s).value(), current);
}

Result<storage::Sequence> Subscriptions::remove(const std::string& tenant, const std::string& id) {
  const std::string key = storage::tenant_key(tenant, id);
  storage::Sequence sequence = 0;
  {
    std::unique_lock lock(impl_->registry_mutex);
    auto t = impl_->tenants.find(tenant);
    if (t == impl_->tenants.end() || !t->second.find(id)) return not_found("subscription " + id + " was not found");
    t->second.remove(id);
    --impl_->count;
    if (t->second.size() == 0) impl_->tenants.erase(t);
    sequence = impl_->store.enqueue({{storage::Collection::Subscriptions, key, std::nullopt}});
  }
  impl_->hub.close_all(key);
  return sequence;
}

Result<Subscriptions::View> Subscriptions::get(const std::string& tenant, const std::string& id) const {
  RegistrationPtr r = impl_->find(tenant, id);
  if (!r) return not_found("subscription " + id + " was not found");
  return View{r->subscription, r->status->report()};
}

std::vector<Subscriptions::View> Subscriptions::list(const std::string& tenant, std::size_t offset, std::size_t limit,
                                                     std::size_t& total) const {
  std::vector<RegistrationPtr> all;
  {
    std::shared_lock lock(impl_->registry_mutex);
    if (auto t = impl_->tenants.find(tenant); t != impl_->tenants.end()) all = t->second.all();
  }
  total = all.size();
  std::vector<View> page;
  for (std::size_t i = offset; i < all.size() && i - offset < limit; ++i)
    page.push_back(View{all[i]->subscription, all[i]->status->report()});
  return page;
}

void Subscriptions::stream(boost::asio::ip::tcp::socket socket, UpgradeRequest request, const std::string& tenant,
                           const std::string& id) {
  accept_websocket(std::move(socket), std::move(request), impl_->hub, storage::tenant_key(tenant, id));
}

twin::QueueLimits Subscriptions::queue_limits() const {
  return {impl_->options.event_queue_capacity, impl_->options.queue_full_wait};
}

bool Subscriptions::wants(const twin::ChangeEvent&) const { return impl_->count.load(std::memory_order_relaxed) != 0; }

void Subscriptions::consume(std::span<const twin::ChangeEvent> events) {
  for (const auto& e : events) impl_->match(e);
}

Timestamp Subscriptions::tick(Timestamp now) { return impl_->tick(now); }

NotifierStats Subscriptions::stats() const {
  NotifierStats out;
  const auto stream = impl_->twin.changes().stats(*this);
  out.subscriptions = impl_->count.load();
  out.events_queued = stream.events_queued;
  out.writer_waits = stream.writer_waits;
  out.notifications = impl_->notifications.load();
  out.delivery = impl_->dispatcher.stats();
  return out;
}

}  // namespace ct::notify
