#include "evaluation/evaluation.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace ct::evaluation {
namespace {

double two_decimals(double d) { return std::round(d * 100.0) / 100.0; }

// Days from 1970-01-01 to y-m-01 (proleptic Gregorian; Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

Timestamp month_start(int year, int month) {  // month may be 13: January of the next year
  if (month > 12) ++year, month -= 12;
  return days_from_civil(year, static_cast<unsigned>(month), 1) * 86400000LL;
}

bool parse_int(std::string_view text, int& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Result<Period> parse_period(std::string_view text) {
  auto fail = [&] {
    return bad_request("period: \"" + std::string(text) + "\" is none of YYYY, YYYY-Qn, YYYY-MM");
  };
  int year = 0;
  if (text.size() < 4 || !parse_int(text.substr(0, 4), year) || year < 1900) return fail();
  Period p{std::string(text)};
  if (text.size() == 4) {
    p.from = month_start(year, 1), p.to = month_start(year, 13);
  } else if (text.size() == 7 && text[4] == '-' && text[5] == 'Q') {
    int quarter = 0;
    if (!parse_int(text.substr(6), quarter) || quarter < 1 || quarter > 4) return fail();
    p.from = month_start(year, 3 * quarter - 2), p.to = month_start(year, 3 * quarter + 1);
  } else if (text.size() == 7 && text[4] == '-') {
    int month = 0;
    if (!parse_int(text.substr(5), month) || month < 1 || month > 12) return fail();
    p.from = month_start(year, month), p.to = month_start(year, month + 1);
  } else {
    return fail();
  }
  return p;
}

std::string_view status_name(InputStatus status) {
  switch (status) {
    case InputStatus::Computed: return "computed";
    case InputStatus::Manual: return "manual";
    case InputStatus::Missing: return "missing";
  }
  return "missing";
}

EvaluationResult evaluate(const Framework& f, const std::map<std::string, IndicatorInput>& inputs) {
  EvaluationResult out;
  out.indicators.resize(f.indicators.size());
  // Children come after their parents: fill from the end so every child is scored before its parent.
  std::vector<double> exact(f.indicators.size(), 0.0);
  for (std::size_t i = f.indicators.size(); i-- > 0;) {
    const Indicator& ind = f.indicators[i];
    IndicatorScore& s = out.indicators[i];
    s.code = ind.code;
    s.points = ind.points;
    if (ind.leaf()) {
      auto it = inputs.find(ind.code);
      if (it == inputs.end() || it->second.status == InputStatus::Missing || !std::isfinite(it->second.value)) {
        s.status = InputStatus::Missing;
        if (it != inputs.end()) s.provenance = it->second.provenance;
        ++out.missing;
      } else {
        s.status = it->second.status;
        s.value = it->second.value;
        s.fraction = score_fraction(*ind.rule, ind.direction, it->second.value);
        s.provenance = it->second.provenance;
        exact[i] = ind.points * s.fraction;
        ++(s.status == InputStatus::Computed ? out.computed : out.manual);
      }
    } else {
      bool any_missing = false, any_manual = false;
      for (std::size_t c : ind.children) {
        exact[i] += exact[c];
        any_missing |= out.indicators[c].status == InputStatus::Missing;
        any_manual |= out.indicators[c].status == InputStatus::Manual;
      }
      s.status = any_missing ? InputStatus::Missing : any_manual ? InputStatus::Manual : InputStatus::Computed;
    }
    s.score = two_decimals(exact[i]);
  }
  double total = 0;
  for (std::size_t r : f.roots) total += exact[r];
  out.total = two_decimals(total);
  return out;
}

json::object evaluation_result_json(const Framework& f, const EvaluationResult& result) {
  json::array indicators;
  for (std::size_t i = 0; i < result.indicators.size(); ++i) {
    const auto& s = result.indicators[i];
    const auto& ind = f.indicators[i];
    json::object o{{"code", s.code},
                   {"name", json::object{{"zh", ind.name_zh}, {"en", ind.name_en}}},
                   {"weight", s.points},
                   {"score", s.score},
                   {"status", status_name(s.status)}};
    if (!ind.parent.empty()) o["parent"] = ind.parent;
    if (ind.leaf()) {
      o["value"] = s.value ? json::value(*s.value) : json::value(nullptr);
      o["fraction"] = s.fraction;
      o["explain"] = json::object{{"source", indicator_source_json(*ind.source)},
                                  {"scoring", scoring_rule_json(*ind.rule)},
                                  {"direction", direction_name(ind.direction)},
                                  {"inputs", s.provenance}};
    }
    indicators.push_back(std::move(o));
  }
  return {{"framework", f.id},
          {"score", result.total},
          {"computed", result.computed},
          {"manual", result.manual},
          {"missing", result.missing},
          {"indicators", std::move(indicators)}};
}

std::string evaluation_csv(const Framework& f, const EvaluationResult& result) {
  auto field = [](std::string_view text) {
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
    std::string out = "\"";
    for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  };
  auto number = [](double d) {
    std::string out;
    append_double(out, d);
    return out;
  };
  std::string csv = "code,parent,name_zh,name_en,weight,score,status,value\r\n";
  for (std::size_t i = 0; i < result.indicators.size(); ++i) {
    const auto& s = result.indicators[i];
    const auto& ind = f.indicators[i];
    csv += field(s.code) + "," + field(ind.parent) + "," + field(ind.name_zh) + "," + field(ind.name_en) + "," +
           number(s.points) + "," + number(s.score) + "," + std::string(status_name(s.status)) + "," +
           (s.value ? number(*s.value) : std::string()) + "\r\n";
  }
  csv += "total,,,," + number(f.total) + "," + number(result.total) + ",,\r\n";
  return csv;
}

}  // namespace ct::evaluation
