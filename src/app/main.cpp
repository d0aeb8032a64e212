// citytwin: the smart-city platform server and its tools.
//   citytwin serve [--listen 127.0.0.1:1026] [--data-dir var/data] [--config FILE]
//   citytwin demo  (the demo city, live; until its data sets land it serves an empty city)
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <pthread.h>

#include "app/serve.hpp"
#include "common/logging.hpp"

int main(int argc, char** argv) {
  CLI::App app{"CityTwin: a digital twin of the city, speaking ETSI NGSI-LD"};
  app.set_config("--config", "", "read options from this TOML/INI file");
  app.require_subcommand(1);

  ct::app::ServeOptions options;
  std::string log_level = "info";

  auto add_server_options = [&](CLI::App* cmd) {
    cmd->add_option("--listen", options.listen, "address:port to serve HTTP on")->capture_default_str();
    cmd->add_option("--data-dir", options.data_dir, "where the embedded store keeps its files")->capture_default_str();
    cmd->add_option("--threads", options.threads, "HTTP worker threads")->capture_default_str()->check(CLI::Range(1, 64));
    cmd->add_option("--body-limit", options.body_limit, "largest request body accepted, in bytes")->capture_default_str();
    cmd->add_option("--context-dir", options.context_dir, "a folder of @context documents to pre-load (index.json + files)");
    cmd->add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
    cmd->add_option("--mqtt", options.mqtt, "ingest device messages from this MQTT broker (mqtt://host:port)");
    cmd->add_option("--mqtt-shared-group", options.mqtt_shared_group,
                    "subscribe as this MQTT v5 shared group (several nodes split the devices' messages)");
    cmd->add_flag("--no-fsync", options.no_fsync, "acknowledge writes before they are synced to disk (benchmarks only)");
  };
  auto* serve = app.add_subcommand("serve", "run the NGSI-LD server");
  add_server_options(serve);
  auto* demo = app.add_subcommand("demo", "run the server with the demo city");
  add_server_options(demo);

  CLI11_PARSE(app, argc, argv);
  ct::configure_logging(log_level);

  // Termination signals are taken synchronously by the main thread; every other thread has them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  options.demo = demo->parsed();
  return ct::app::serve(options, signals);
}
