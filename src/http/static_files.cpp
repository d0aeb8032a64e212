#include "http/static_files.hpp"

#include <array>
#include <fstream>
#include <sstream>
#include <utility>

#include "http/router.hpp"

namespace ct::http {
namespace {

bool safe_file_name(const std::string& name) {
  if (name.empty() || name.front() == '.') return false;
  for (char c : name)
    if (c == '/' || c == '\\' || c == '\0') return false;
  return true;
}

Outcome send_file(const std::filesystem::path& root, const std::string& relative, const std::string& name,
                  const char* cache_control) {
  if (!safe_file_name(name)) return not_found("no console file " + name);
  const auto path = root / relative / name;
  std::error_code ec;
  if (root.empty() || !std::filesystem::is_regular_file(path, ec)) {
    return not_found(root.empty() || !std::filesystem::exists(root / "index.html", ec)
                         ? "the console is not built: run `make release` (npm ci && npm run build in web/) "
                           "or start with --web-dir"
                         : "no console file " + name);
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream body;
  body << in.rdbuf();
  if (!in) return Problem{ProblemKind::InternalError, "cannot read console file " + name};
  Response response = make_response(200, std::move(body).str(), content_type_for(name));
  response.set(beast_http::field::cache_control, cache_control);
  response.set("X-Content-Type-Options", "nosniff");
  return response;
}

}  // namespace

std::string content_type_for(const std::string& file_name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".geojson", "application/geo+json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".pbf", "application/x-protobuf"},
      {".wasm", "application/wasm"},
      {".txt", "text/plain; charset=utf-8"},
  }};
  const auto dot = file_name.rfind('.');
  if (dot != std::string::npos) {
    const std::string_view ext = std::string_view(file_name).substr(dot);
    for (const auto& [suffix, type] : kTypes)
      if (ext == suffix) return std::string(type);
  }
  return "application/octet-stream";
}

std::filesystem::path default_web_dir(const std::filesystem::path& compiled_in) {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto beside = exe.parent_path() / "web";
    if (std::filesystem::is_regular_file(beside / "index.html", ec)) return beside;
  }
  if (!compiled_in.empty() && std::filesystem::is_regular_file(compiled_in / "index.html", ec)) return compiled_in;
  return {};
}

void add_static_routes(Router& router, std::filesystem::path root) {
  using beast_http::verb;
  static constexpr const char* kRevalidate = "no-cache";
  static constexpr const char* kImmutable = "public, max-age=31536000, immutable";
  router.add(verb::get, "/", [root](Call&) -> Outcome { return send_file(root, "", "index.html", kRevalidate); });
  router.add(verb::get, "/{file}", [root](Call& call) -> Outcome {
    return send_file(root, "", call.path_params[0], kRevalidate);
  });
  router.add(verb::get, "/assets/{file}", [root](Call& call) -> Outcome {
    return send_file(root, "assets", call.path_params[0], kImmutable);
  });
}

}  // namespace ct::http
