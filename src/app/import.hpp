#pragma once
// `citytwin import`: back-fills history from a CSV of observations, one entity per file, into the
// data dir of a stopped server (the store is opened directly; the server must not be running).
//
// Each row becomes one instance per mapped column, observed at the row's time; a column whose
// cell is empty or the missing marker (NA) gives no instance for that row. Numbers stay numbers,
// anything else is a string. The entity's current state is set to its newest values (the entity is
// created if needed), and the imported days are compacted at once.
#include <cstdint>
#include <string>
#include <vector>

namespace ct::app {

struct ImportColumn {
  std::string column;     // CSV header name
  std::string attribute;  // attribute short name (expanded with the core @context)
  std::string unit_code;  // optional
};

struct ImportOptions {
  std::string data_dir = "var/data";
  std::string file;
  std::string tenant;
  std::string entity_id, entity_type;
  // Either one column holding ISO 8601 date-times, or year,month,day[,hour[,minute]] columns.
  std::string time_column;
  std::vector<std::string> time_columns;
  std::string utc_offset = "Z";  // of local times in the file: Z, +08:00, ...
  std::vector<std::string> mappings;  // COLUMN=attribute[:unitCode]
  std::string missing = "NA";
  std::size_t batch_rows = 5000;
  bool no_fsync = false;
};

// Returns the process exit code; reports progress and errors through spdlog.
int run_import(const ImportOptions& options);

}  // namespace ct::app
