#include "app/demo_feed.hpp"

#include <cmath>
#include <functional>
#include <sstream>

#include <spdlog/spdlog.h>

#include "app/demo_city.hpp"
#include "common/text_file.hpp"
#include "jsonld/entity_codec.hpp"

namespace ct::app {
namespace {

constexpr Timestamp kMinuteMs = 60'000, kHourMs = 60 * kMinuteMs, kDayMs = 24 * kHourMs;
constexpr std::array<const char*, 6> kPollutants{"pm25", "pm10", "so2", "no2", "co", "o3"};

// Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(yoe + era * 400 + (m <= 2));
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

json::object reading(json::value value, const char* unit, Timestamp at) {
  return {{"type", "Property"}, {"value", std::move(value)}, {"unitCode", unit}, {"observedAt", format_datetime(at)}};
}

}  // namespace

// One looping data set: `rows` rows `step_ms` apart, written as entity fragments of `tenant`.
struct DemoFeed::Series {
  std::string name, tenant;
  jsonld::ContextPtr context;
  Timestamp step_ms = 0;
  std::size_t rows = 0, first_row = 0;
  std::int64_t written = -1;  // the last step written (counted from start)
  std::function<json::array(std::size_t row, Timestamp now)> bodies;
};

DemoFeed::DemoFeed(twin::Twin& twin, jsonld::ContextStore& contexts, DemoFeedOptions options)
    : twin_(twin), contexts_(contexts), options_(std::move(options)) {}

DemoFeed::~DemoFeed() { stop(); }

Status DemoFeed::load() {
  const Timestamp now = now_ms();
  // --- Beijing air: time (Beijing, YYYY-MM-DDTHH), station, six pollutants -----------------------
  {
    const auto file = options_.data_dir / "beijing-air-2016-03_2017-02.csv.gz";
    auto text = read_text_file(file);
    if (!text) return Problem{ProblemKind::InternalError, "demo feed: " + text.problem().detail};
    std::istringstream lines(*text);
    std::string line;
    std::getline(lines, line);
    std::vector<std::string> stations;
    std::unordered_map<std::string, std::size_t> station_index;
    auto values = std::make_shared<std::vector<std::array<float, 6>>>();  // [hour × station]
    std::int64_t first_hour = -1;
    std::vector<std::tuple<std::int64_t, std::size_t, std::array<float, 6>>> rows;
    while (std::getline(lines, line)) {
      const auto f = split(line);
      if (f.size() != 8 || f[0].size() != 13)
        return Problem{ProblemKind::InternalError, "demo feed: " + file.string() + ": bad row " + line};
      const std::int64_t hour = days_from_civil(std::stoi(f[0].substr(0, 4)), static_cast<unsigned>(std::stoi(f[0].substr(5, 2))),
                                                static_cast<unsigned>(std::stoi(f[0].substr(8, 2)))) * 24 +
                                std::stoi(f[0].substr(11, 2));
      if (first_hour < 0) first_hour = hour;
      auto [it, added] = station_index.try_emplace(f[1], stations.size());
      if (added) stations.push_back(f[1]);
      std::array<float, 6> v{};
      for (std::size_t p = 0; p < 6; ++p) v[p] = f[2 + p].empty() ? NAN : std::stof(f[2 + p]);
      rows.emplace_back(hour - first_hour, it->second, v);
    }
    if (rows.empty()) return Problem{ProblemKind::InternalError, "demo feed: " + file.string() + " has no rows"};
    const std::size_t hours = static_cast<std::size_t>(std::get<0>(rows.back())) + 1;
    values->assign(hours * stations.size(), {NAN, NAN, NAN, NAN, NAN, NAN});
    for (const auto& [hour, station, v] : rows) (*values)[static_cast<std::size_t>(hour) * stations.size() + station] = v;

    auto s = std::make_unique<Series>();
    s->name = "Beijing air quality";
    s->context = contexts_.core();
    s->step_ms = kHourMs;
    s->rows = hours;
    // The row of the same day of the year and hour as now in Beijing (29 February: the 28th).
    int y = 0;
    unsigned m = 0, d = 0;
    const Timestamp beijing = now + 8 * kHourMs;
    civil_from_days(beijing / kDayMs, y, m, d);
    int first_y = 0;
    unsigned first_m = 0, first_d = 0;
    civil_from_days(first_hour / 24, first_y, first_m, first_d);
    const int data_year = m >= first_m ? first_y : first_y + 1;
    const auto aligned = (days_from_civil(data_year, m, m == 2 && d == 29 ? 28 : d) * 24 + (beijing % kDayMs) / kHourMs) - first_hour;
    s->first_row = static_cast<std::size_t>(((aligned % static_cast<std::int64_t>(hours)) + static_cast<std::int64_t>(hours)) %
                                            static_cast<std::int64_t>(hours));
    std::vector<std::string> ids;
    for (const auto& station : stations) {
      std::string id = "urn:ngsi-ld:AirQualityObserved:";
      for (char c : station) id.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      ids.push_back(id);
    }
    s->bodies = [values, ids](std::size_t row, Timestamp at) {
      json::array out;
      for (std::size_t i = 0; i < ids.size(); ++i) {
        const auto& v = (*values)[row * ids.size() + i];
        json::object body{{"id", ids[i]}, {"type", "AirQualityObserved"}};
        for (std::size_t p = 0; p < 6; ++p)
          if (!std::isnan(v[p])) body[kPollutants[p]] = reading(std::round(static_cast<double>(v[p]) * 10) / 10, "GQ", at);
        if (body.size() > 2) out.push_back(std::move(body));
      }
      return out;
    };
    series_.push_back(std::move(s));
  }
  // --- Los Angeles traffic: time (UTC), then one column of mph per sensor -----------------------
  {
    const auto file = options_.data_dir / "la-traffic-speeds.csv.gz";
    auto text = read_text_file(file);
    if (!text) return Problem{ProblemKind::InternalError, "demo feed: " + text.problem().detail};
    auto ctx = contexts_.resolve_url(kTransportationContext);
    if (!ctx) return ctx.problem();
    std::istringstream lines(*text);
    std::string line;
    std::getline(lines, line);
    auto header = split(line);
    std::vector<std::string> ids;
    for (std::size_t i = 1; i < header.size(); ++i) ids.push_back("urn:ngsi-ld:TrafficFlowObserved:metr-la-" + header[i]);
    auto tenths = std::make_shared<std::vector<std::int32_t>>();  // km/h × 10, as written
    std::size_t rows = 0;
    Timestamp first = kNoTimestamp;
    while (std::getline(lines, line)) {
      const auto f = split(line);
      if (f.size() != header.size())
        return Problem{ProblemKind::InternalError, "demo feed: " + file.string() + ": a row has " +
                                                       std::to_string(f.size()) + " fields, not " + std::to_string(header.size())};
      if (first == kNoTimestamp) first = parse_datetime(f[0]).value_or(kNoTimestamp);
      for (std::size_t i = 1; i < f.size(); ++i)
        tenths->push_back(static_cast<std::int32_t>(std::llround(std::stod(f[i]) * 1.609344 * 10)));
      ++rows;
    }
    if (rows == 0 || first == kNoTimestamp)
      return Problem{ProblemKind::InternalError, "demo feed: " + file.string() + " has no rows"};
    auto s = std::make_unique<Series>();
    s->name = "Los Angeles traffic";
    s->tenant = kLosAngelesTenant;
    s->context = *ctx;
    s->step_ms = 5 * kMinuteMs;
    s->rows = rows;
    // The row of the same weekday and time of day in Los Angeles (UTC-8, as the data's March week).
    const Timestamp week = 7 * kDayMs;
    const Timestamp since = (((now - first) % week) + week) % week;
    s->first_row = static_cast<std::size_t>(since / s->step_ms) % rows;
    s->bodies = [tenths, ids](std::size_t row, Timestamp at) {
      json::array out;
      for (std::size_t i = 0; i < ids.size(); ++i)
        out.push_back(json::object{
            {"id", ids[i]},
            {"type", "TrafficFlowObserved"},
            {"averageVehicleSpeed", reading((*tenths)[row * ids.size() + i] / 10.0, "KMH", at)}});
      return out;
    };
    series_.push_back(std::move(s));
  }
  return {};
}

Timestamp DemoFeed::step(Timestamp now) {
  Timestamp next = now + 1000;
  for (auto& s : series_) {
    // Data milliseconds since the start, and the step they reach.
    const double data_ms = static_cast<double>(now - started_) * options_.speed;
    const auto due = static_cast<std::int64_t>(data_ms / static_cast<double>(s->step_ms));
    if (due > s->written) {
      s->written = due;  // rows in between are skipped when the feed is behind
      const auto row = (s->first_row + static_cast<std::size_t>(due)) % s->rows;
      std::vector<jsonld::DecodedEntity> entities;
      for (const auto& body : s->bodies(row, now)) {
        auto decoded = jsonld::decode_entity(body.as_object(), *s->context, {});
        if (decoded) entities.push_back(std::move(decoded).value());
      }
      auto outcome = twin_.batch_upsert(s->tenant, std::move(entities), twin::UpsertMode::Update, {twin::Origin::Device, {}});
      for (const auto& item : outcome.items)
        if (item.error) spdlog::warn("demo feed: {}: {}", item.id, item.error->detail);
      ++rows_written_;
    }
    const auto next_ms = started_ + static_cast<Timestamp>(std::ceil(static_cast<double>(s->written + 1) *
                                                                      static_cast<double>(s->step_ms) / options_.speed));
    next = std::min(next, next_ms);
  }
  return next;
}

void DemoFeed::start() {
  if (series_.empty() || !(options_.speed > 0)) return;
  started_ = now_ms();
  for (const auto& s : series_)
    spdlog::info("demo feed: {} from row {} of {}, {}x real time", s->name, s->first_row, s->rows, options_.speed);
  step(started_);
  thread_ = std::thread([this] { run(); });
}

void DemoFeed::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    const Timestamp now = now_ms();
    const Timestamp next = step(now);
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds(std::max<Timestamp>(next - now_ms(), 1)), [this] { return stopping_; });
  }
}

void DemoFeed::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace ct::app
