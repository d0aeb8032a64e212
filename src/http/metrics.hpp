#pragma once
// The Prometheus text exposition format (version 0.0.4) of GET /metrics. Each part of the platform
// adds its metric families; a family's HELP and TYPE lines come once, before its samples.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace ct::http {

class MetricsText {
 public:
  // Starts a family: type is "counter" or "gauge". Names are citytwin_<part>_<what>[_total].
  void family(std::string_view name, std::string_view type, std::string_view help);
  // A sample of the current family; labels as `key="value",...` (values already escaped), or empty.
  void sample(double value, std::string_view labels = {});
  // A family with one sample.
  void counter(std::string_view name, std::string_view help, std::uint64_t value);
  void gauge(std::string_view name, std::string_view help, double value);

  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::string family_;
};

// What another part adds to /metrics (see Services::metric_sources).
using MetricsSource = std::function<void(MetricsText&)>;

}  // namespace ct::http
