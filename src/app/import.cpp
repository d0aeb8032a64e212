#include "app/import.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>

#include "history/history_store.hpp"
#include "jsonld/context_store.hpp"
#include "model/names.hpp"
#include "storage/rocksdb/rocksdb_store.hpp"
#include "twin/twin.hpp"

namespace ct::app {
namespace {

// Splits one CSV line (RFC 4180 quoting, no line breaks inside fields).
std::vector<std::string> split_csv(std::string_view line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back().push_back(c);
    }
  }
  return out;
}

json::value cell_value(const std::string& cell) {
  double d = 0;
  const auto* end = cell.data() + cell.size();
  auto [ptr, ec] = std::from_chars(cell.data(), end, d);
  if (ec == std::errc() && ptr == end) {
    std::int64_t i = 0;
    auto [iptr, iec] = std::from_chars(cell.data(), end, i);
    if (iec == std::errc() && iptr == end) return i;
    return d;
  }
  return json::value(cell);
}

}  // namespace

int run_import(const ImportOptions& options) {
  if (!model::is_uri(options.entity_id)) {
    spdlog::error("--entity-id must be a URI");
    return 2;
  }
  if (options.time_column.empty() == options.time_columns.empty()) {
    spdlog::error("give either --time-column or --time-columns");
    return 2;
  }
  std::ifstream in(options.file);
  if (!in) {
    spdlog::error("cannot read {}", options.file);
    return 1;
  }
  std::string line;
  if (!std::getline(in, line)) {
    spdlog::error("{} is empty", options.file);
    return 1;
  }
  const auto header = split_csv(line);
  auto column_index = [&](const std::string& name) -> std::optional<std::size_t> {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    spdlog::error("{} has no column \"{}\"", options.file, name);
    return std::nullopt;
  };

  jsonld::ContextStore contexts;
  const auto core = contexts.core();
  struct Mapped {
    std::size_t index;
    model::Term name;
    model::Term unit;
  };
  std::vector<Mapped> mapped;
  for (const auto& m : options.mappings) {
    const auto eq = m.find('=');
    if (eq == std::string::npos) {
      spdlog::error("--column takes COLUMN=attribute[:unitCode], not {}", m);
      return 2;
    }
    std::string attribute = m.substr(eq + 1), unit;
    if (const auto colon = attribute.find(':'); colon != std::string::npos) {
      unit = attribute.substr(colon + 1);
      attribute.resize(colon);
    }
    if (!model::is_valid_term(attribute)) {
      spdlog::error("\"{}\" is not a valid attribute name", attribute);
      return 2;
    }
    auto index = column_index(m.substr(0, eq));
    if (!index) return 2;
    mapped.push_back({*index, model::Term::intern(core->expand(attribute)),
                      unit.empty() ? model::Term() : model::Term::intern(unit)});
  }
  if (mapped.empty()) {
    spdlog::error("map at least one --column");
    return 2;
  }
  std::vector<std::size_t> time_indexes;
  for (const auto& name : options.time_columns.empty() ? std::vector<std::string>{options.time_column} : options.time_columns) {
    auto index = column_index(name);
    if (!index) return 2;
    time_indexes.push_back(*index);
  }
  if (!options.time_columns.empty() && (time_indexes.size() < 3 || time_indexes.size() > 5)) {
    spdlog::error("--time-columns takes year,month,day[,hour[,minute]]");
    return 2;
  }

  auto store = storage::open_rocksdb_store({options.data_dir, !options.no_fsync});
  if (!store) {
    spdlog::error("{}", store.problem().detail);
    return 1;
  }
  twin::Twin twin(**store);
  if (auto st = twin.load(); !st) {
    spdlog::error("cannot rebuild the twin: {}", st.problem().detail);
    return 1;
  }
  history::HistoryStore history(**store);

  const auto started = std::chrono::steady_clock::now();
  const Timestamp now = now_ms();
  std::vector<storage::Write> writes;
  std::map<std::string, model::Attribute> newest;
  storage::Sequence last = 0;
  std::size_t rows = 0, instances = 0, line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line == "\r") continue;
    const auto cells = split_csv(line);
    auto cell = [&](std::size_t i) -> const std::string& {
      static const std::string empty;
      return i < cells.size() ? cells[i] : empty;
    };
    std::string when;
    if (options.time_columns.empty()) {
      when = cell(time_indexes[0]);
    } else {
      int parts[5] = {0, 1, 1, 0, 0};
      for (std::size_t i = 0; i < time_indexes.size(); ++i) parts[i] = std::atoi(cell(time_indexes[i]).c_str());
      char text[64];
      std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:00%s", parts[0], parts[1], parts[2], parts[3], parts[4],
                    options.utc_offset.c_str());
      when = text;
    }
    const auto observed = parse_datetime(when);
    if (!observed) {
      spdlog::error("{}:{}: \"{}\" is not a date-time", options.file, line_number, when);
      return 1;
    }
    for (const auto& m : mapped) {
      const std::string& text = cell(m.index);
      if (text.empty() || text == options.missing) continue;
      model::Attribute a;
      a.name = m.name;
      a.kind = model::AttributeKind::Property;
      a.value = cell_value(text);
      a.observed_at = *observed;
      a.unit_code = m.unit;
      history.record_instance(options.tenant, options.entity_id, a, now, writes);
      auto& best = newest[std::string(m.name.str())];
      if (best.name.empty() || best.observed_at <= a.observed_at) best = std::move(a);
      ++instances;
    }
    if (++rows % options.batch_rows == 0) last = (*store)->enqueue(std::exchange(writes, {}));
  }
  if (!writes.empty()) last = (*store)->enqueue(std::move(writes));
  if (auto st = (*store)->wait_durable(last); !st) {
    spdlog::error("{}", st.problem().detail);
    return 1;
  }

  jsonld::DecodedEntity current;
  current.header.id = options.entity_id;
  current.header.types.push_back(model::Term::intern(core->expand(options.entity_type)));
  for (auto& [name, a] : newest) current.attributes.push_back(std::move(a));
  {
    std::vector<jsonld::DecodedEntity> batch;
    batch.push_back(std::move(current));
    // A back-fill: history, which recorded the rows above, does not record this change again.
    auto outcome = twin.batch_upsert(options.tenant, std::move(batch), twin::UpsertMode::Update,
                                     {twin::Origin::TemporalBackfill, {}});
    if (!outcome.items.empty() && outcome.items.front().error) {
      spdlog::error("cannot update {}: {}", options.entity_id, outcome.items.front().error->detail);
      return 1;
    }
    if (auto st = (*store)->wait_durable(outcome.sequence); !st) {
      spdlog::error("{}", st.problem().detail);
      return 1;
    }
  }
  auto compacted = history.compact(now_ms(), 0);
  if (!compacted) {
    spdlog::error("compaction: {}", compacted.problem().detail);
    return 1;
  }
  (*store)->close();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  spdlog::info("imported {} rows, {} instances into {} in {:.2f} s ({} day blocks)", rows, instances, options.entity_id,
               seconds, compacted->blocks_written);
  return 0;
}

}  // namespace ct::app
