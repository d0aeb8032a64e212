#include "domains/services/services_app.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <map>

#include "domains/core/app_support.hpp"
#include "domains/core/city_settings.hpp"
#include "domains/core/districts.hpp"
#include "domains/services/requests.hpp"

namespace ct::domains::services {
namespace {

using model::Term;

constexpr std::string_view kIssue = "https://smartdatamodels.org/dataModel.IssueTracking/";
constexpr Timestamp kDayMs = 24 * 3'600'000;

Term term(std::string_view name) { return Term::intern(std::string(kIssue) + std::string(name)); }

struct Vocabulary {
  Term type = term("service_requests"), code = term("service_code"), requested = term("requested_datetime");
  Term status = Term::intern("https://uri.etsi.org/ngsi-ld/status");
};
const Vocabulary& vocabulary() {
  static const Vocabulary v;
  return v;
}

enum class Reject : std::uint8_t { UnknownCategory, OutsideDistricts, BadStatus, StepBack };
constexpr std::array<std::string_view, 4> kRejectNames{"unknown_category", "outside_districts", "bad_status",
                                                       "step_back"};

class ServicesApp final : public Application {
 public:
  explicit ServicesApp(AppServices& services)
      : services_(services), districts_(services.twin, services.contexts),
        writer_(services.twin, services.contexts.core(), "services") {}

  std::string_view name() const override { return "services"; }
  std::vector<Term> consumes() const override { return {vocabulary().type}; }

  Status start() override {
    auto ctx = services_.contexts.resolve_url(std::string(kIssueTrackingContextUrl));
    if (!ctx) return ctx.problem();
    issue_context_ = *ctx;
    return {};
  }

  void on_change(const twin::ChangeEvent& event) override {
    // Its own write-backs (district, deadline, breach, problem) are not news about the request.
    if (event.kind == twin::ChangeEvent::Kind::Deleted || !event.entity || event.origin == twin::Origin::Application)
      return;
    auto& t = tenants_[event.tenant];
    const auto& e = *event.entity;
    const Timestamp at = event.at != kNoTimestamp ? event.at : now_ms();
    const auto status_text = text_of(e, vocabulary().status).value_or("open");
    const auto status = parse_request_status(status_text);
    if (!status)
      return reject(Reject::BadStatus, event.tenant, e.id,
                    "status '" + status_text + "' is not one of open, assigned, resolved, closed", at);
    if (const auto* known = t.book.find(e.id)) {
      const bool was_breached = known->breached;
      auto moved = t.book.observe(e.id, status_only(*status), at);
      if (!moved) return reject(Reject::StepBack, event.tenant, e.id, moved.problem().detail, at);
      if (*moved == RequestBook::Outcome::Moved) {
        t.changed = true;
        if (!was_breached && t.book.find(e.id)->breached) breach(event.tenant, e.id, at);
      }
      return;
    }
    first_seen(event.tenant, t, e, *status, at);
  }

  void on_tick(Timestamp now) override {
    for (auto& [tenant, t] : tenants_) {
      for (const auto& id : t.book.newly_breached(now)) {
        breach(tenant, id, now);
        t.changed = true;
      }
      if (t.changed && now >= t.next_figures) {
        t.changed = false;
        t.next_figures = now + 5'000;
        figures(tenant, t, now);
      }
    }
    board_.flush(services_.kpis, now);
  }

  void counters(std::vector<AppCounter>& out) const override {
    out.push_back({"services_requests", "service requests taken into account", "", accepted_.load()});
    for (std::size_t i = 0; i < kRejectNames.size(); ++i)
      out.push_back({"services_requests_rejected", "service requests or status changes left out, by cause",
                     "cause=\"" + std::string(kRejectNames[i]) + "\"", rejected_[i].load()});
    out.push_back({"services_sla_breaches", "service requests that missed their SLA", "", breaches_.load()});
    out.push_back({"services_kpis_published", "services KPI values published", "", board_.published()});
    out.push_back({"services_write_failures", "write-backs that failed", "", writer_.failures()});
  }

 private:
  struct Tenant {
    RequestBook book;
    LocalDay day;
    bool changed = true;
    Timestamp next_figures = kNoTimestamp;
    Timestamp day_start = kNoTimestamp;
  };

  void reject(Reject cause, const std::string& tenant, const std::string& id, std::string detail, Timestamp at) {
    ++rejected_[static_cast<std::size_t>(cause)];
    writer_.report_problem(tenant, id, bad_request(std::move(detail)), at);
  }

