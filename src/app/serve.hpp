#pragma once
// Runs the server until SIGTERM or SIGINT: open the store, rebuild the twin, serve, shut down cleanly.
#include <csignal>
#include <cstdint>
#include <string>

namespace ct::app {

struct ServeOptions {
  std::string listen = "127.0.0.1:1026";
  std::string data_dir = "var/data";
  unsigned threads = 2;
  std::size_t body_limit = 1 << 20;
  std::string context_dir;
  bool no_fsync = false;
  bool demo = false;
  std::string demo_data = CITYTWIN_DEMO_DATA_DIR;  // the demo city's data files (demo only)
  double demo_speed = 120;  // the demo's live feed: data time per wall-clock time (0: no feed)
  std::uint64_t demo_seed = 1;  // the generated city's layout and fault times (demo_generated.hpp)
  bool demo_generated = true;   // false: the demo without its generated part (bench/apps measures it)
  bool no_history = false;
  std::int64_t history_compact_interval_ms = 60'000;  // how often the compactor looks for old days
  std::int64_t history_compact_grace_ms = 600'000;    // a day is compacted this long after it ended
  std::int64_t history_retention_interval_ms = 3'600'000;  // how often retention policies are applied
  std::string mqtt;               // mqtt://host:port: ingest device messages from this broker
  std::string mqtt_shared_group;  // MQTT v5 shared subscriptions, for several nodes on one broker
  std::string coap;               // address:port: ingest device messages over CoAP (UDP) there
  std::string web_dir;            // the console's built files; empty: http::default_web_dir
  // The city applications to run (src/domains/catalog.cpp names), comma-separated, "all" or "none".
  // Empty: "none" for serve, so that a plain NGSI-LD broker never adds attributes to the entities its
  // clients wrote; "all" for the demo city.
  std::string applications;
};

// Returns the process exit code.
int serve(const ServeOptions& options, const sigset_t& stop_signals);

}  // namespace ct::app
