// Citizen service requests: the workflow (forward only), the SLA clock and its breaches, and the
// figures per district and category, checked against counts made here by hand.
#include <gtest/gtest.h>

#include "domains/core/city_settings.hpp"
#include "domains/services/requests.hpp"

namespace ct::domains::services {
namespace {

constexpr Timestamp kHour = 3'600'000, kDay = 24 * kHour;
constexpr Timestamp kT0 = 1'800'000'000'000;  // a day start for the test

ServiceRequest request(std::string category, std::string district, Timestamp requested, Timestamp sla,
                       RequestStatus status = RequestStatus::Open) {
  ServiceRequest r;
  r.category = std::move(category);
  r.district = std::move(district);
  r.requested = requested;
  r.deadline = requested + sla;
  r.status = status;
  return r;
}

TEST(RequestStatus, Names) {
  for (auto s : {RequestStatus::Open, RequestStatus::Assigned, RequestStatus::Resolved, RequestStatus::Closed})
    EXPECT_EQ(parse_request_status(request_status_name(s)), s);
  EXPECT_FALSE(parse_request_status("pending"));
}

TEST(RequestBook, TheWorkflowMovesForwardOnly) {
  RequestBook book;
  ASSERT_EQ(*book.observe("r1", request("roads", "d1", kT0, 72 * kHour), kT0), RequestBook::Outcome::New);
  EXPECT_EQ(*book.observe("r1", status_only(RequestStatus::Open), kT0 + 1), RequestBook::Outcome::Unchanged);
  EXPECT_EQ(*book.observe("r1", status_only(RequestStatus::Assigned), kT0 + kHour), RequestBook::Outcome::Moved);
  auto back = book.observe("r1", status_only(RequestStatus::Open), kT0 + 2 * kHour);
  ASSERT_FALSE(back);
  EXPECT_NE(back.problem().detail.find("from assigned to open"), std::string::npos) << back.problem().detail;
  EXPECT_EQ(book.find("r1")->status, RequestStatus::Assigned);
  // Steps may be skipped forward: assigned → closed (resolved on the way).
  EXPECT_EQ(*book.observe("r1", status_only(RequestStatus::Closed), kT0 + 3 * kHour), RequestBook::Outcome::Moved);
  EXPECT_EQ(book.find("r1")->resolved, kT0 + 3 * kHour);
  EXPECT_FALSE(book.find("r1")->breached);
}

TEST(RequestBook, BreachesAreFoundOnceAndOnlyWhenUnresolvedAtTheDeadline) {
  RequestBook book;
  (void)book.observe("late", request("water", "d1", kT0, 24 * kHour), kT0);
  (void)book.observe("on-time", request("water", "d1", kT0, 24 * kHour), kT0);
  (void)book.observe("on-time", status_only(RequestStatus::Resolved), kT0 + 23 * kHour);
  EXPECT_TRUE(book.newly_breached(kT0 + 24 * kHour - 1).empty());
  EXPECT_EQ(book.newly_breached(kT0 + 24 * kHour), std::vector<std::string>{"late"});
  EXPECT_TRUE(book.newly_breached(kT0 + 30 * kHour).empty());  // once
  EXPECT_TRUE(book.find("late")->breached);
  EXPECT_FALSE(book.find("on-time")->breached);
  // Resolving late keeps it breached; a request first seen resolved after its deadline is breached.
  (void)book.observe("late", status_only(RequestStatus::Resolved), kT0 + 25 * kHour);
  EXPECT_TRUE(book.find("late")->breached);
  auto seen_late = request("water", "d1", kT0, kHour, RequestStatus::Resolved);
  (void)book.observe("seen-late", seen_late, kT0 + 2 * kHour);
  EXPECT_TRUE(book.find("seen-late")->breached);
}

TEST(RequestBook, FiguresPerDistrictAndCategory) {
  RequestBook book;
  const Timestamp day = kT0, next = kT0 + kDay;
  // d1/roads: two on time today, one late today (breached this morning, still open).
  (void)book.observe("a", request("roads", "d1", day - 2 * kDay, 72 * kHour), day - 2 * kDay);
  (void)book.observe("a", status_only(RequestStatus::Resolved), day + kHour);
  (void)book.observe("b", request("roads", "d1", day + kHour, 72 * kHour), day + kHour);
  (void)book.observe("b", status_only(RequestStatus::Resolved), day + 5 * kHour);
  (void)book.observe("c", request("roads", "d1", day - 3 * kDay + 2 * kHour, 72 * kHour), day - 3 * kDay);
  ASSERT_EQ(book.newly_breached(day + 3 * kHour), std::vector<std::string>{"c"});
  // d2/water: one open, requested today.
  (void)book.observe("d", request("water", "d2", day + 6 * kHour, 24 * kHour), day + 6 * kHour);
  // Yesterday's: resolved yesterday, not in today's figures.
  (void)book.observe("e", request("water", "d2", day - kDay, 24 * kHour), day - kDay);
  (void)book.observe("e", status_only(RequestStatus::Closed), day - kHour);

  const auto f = book.figures(day, next);
  const auto& d1_roads = f.at({"d1", "roads"});
  EXPECT_EQ(d1_roads.opened, 1u);
  EXPECT_EQ(d1_roads.resolved, 2u);
  EXPECT_EQ(d1_roads.resolved_on_time, 2u);
  EXPECT_EQ(d1_roads.breached, 1u);
  EXPECT_EQ(d1_roads.backlog, 1u);
  EXPECT_NEAR(*d1_roads.compliance(), 100.0 * 2 / 3, 1e-9);
  const auto& d2 = f.at({"d2", ""});
  EXPECT_EQ(d2.opened, 1u);
  EXPECT_EQ(d2.resolved, 0u);
  EXPECT_EQ(d2.backlog, 1u);
  EXPECT_FALSE(d2.compliance());  // nothing resolved or breached today
  const auto& city = f.at({"", ""});
  EXPECT_EQ(city.opened, 2u);
  EXPECT_EQ(city.resolved, 2u);
  EXPECT_EQ(city.backlog, 2u);
  EXPECT_EQ(f.at({"", "roads"}).breached, 1u);
  // Closed long ago: forgotten.
  book.forget_closed(day);
  EXPECT_EQ(book.find("e"), nullptr);
  EXPECT_NE(book.find("a"), nullptr);
}

TEST(ServiceCategories, SettingsParseAndNameABadSla) {
  auto ok = parse_city_settings(json::parse(R"({"serviceCategories": {"pothole": {"name": "Potholes", "sla": "P2D"},
                                                                      "graffiti": {"sla": "PT36H"}}})").as_object(),
                                CitySettings{}, {});
  ASSERT_TRUE(ok) << ok.problem().detail;
  ASSERT_EQ(ok->service_categories.size(), 2u);
  EXPECT_EQ(ok->service_categories.at("pothole").sla_ms, 2 * kDay);
  EXPECT_EQ(ok->service_categories.at("graffiti").name, "graffiti");
  EXPECT_EQ(to_json(*ok).at("serviceCategories").at("pothole").at("sla"), "P2D");
  auto bad = parse_city_settings(json::parse(R"({"serviceCategories": {"pothole": {"sla": "two days"}}})").as_object(),
                                 CitySettings{}, {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.problem().kind, ProblemKind::BadRequestData);
  EXPECT_NE(bad.problem().detail.find("serviceCategories.pothole.sla"), std::string::npos) << bad.problem().detail;
  auto zero = parse_city_settings(json::parse(R"({"serviceCategories": {"pothole": {"sla": "PT0S"}}})").as_object(),
                                  CitySettings{}, {});
  ASSERT_FALSE(zero);
  EXPECT_FALSE(CitySettings{}.service_categories.empty());
}

}  // namespace
}  // namespace ct::domains::services