  void first_seen(const std::string& tenant, Tenant& t, const model::Entity& e, RequestStatus status, Timestamp at) {
    const auto settings = services_.settings.get(tenant);
    const auto code = text_of(e, vocabulary().code).value_or("");
    const auto category = settings->service_categories.find(code);
    if (category == settings->service_categories.end()) {
      std::string known;
      for (const auto& [c, _] : settings->service_categories) known += (known.empty() ? "" : ", ") + c;
      return reject(Reject::UnknownCategory, tenant, e.id,
                    "service_code '" + code + "' is not a service category of this city (" + known + ")", at);
    }
    const auto point = point_location(e);
    std::optional<std::string> district;
    if (point) district = districts_.district_of(tenant, settings->district_type, point->first, point->second);
    if (!district) {
      char where[80] = "no Point location";
      if (point) std::snprintf(where, sizeof where, "location [%.6f, %.6f]", point->first, point->second);
      return reject(Reject::OutsideDistricts, tenant, e.id,
                    std::string(where) + " lies outside every district (" + settings->district_type + ")", at);
    }
    ServiceRequest r;
    r.category = code;
    r.district = *district;
    r.requested = date_time_of(e, vocabulary().requested).value_or(at);
    r.deadline = r.requested + category->second.sla_ms;
    r.status = status;
    (void)t.book.observe(e.id, r, at);
    ++accepted_;
    t.changed = true;
    const bool breached = t.book.find(e.id)->breached;
    json::object body{{"expected_datetime", property(json::string(format_datetime(r.deadline)))},
                      {"refDistrict", relationship(*district)},
                      {"slaBreached", property(breached)}};
    writer_.merge(tenant, e.id, body, issue_context_.get());
    if (breached) ++breaches_;
  }

  void breach(const std::string& tenant, const std::string& id, Timestamp at) {
    ++breaches_;
    writer_.merge(tenant, id,
                  {{"slaBreached", property(true)}, {"slaBreachedAt", property(json::string(format_datetime(at)))}},
                  issue_context_.get());
  }

  void figures(const std::string& tenant, Tenant& t, Timestamp now) {
    const auto settings = services_.settings.get(tenant);
    const auto day = t.day.of(settings->time_zone, now);
    if (day.start != t.day_start) {
      t.day_start = day.start;
      t.book.forget_closed(day.start - 2 * kDayMs);
    }
    for (const auto& [key, f] : t.book.figures(day.start, day.end)) {
      const std::string& district = key.first;
      const std::string& category = key.second;
      auto figure = [&](std::string indicator, std::string title, std::string description, double value) {
        KpiFigure k;
        k.application = "services";
        k.indicator = std::move(indicator);
        k.name = std::move(title);
        k.description = std::move(description);
        k.frequency = "daily";
        if (!district.empty()) k.district = district;
        if (!category.empty()) k.subject = category;
        k.from = day.start;
        k.to = day.end;
        k.value = value;
        return k;
      };
      if (const auto compliance = f.compliance()) {
        auto k = figure("slaCompliance", "SLA compliance",
                        "Share of service requests resolved within their category's SLA, among those resolved or "
                        "breached today (%)",
                        std::round(*compliance * 10) / 10);
        k.standing = *compliance >= 95 ? "good" : *compliance >= 80 ? "fair" : "bad";
        board_.set(tenant, std::move(k));
      }
      if (!category.empty()) continue;  // counts per district and city only
      board_.set(tenant, figure("requestsOpened", "Service requests opened", "Requests made today", double(f.opened)));
      board_.set(tenant, figure("requestsResolved", "Service requests resolved", "Requests resolved today", double(f.resolved)));
      board_.set(tenant, figure("openRequests", "Open service requests", "Requests not resolved yet", double(f.backlog)));
    }
  }

  AppServices& services_;
  DistrictLocator districts_;
  WriteBack writer_;
  KpiBoard board_;
  jsonld::ContextPtr issue_context_;
  std::map<std::string, Tenant> tenants_;
  std::atomic<std::uint64_t> accepted_{0}, breaches_{0};
  std::array<std::atomic<std::uint64_t>, kRejectNames.size()> rejected_{};
};

}  // namespace

std::unique_ptr<Application> make_application(AppServices& services) { return std::make_unique<ServicesApp>(services); }

}  // namespace ct::domains::services
