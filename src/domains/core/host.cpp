#include "domains/core/host.hpp"

#include <algorithm>

namespace ct::domains {

Host::Host(AppServices services, HostOptions options) : services_(services), options_(options) {}

Host::~Host() { stop(); }

void Host::add(std::unique_ptr<Application> application) { applications_.push_back(std::move(application)); }

Status Host::start() {
  for (auto& application : applications_) {
    if (auto st = application->start(); !st) return st;
    for (auto type : application->consumes()) consumers_[type].push_back(application.get());
  }
  for (auto& application : applications_)  // once all started: stop() removes them
    if (auto* enricher = application->enricher()) services_.twin.add_enricher(enricher);
  started_ = true;
  return {};
}

void Host::stop() {
  if (!started_) return;
  started_ = false;
  services_.twin.changes().detach(*this);
  for (auto& application : applications_)
    if (auto* enricher = application->enricher()) services_.twin.remove_enricher(enricher);
  for (auto& application : applications_) application->stop();
}

Application* Host::find(std::string_view name) const {
  for (const auto& application : applications_)
    if (application->name() == name) return application.get();
  return nullptr;
}

HostStats Host::stats() const {
  const auto s = services_.twin.changes().stats(*this);
  return {s.events_queued, s.events_consumed, s.writer_waits, s.waiting};
}

void Host::counters(std::vector<AppCounter>& out) const {
  const auto s = stats();
  out.push_back({"host_events_queued", "changes queued for the applications", "", s.events_queued});
  out.push_back({"host_events_delivered", "changes handed to the applications", "", s.events_delivered});
  out.push_back({"host_writer_waits", "write calls that waited for the applications to catch up", "", s.writer_waits});
  for (const auto& application : applications_) application->counters(out);
}

twin::QueueLimits Host::queue_limits() const { return {options_.queue_capacity, options_.queue_full_wait}; }

bool Host::wants(const twin::ChangeEvent& event) const {
  if (!event.entity) return false;
  for (auto type : event.entity->types)
    if (consumers_.contains(type)) return true;
  return false;
}

void Host::consume(std::span<const twin::ChangeEvent> events) {
  for (const auto& event : events) deliver(event);
}

Timestamp Host::tick(Timestamp now) {
  if (next_tick_ == kNoTimestamp || now >= next_tick_) {
    for (auto& application : applications_) application->on_tick(now);
    next_tick_ = now + options_.tick.count();
  }
  return next_tick_;
}

void Host::deliver(const twin::ChangeEvent& event) {
  // An entity with two consumed types reaches an application once.
  if (event.entity->types.size() == 1) {  // the usual case
    if (auto it = consumers_.find(event.entity->types.front()); it != consumers_.end())
      for (auto* application : it->second) application->on_change(event);
    return;
  }
  std::vector<Application*> seen;
  for (auto type : event.entity->types) {
    auto it = consumers_.find(type);
    if (it == consumers_.end()) continue;
    for (auto* application : it->second) {
      if (std::find(seen.begin(), seen.end(), application) != seen.end()) continue;
      seen.push_back(application);
      application->on_change(event);
    }
  }
}

}  // namespace ct::domains
