// Device payload decoding benchmark: what one MQTT message of five measures costs the ingest path,
// decoded (UltraLight or JSON) and each measure converted to its provisioned attribute type.
//
//   ingest_decode_bench
//   ingest_decode_bench --benchmark_filter=Json
//
// The numbers to compare with the broker: ns per message (Time), and measures per second (items).
#include <benchmark/benchmark.h>

#include <array>
#include <cstdlib>
#include <string_view>

#include "ingest/conversion.hpp"
#include "ingest/json_payload.hpp"
#include "ingest/ultralight.hpp"

namespace ct::ingest {
namespace {

constexpr std::string_view kUltraLight = "t|23.5|h|40|p|1013.25|s|ok|b|1";
constexpr std::string_view kUltraLightTimed = "TimeInstant|2024-01-01T08:00:00Z|t|23.5|h|40|p|1013.25|s|ok|b|1";
constexpr std::string_view kJson = R"({"t":23.5,"h":40,"p":1013.25,"s":"ok","b":true})";
constexpr std::string_view kJsonTimed =
    R"({"t":23.5,"h":40,"p":1013.25,"s":"ok","b":true,"TimeInstant":"2024-01-01T08:00:00Z"})";
constexpr std::int64_t kMeasuresPerMessage = 5;

// A device's provisioning as the ingest path would hold it: types resolved, expressions compiled.
struct Mapping {
  std::string_view object_id;
  ValueType type;
  const Expression* expression;
};

const Expression& tenth() {
  static const Expression e = compile_expression("${@value * 0.1}").value();
  return e;
}

const std::array<Mapping, 5>& provisioning(bool with_expression) {
  static const std::array<Mapping, 5> plain = {{{"t", ValueType::Number, nullptr},
                                                {"h", ValueType::Integer, nullptr},
                                                {"p", ValueType::Number, nullptr},
                                                {"s", ValueType::Text, nullptr},
                                                {"b", ValueType::Boolean, nullptr}}};
  static const std::array<Mapping, 5> scaled = {{{"t", ValueType::Number, &tenth()},
                                                 {"h", ValueType::Integer, nullptr},
                                                 {"p", ValueType::Number, &tenth()},
                                                 {"s", ValueType::Text, nullptr},
                                                 {"b", ValueType::Boolean, nullptr}}};
  return with_expression ? scaled : plain;
}

// Converts every measure as its mapping says; the values go where the twin would take them.
void convert_all(const DecodedPayload& decoded, const std::array<Mapping, 5>& mappings) {
  for (const Reading& reading : decoded.readings)
    for (const Measure& m : reading.measures)
      for (const Mapping& mapping : mappings) {
        if (mapping.object_id != m.key) continue;
        auto value = mapping.expression ? convert(m.value, mapping.type, *mapping.expression, m.key)
                                        : convert(m.value, mapping.type, m.key);
        if (!value) std::abort();
        benchmark::DoNotOptimize(value);
        break;
      }
}

template <Result<DecodedPayload> (*Decode)(std::string_view, std::size_t)>
void decode_only(benchmark::State& state, std::string_view payload) {
  for (auto _ : state) {
    auto decoded = Decode(payload, kDefaultMaxPayloadBytes);
    if (!decoded) std::abort();
    benchmark::DoNotOptimize(decoded);
  }
  state.SetItemsProcessed(state.iterations() * kMeasuresPerMessage);
}

template <Result<DecodedPayload> (*Decode)(std::string_view, std::size_t)>
void decode_and_convert(benchmark::State& state, std::string_view payload, bool with_expression) {
  const auto& mappings = provisioning(with_expression);
  for (auto _ : state) {
    auto decoded = Decode(payload, kDefaultMaxPayloadBytes);
    if (!decoded) std::abort();
    convert_all(*decoded, mappings);
  }
  state.SetItemsProcessed(state.iterations() * kMeasuresPerMessage);
}

void UltraLightDecode(benchmark::State& state) { decode_only<decode_ultralight>(state, kUltraLight); }
void UltraLightDecodeConvert(benchmark::State& state) {
  decode_and_convert<decode_ultralight>(state, kUltraLight, false);
}
void UltraLightDecodeConvertTimed(benchmark::State& state) {
  decode_and_convert<decode_ultralight>(state, kUltraLightTimed, false);
}
void UltraLightDecodeConvertScaled(benchmark::State& state) {
  decode_and_convert<decode_ultralight>(state, kUltraLight, true);
}
void JsonDecode(benchmark::State& state) { decode_only<decode_json>(state, kJson); }
void JsonDecodeConvert(benchmark::State& state) { decode_and_convert<decode_json>(state, kJson, false); }
void JsonDecodeConvertTimed(benchmark::State& state) { decode_and_convert<decode_json>(state, kJsonTimed, false); }
void JsonDecodeConvertScaled(benchmark::State& state) { decode_and_convert<decode_json>(state, kJson, true); }

void ExpressionApply(benchmark::State& state) {
  const Expression fahrenheit = compile_expression("${(@value - 32) * 5 / 9}").value();
  double x = 98.6;
  for (auto _ : state) {
    benchmark::DoNotOptimize(x);
    benchmark::DoNotOptimize(fahrenheit.apply(x));
  }
}

BENCHMARK(UltraLightDecode);
BENCHMARK(UltraLightDecodeConvert);
BENCHMARK(UltraLightDecodeConvertTimed);
BENCHMARK(UltraLightDecodeConvertScaled);
BENCHMARK(JsonDecode);
BENCHMARK(JsonDecodeConvert);
BENCHMARK(JsonDecodeConvertTimed);
BENCHMARK(JsonDecodeConvertScaled);
BENCHMARK(ExpressionApply);

}  // namespace
}  // namespace ct::ingest

BENCHMARK_MAIN();
