#pragma once
// Runs the server until SIGTERM or SIGINT: open the store, rebuild the twin, serve, shut down cleanly.
#include <csignal>
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
  std::string mqtt;               // mqtt://host:port: ingest device messages from this broker
  std::string mqtt_shared_group;  // MQTT v5 shared subscriptions, for several nodes on one broker
  std::string coap;               // address:port: ingest device messages over CoAP (UDP) there
};

// Returns the process exit code.
int serve(const ServeOptions& options, const sigset_t& stop_signals);

}  // namespace ct::app
