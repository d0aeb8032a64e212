#pragma once
// Where @context documents come from, and the cache of resolved contexts.
//
// A context reference is resolved, in order, from: the NGSI-LD core context (built in, recognised
// by its URLs), the contexts compiled into the binary (Smart Data Models), contexts pre-loaded from
// a folder, contexts users registered through /jsonldContexts, and finally the network through the
// injected fetcher (short timeout; results cached). A reference that none of them can supply is
// LdContextNotAvailable (503); a document that is not a context is BadRequestData (400).
#include <chrono>
#include <filesystem>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/json.hpp"
#include "common/result.hpp"
#include "jsonld/context.hpp"

namespace ct::jsonld {

// Fetches a remote document by URL; returns its body or a Problem (the store maps it to 503).
using ContextFetcher = std::function<Result<std::string>(const std::string& url)>;

inline constexpr std::string_view kCoreContextUrl = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";

struct StoredContext {
  std::string url;
  std::string kind;  // "Hosted" (registered by a user), "Cached" (fetched), "Builtin"
  json::value document;
  std::chrono::system_clock::time_point created_at;
};

class ContextStore {
 public:
  explicit ContextStore(ContextFetcher fetcher = {});

  // Pre-loads a folder laid out like data/contexts: index.json maps URLs to files beside it.
  Status load_directory(const std::filesystem::path& folder);

  // The resolved core context alone (the default when a request names no context).
  ContextPtr core() const { return core_; }

  // Resolves the value of an @context member (a URL, an object, or an array of them).
  Result<ContextPtr> resolve(const json::value& context_member);
  // Resolves the context named by a Link header's URL.
  Result<ContextPtr> resolve_url(const std::string& url);

  // /jsonldContexts: register a context document ({"@context": …}); returns its URL.
  Result<std::string> register_context(const json::value& document);
  // Puts back a context registered before a restart, under the URL it had.
  void restore_hosted(const std::string& url, json::value document);
  std::vector<StoredContext> list() const;
  Result<StoredContext> get(const std::string& url) const;
  Status remove(const std::string& url);

  static bool is_core_context_url(std::string_view url);

 private:
  Result<json::value> document_for(const std::string& url);
  Status apply(Context& target, const json::value& member, int depth);

  ContextFetcher fetcher_;
  ContextPtr core_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, StoredContext> documents_;
  // Resolved contexts by the serialized @context member, bounded (least recently used evicted).
  std::list<std::pair<std::string, ContextPtr>> lru_;
  std::unordered_map<std::string, std::list<std::pair<std::string, ContextPtr>>::iterator> resolved_;
};

}  // namespace ct::jsonld
