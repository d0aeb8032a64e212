#pragma once
// The public services application (issue #16): citizen service requests (市民热线 / 12345 hotline).
//
// Requests are Smart Data Model IssueTracking `service_requests` entities (once Open311
// ServiceRequest): `service_code` (the category: a code of the city settings' serviceCategories),
// `status` open | assigned | resolved | closed (the SDM lists open and closed; the two steps between
// are this workflow's, docs/data-models.md), `requested_datetime`, a GeoProperty `location`.
// - First seen: the request's district (the city's district layer) and deadline (requested + the
//   category's SLA) are written: `refDistrict`, `expected_datetime`, `slaBreached` false.
// - A request not resolved by its deadline: `slaBreached` true and `slaBreachedAt` (the default rule
//   "service-sla-breach" escalates it as an Alert until the request is closed).
// - An unknown category, a location outside every district (or none), a status outside the
//   workflow or a step back: `problemDetail` on the request naming it, counted on /metrics
//   (citytwin_services_requests_rejected_total{cause}); the request is left out of every figure.
// - KPIs of the local day, per district and city: requestsOpened, requestsResolved, openRequests
//   and slaCompliance (% resolved on time among those resolved or breached), and slaCompliance per
//   district and category (subject: the category code).
#include <memory>

#include "domains/core/application.hpp"

namespace ct::domains::services {

inline constexpr std::string_view kIssueTrackingContextUrl =
    "https://raw.githubusercontent.com/smart-data-models/dataModel.IssueTracking/master/context.jsonld";

std::unique_ptr<Application> make_application(AppServices& services);

}  // namespace ct::domains::services
