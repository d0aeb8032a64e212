#pragma once
// citytwin replay: publishes a CSV data set as its devices would, one message per row, through MQTT
// (/<apikey>/<device>/attrs) or HTTP (POST /iot/d or /iot/json), with the rows' times kept apart by
// their original gaps divided by a speed-up.
//
// The CSV has a header. One column names the device (--device-column); the time of a row is its
// year,month,day,hour columns (as in the Beijing air-quality data) or a `time` / `TimeInstant` column
// in ISO 8601; every other column is a measure, sent under its own name (empty and NA values are
// left out, as a station that did not measure).
//
// With --provision, a service group and one device per distinct device are provisioned first
// (through the IoT Agent API), mapping each measure column to a clean attribute name (PM2.5 → pm25),
// typed Number when all its values are numbers, with the device's location from --locations.
#include <cstddef>
#include <string>

namespace ct::app {

struct ReplayOptions {
  std::string csv;
  std::string to;                 // mqtt://host:port or http://host:port
  std::string apikey = "replay";
  std::string format = "ul";      // ul or json
  std::string device_column = "station";
  std::string utc_offset = "+00:00";  // of the year,month,day,hour columns
  double speedup = 3600;          // 0: as fast as possible
  std::size_t limit = 0;          // rows; 0: all
  std::string provision;          // http://host:port of the server to provision the devices on
  std::string service;            // fiware-service (tenant) to provision in
  std::string entity_type = "AirQualityObserved";
  std::string locations;          // CSV: device name, ..., longitude, latitude columns
};

// Returns the process exit code (0: every row was sent and acknowledged).
int replay(const ReplayOptions& options);

}  // namespace ct::app
