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

void send_file(const std::filesystem::path& root, const std::string& relative, const std::string& name,
               const char* cache_control, Reply reply) {
  if (!safe_file_name(name)) {
    reply(problem_response(not_found("no console file " + name)));
    return;
  }
  const auto path = root / relative / name;
  std::error_code ec;
  if (root.empty() || !std::filesystem::is_regular_file(path, ec)) {
    reply(problem_response(not_found(root.empty() || !std::filesystem::exists(root / "index.html", ec)
                                         ? "the console is not built: run `make release` (npm ci && npm run build in web/) "
                                           "or start with --web-dir"
                                         : "no console file " + name)));
    return;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream body;
  body << in.rdbuf();
  if (!in) {
    reply(problem_response({ProblemKind::InternalError, "cannot read console file " + name}));
    return;
  }
  Response response = make_response(200, std::move(body).str(), content_type_for(name));
  response.set(beast_http::field::cache_control, cache_control);
  response.set("X-Content-Type-Options", "nosniff");
  reply(std::move(response));
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
  router.add(verb::get, "/", [root](Call&, Reply reply) { send_file(root, "", "index.html", kRevalidate, std::move(reply)); });
  router.add(verb::get, "/{file}", [root](Call& call, Reply reply) {
    send_file(root, "", call.path_params[0], kRevalidate, std::move(reply));
  });
  router.add(verb::get, "/assets/{file}", [root](Call& call, Reply reply) {
    send_file(root, "assets", call.path_params[0], kImmutable, std::move(reply));
  });
}

}  // namespace ct::http
