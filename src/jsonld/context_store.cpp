#include "jsonld/context_store.hpp"

#include <fstream>
#include <sstream>

#include "jsonld/builtin_contexts.hpp"

namespace ct::jsonld {
namespace {

constexpr std::size_t kMaxResolvedContexts = 512;
constexpr int kMaxContextDepth = 8;

Result<json::value> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Problem{ProblemKind::InternalError, "cannot read " + path.string()};
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_json(buffer.str());
}

}  // namespace

ContextStore::ContextStore(ContextFetcher fetcher) : fetcher_(std::move(fetcher)) {
  for (const auto& builtin : builtin_contexts()) {
    auto parsed = parse_json(builtin.document);
    if (!parsed) continue;  // the build embeds only valid JSON; a unit test checks every one parses
    documents_[std::string(builtin.url)] =
        StoredContext{std::string(builtin.url), "Builtin", std::move(parsed).value(), {}};
  }
  auto core = std::make_shared<Context>();
  const auto& core_doc = documents_.at(std::string(kCoreContextUrl)).document;
  core->add_definitions(core_doc.at("@context").as_object());
  core->seal(nullptr);
  core_ = core;
}

bool ContextStore::is_core_context_url(std::string_view url) {
  constexpr std::string_view prefix = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context";
  return url.substr(0, prefix.size()) == prefix && url.size() >= 7 && url.substr(url.size() - 7) == ".jsonld";
}

Status ContextStore::load_directory(const std::filesystem::path& folder) {
  auto index = read_file(folder / "index.json");
  if (!index) return index.problem();
  if (!index->is_object()) return bad_request("index.json in " + folder.string() + " is not an object");
  for (const auto& [url, file] : index->get_object()) {
    if (!file.is_string()) continue;
    auto doc = read_file(folder / std::string(file.get_string()));
    if (!doc) return doc.problem();
    std::lock_guard lock(mutex_);
    documents_[std::string(url)] = StoredContext{std::string(url), "Cached", std::move(doc).value(),
                                                 std::chrono::system_clock::now()};
  }
  return {};
}

Result<json::value> ContextStore::document_for(const std::string& url) {
  const std::string key = is_core_context_url(url) ? std::string(kCoreContextUrl) : url;
  {
    std::lock_guard lock(mutex_);
    if (auto it = documents_.find(key); it != documents_.end()) return it->second.document;
  }
  if (!fetcher_) return Problem{ProblemKind::LdContextNotAvailable, "@context " + url + " is not available"};
  auto body = fetcher_(url);
  if (!body) return Problem{ProblemKind::LdContextNotAvailable, "@context " + url + ": " + body.problem().detail};
  auto doc = parse_json(*body);
  if (!doc || !doc->is_object() || !doc->as_object().contains("@context"))
    return Problem{ProblemKind::LdContextNotAvailable, "@context " + url + " is not a JSON-LD context document"};
  std::lock_guard lock(mutex_);
  documents_[url] = StoredContext{url, "Cached", *doc, std::chrono::system_clock::now()};
  return std::move(doc).value();
}

Status ContextStore::apply(Context& target, const json::value& member, int depth) {
  if (depth > kMaxContextDepth) return bad_request("@context references nest too deeply");
  if (member.is_string()) {
    const std::string url(member.get_string());
    if (is_core_context_url(url)) return {};  // the core is always applied, last and protected
    auto doc = document_for(url);
    if (!doc) return doc.problem();
    const auto* inner = doc->is_object() ? doc->as_object().if_contains("@context") : nullptr;
    if (!inner) return bad_request("@context " + url + " has no @context member");
    return apply(target, *inner, depth + 1);
  }
  if (member.is_array()) {
    for (const auto& item : member.get_array())
      if (auto st = apply(target, item, depth + 1); !st) return st;
    return {};
  }
  if (member.is_object()) {
    target.add_definitions(member.get_object());
    return {};
  }
  if (member.is_null()) return {};
  return bad_request("@context must be a URL, an object or an array of them");
}

Result<ContextPtr> ContextStore::resolve(const json::value& context_member) {
  std::string key = to_text(context_member);
  {
    std::lock_guard lock(mutex_);
    if (auto it = resolved_.find(key); it != resolved_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
  }
  auto context = std::make_shared<Context>();
  if (auto st = apply(*context, context_member, 0); !st) return st.problem();
  context->seal(core_.get());
  std::lock_guard lock(mutex_);
  lru_.emplace_front(key, context);
  resolved_[key] = lru_.begin();
  if (lru_.size() > kMaxResolvedContexts) {
    resolved_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return ContextPtr(context);
}

Result<ContextPtr> ContextStore::resolve_url(const std::string& url) {
  if (is_core_context_url(url)) return core_;
  return resolve(json::value(url));
}

Result<std::string> ContextStore::register_context(const json::value& document) {
  if (!document.is_object() || !document.as_object().contains("@context"))
    return bad_request("a context document must be an object with an @context member");
  const auto& inner = document.as_object().at("@context");
  if (!inner.is_object() && !inner.is_array() && !inner.is_string())
    return bad_request("@context must be a URL, an object or an array of them");
  const std::string text = to_text(document);
  const std::string url = "urn:ngsi-ld:contexts:" + std::to_string(std::hash<std::string>()(text));
  std::lock_guard lock(mutex_);
  documents_[url] = StoredContext{url, "Hosted", document, std::chrono::system_clock::now()};
  return url;
}

void ContextStore::restore_hosted(const std::string& url, json::value document) {
  std::lock_guard lock(mutex_);
  documents_[url] = StoredContext{url, "Hosted", std::move(document), std::chrono::system_clock::now()};
}

std::vector<StoredContext> ContextStore::list() const {
  std::lock_guard lock(mutex_);
  std::vector<StoredContext> out;
  for (const auto& [url, stored] : documents_)
    if (stored.kind != "Builtin") out.push_back(stored);
  return out;
}

Result<StoredContext> ContextStore::get(const std::string& url) const {
  std::lock_guard lock(mutex_);
  if (auto it = documents_.find(is_core_context_url(url) ? std::string(kCoreContextUrl) : url); it != documents_.end())
    return it->second;
  return not_found("no @context " + url);
}

Status ContextStore::remove(const std::string& url) {
  std::lock_guard lock(mutex_);
  auto it = documents_.find(url);
  if (it == documents_.end()) return not_found("no @context " + url);
  if (it->second.kind == "Builtin") return bad_request("a built-in @context cannot be deleted");
  documents_.erase(it);
  resolved_.clear();  // any resolved context may have used it
  lru_.clear();
  return {};
}

}  // namespace ct::jsonld
