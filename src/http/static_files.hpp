#pragma once
// The operations console (web/, built by Vite into web/dist) served as static files:
//   GET /                 index.html
//   GET /{file}           a file at the top of the folder (index.html, favicon, config.json...)
//   GET /assets/{file}    Vite's content-hashed bundles, cached for a year (immutable)
// Registered after every API route, so an API path always wins. Only plain file names are served:
// a segment that is empty, starts with '.', or holds '/', '\' or NUL (after percent-decoding) is
// refused, so no request reaches outside the folder. Files are read per request (the page cache
// keeps them); index.html and other top-level files are revalidated on every load (no-cache).
#include <filesystem>
#include <string>

namespace ct::http {

class Router;

// Where the console's files are when --web-dir is not given: web/ beside the binary if it has an
// index.html, else the source tree's web/dist (compiled in). Empty when neither exists.
std::filesystem::path default_web_dir(const std::filesystem::path& compiled_in);

// Adds the routes above for the files under `root`. A missing folder or file answers 404 with a
// hint on how to build the console.
void add_static_routes(Router& router, std::filesystem::path root);

// The Content-Type for a file name by its extension (application/octet-stream when unknown).
std::string content_type_for(const std::string& file_name);

}  // namespace ct::http
