// citytwin: the smart-city platform server and its tools.
//   citytwin serve [--listen 127.0.0.1:1026] [--data-dir var/data] [--config FILE]
//   citytwin demo  [--demo-data data/demo] [--speed 120]  (the demo city, live: Beijing air, Los Angeles traffic)
//   citytwin import --file obs.csv --entity-id ID --entity-type T --time-columns year,month,day,hour
//                   --column PM2.5=pm25 ...   (back-fills history into a stopped server's data dir)
//   citytwin replay --csv FILE --to mqtt://host:port|http://host:port [--speedup N] [--provision URL]
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <pthread.h>

#include "app/import.hpp"
#include "app/replay.hpp"
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
    cmd->add_option("--coap", options.coap, "ingest device messages over CoAP (UDP) on address:port, e.g. 127.0.0.1:5683");
    cmd->add_option("--web-dir", options.web_dir, "the console's built files (default: web/ beside the binary, else web/dist)");
    cmd->add_option("--applications", options.applications,
                    "the city applications to run: comma-separated names (air,traffic), all or none "
                    "(default: none for serve, all for demo)");
    cmd->add_flag("--no-fsync", options.no_fsync, "acknowledge writes before they are synced to disk (benchmarks only)");
    cmd->add_flag("--no-history", options.no_history, "keep no history (the temporal API is then unavailable)");
    cmd->add_option("--history-compact-interval-ms", options.history_compact_interval_ms,
                    "how often the history compactor looks for days to compress")
        ->capture_default_str()->check(CLI::Range(std::int64_t{10}, std::int64_t{86'400'000}));
    cmd->add_option("--history-compact-grace-ms", options.history_compact_grace_ms,
                    "how long after a day ended its raw history is compressed into a block")
        ->capture_default_str()->check(CLI::Range(std::int64_t{0}, std::int64_t{86'400'000} * 365));
    cmd->add_option("--history-retention-interval-ms", options.history_retention_interval_ms,
                    "how often history retention policies (/admin/v1/retention) are applied")
        ->capture_default_str()->check(CLI::Range(std::int64_t{10}, std::int64_t{86'400'000}));
  };
  auto* serve = app.add_subcommand("serve", "run the NGSI-LD server");
  add_server_options(serve);
  auto* demo = app.add_subcommand("demo", "run the server with the demo city");
  add_server_options(demo);
  demo->add_option("--demo-data", options.demo_data, "the demo city's data files")->capture_default_str();
  demo->add_option("--speed", options.demo_speed,
                   "the live feed's data time per wall-clock time (1: real time; 0: no feed)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  demo->add_option("--seed", options.demo_seed,
                   "the generated city's layout and the times of its injected faults")
      ->capture_default_str();
  bool no_generated = false;
  demo->add_flag("--no-generated", no_generated,
                 "leave out the generated city (water, power, structures, requests, emergencies, hospitals)");

  ct::app::ImportOptions import_options;
  auto* import = app.add_subcommand("import", "back-fill history from a CSV of observations (server stopped)");
  import->add_option("--data-dir", import_options.data_dir, "the data dir of the server")->capture_default_str();
  import->add_option("--file", import_options.file, "the CSV file (a header line, then one row per observation time)")->required();
  import->add_option("--tenant", import_options.tenant, "the NGSI-LD tenant (default: the default tenant)");
  import->add_option("--entity-id", import_options.entity_id, "the entity the rows describe")->required();
  import->add_option("--entity-type", import_options.entity_type, "its type (short name)")->required();
  import->add_option("--time-column", import_options.time_column, "a column of ISO 8601 date-times");
  import->add_option("--time-columns", import_options.time_columns, "year,month,day[,hour[,minute]] columns")->delimiter(',');
  import->add_option("--utc-offset", import_options.utc_offset, "offset of the file's local times (Z, +08:00)")->capture_default_str();
  import->add_option("--column", import_options.mappings, "COLUMN=attribute[:unitCode], repeatable")->required();
  import->add_option("--missing", import_options.missing, "the marker of a missing cell")->capture_default_str();
  import->add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
  import->add_flag("--no-fsync", import_options.no_fsync, "do not sync writes (throw-away data dirs only)");

  ct::app::ReplayOptions replay_options;
  auto* replay = app.add_subcommand("replay", "publish a CSV data set as its devices would, over MQTT or HTTP");
  replay->add_option("--csv", replay_options.csv, "the data set (a header, one row per reading)")->required();
  replay->add_option("--to", replay_options.to, "mqtt://host:port (topics /<apikey>/<device>/attrs) or http://host:port (/iot/d, /iot/json)")
      ->required();
  replay->add_option("--apikey", replay_options.apikey, "the devices' api key")->capture_default_str();
  replay->add_option("--format", replay_options.format, "ul (UltraLight 2.0) or json")->capture_default_str()
      ->check(CLI::IsMember({"ul", "json"}));
  replay->add_option("--device-column", replay_options.device_column, "the column naming the device")->capture_default_str();
  replay->add_option("--utc-offset", replay_options.utc_offset, "time zone of the year,month,day,hour columns, e.g. +08:00")
      ->capture_default_str();
  replay->add_option("--speedup", replay_options.speedup, "data-set seconds per real second (0: as fast as possible)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  replay->add_option("--limit", replay_options.limit, "send at most this many rows (0: all)");
  replay->add_option("--provision", replay_options.provision, "http://host:port: provision the devices there first");
  replay->add_option("--service", replay_options.service, "fiware-service (tenant) to provision in");
  replay->add_option("--entity-type", replay_options.entity_type, "entity type of provisioned devices")->capture_default_str();
  replay->add_option("--locations", replay_options.locations, "CSV of device locations (name first; longitude, latitude)");
  replay->add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  ct::configure_logging(log_level);
  if (replay->parsed()) return ct::app::replay(replay_options);

  // Termination signals are taken synchronously by the main thread; every other thread has them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  if (import->parsed()) return ct::app::run_import(import_options);
  options.demo = demo->parsed();
  options.demo_generated = !no_generated;
  return ct::app::serve(options, signals);
}
