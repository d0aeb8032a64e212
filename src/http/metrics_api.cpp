// GET /metrics: counters and gauges of the twin, notifications and ingestion, in the Prometheus
// text format; other parts add theirs through Services::metric_sources.
#include <chrono>
#include <cmath>

#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/services.hpp"
#include "ingest/ingestor.hpp"
#include "notify/subscriptions.hpp"

namespace ct::http {

void MetricsText::family(std::string_view name, std::string_view type, std::string_view help) {
  family_ = name;
  text_.append("# HELP ").append(name).append(" ").append(help).append("\n");
  text_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void MetricsText::sample(double value, std::string_view labels) {
  text_.append(family_);
  if (!labels.empty()) text_.append("{").append(labels).append("}");
  text_.push_back(' ');
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15)
    text_.append(std::to_string(static_cast<long long>(value)));
  else
    text_.append(std::to_string(value));
  text_.push_back('\n');
}

void MetricsText::counter(std::string_view name, std::string_view help, std::uint64_t value) {
  family(name, "counter", help);
  sample(static_cast<double>(value));
}

void MetricsText::gauge(std::string_view name, std::string_view help, double value) {
  family(name, "gauge", help);
  sample(value);
}

namespace {

void twin_metrics(const Services& s, MetricsText& m) {
  const auto stats = s.twin.stats();
  m.gauge("citytwin_twin_tenants", "Tenants in the twin.", static_cast<double>(stats.tenants));
  m.gauge("citytwin_twin_entities", "Entities in the twin, all tenants.", static_cast<double>(stats.entities));
}

void notify_metrics(const Services& s, MetricsText& m) {
  if (!s.subscriptions) return;
  const auto stats = s.subscriptions->stats();
  m.gauge("citytwin_notify_subscriptions", "Subscriptions, all tenants.", static_cast<double>(stats.subscriptions));
  m.counter("citytwin_notify_events_queued_total", "Change events queued for subscription matching.", stats.events_queued);
  m.counter("citytwin_notify_writer_waits_total", "Write calls that waited for the notification queue to drain.",
            stats.writer_waits);
  m.counter("citytwin_notify_notifications_total", "Notifications produced.", stats.notifications);
  m.family("citytwin_notify_deliveries_total", "counter", "Notification delivery attempts by outcome.");
  m.sample(static_cast<double>(stats.delivery.delivered), "outcome=\"delivered\"");
  m.sample(static_cast<double>(stats.delivery.failed_attempts), "outcome=\"failed_attempt\"");
  m.sample(static_cast<double>(stats.delivery.refused), "outcome=\"refused\"");
  m.sample(static_cast<double>(stats.delivery.dropped), "outcome=\"dropped\"");
  m.counter("citytwin_notify_sender_waits_total",
            "Notifications whose sending waited for healthy receivers to catch up (back-pressure).",
            stats.delivery.sender_waits);
  m.gauge("citytwin_notify_queued_bytes", "Bytes of notifications waiting for delivery.",
          static_cast<double>(stats.delivery.queued_bytes));
}

void ingest_metrics(const Services& s, MetricsText& m) {
  if (!s.ingest) return;
  const auto stats = s.ingest->stats();
  m.family("citytwin_ingest_messages_total", "counter", "Device messages written into the twin, by transport.");
  for (std::size_t i = 0; i < ingest::kTransportCount; ++i)
    m.sample(static_cast<double>(stats.accepted[i]),
             "transport=\"" + std::string(ingest::transport_name(static_cast<ingest::Transport>(i))) + "\"");
  m.family("citytwin_ingest_dropped_total", "counter", "Device messages dropped, by reason.");
  for (std::size_t i = 0; i < ingest::kDropReasonCount; ++i)
    m.sample(static_cast<double>(stats.dropped[i]),
             "reason=\"" + std::string(ingest::drop_reason_name(static_cast<ingest::DropReason>(i))) + "\"");
  m.counter("citytwin_ingest_readings_total", "Readings written (a message may carry several).", stats.readings);
  m.counter("citytwin_ingest_measures_total", "Measures written.", stats.measures);
  m.counter("citytwin_ingest_drop_logs_suppressed_total",
            "Dropped messages not logged (already logged for that device and reason within a minute).", stats.logs_suppressed);
  m.counter("citytwin_ingest_autoprovisioned_total", "Devices provisioned on their first message.", stats.autoprovisioned);
  m.counter("citytwin_ingest_commands_sent_total", "Commands published to devices.", stats.commands_sent);
  m.counter("citytwin_ingest_commands_failed_total", "Commands that could not be published.", stats.commands_failed);
  m.counter("citytwin_ingest_command_results_total", "Command answers received from devices.", stats.command_results);
  m.counter("citytwin_ingest_devices_went_offline_total", "Times a device was marked offline.", stats.went_offline);
  m.counter("citytwin_ingest_devices_came_online_total", "Times an offline device spoke again.", stats.came_online);
  m.gauge("citytwin_ingest_devices", "Provisioned devices, all tenants.", static_cast<double>(stats.devices));
  m.gauge("citytwin_ingest_devices_offline", "Provisioned devices marked offline.", static_cast<double>(stats.devices_offline));
  m.gauge("citytwin_ingest_service_groups", "Provisioned service groups, all tenants.", static_cast<double>(stats.groups));
}

void storage_metrics(Services& s, MetricsText& m) {
  const auto h = s.store.health();
  m.gauge("citytwin_storage_writable", "1 if the store accepts writes, 0 while it refuses them (volume full, write error).",
          h.writable ? 1 : 0);
  m.gauge("citytwin_storage_full", "1 while the data volume is at its reserve and writes are refused.",
          h.reason == "storage full" ? 1 : 0);
  m.gauge("citytwin_storage_free_bytes", "Free space of the data volume.", static_cast<double>(h.free_bytes));
  m.gauge("citytwin_storage_reserve_bytes", "Free space kept in reserve: writes are refused below it.",
          static_cast<double>(h.reserve_bytes));
  m.counter("citytwin_storage_refused_groups_total", "Commit groups refused at the reserve (their writes changed nothing).",
            h.refused_groups);
  m.counter("citytwin_storage_failed_groups_total", "Commit groups the store failed to write (their writes changed nothing).",
            h.failed_groups);
}

}  // namespace

void add_metrics_routes(Router& router, Services& s) {
  router.add(beast_http::verb::get, "/metrics", [&s](Call&) -> Outcome {
    MetricsText m;
    m.gauge("citytwin_uptime_seconds", "Seconds since the server started.",
            std::chrono::duration<double>(std::chrono::steady_clock::now() - s.started).count());
    twin_metrics(s, m);
    storage_metrics(s, m);
    notify_metrics(s, m);
    ingest_metrics(s, m);
    for (const auto& source : s.metric_sources) source(m);
    return make_response(200, m.text(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace ct::http
