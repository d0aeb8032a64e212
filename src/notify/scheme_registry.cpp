#include <algorithm>
#include <cctype>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "notify/scheme.hpp"

namespace ct::notify {

// The built-in schemes: X(URI scheme, factory defined in notify/<name>_scheme.cpp). Adding a
// scheme to the program is one line here.
#define CT_BUILT_IN_SCHEMES(X)      \
  X("http", make_http_scheme)       \
  X("https", make_https_scheme)     \
  X("mqtt", make_mqtt_scheme)

#define CT_DECLARE_SCHEME_FACTORY(name, factory) std::unique_ptr<NotificationScheme> factory();
CT_BUILT_IN_SCHEMES(CT_DECLARE_SCHEME_FACTORY)
#undef CT_DECLARE_SCHEME_FACTORY

namespace {

std::string scheme_key(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class Registry {
 public:
  Registry() {
#define CT_ADD_SCHEME(name, factory) entries_.push_back({name, factory()});
    CT_BUILT_IN_SCHEMES(CT_ADD_SCHEME)
#undef CT_ADD_SCHEME
  }

  void add(std::string name, std::unique_ptr<NotificationScheme> scheme) {
    std::unique_lock lock(mutex_);
    name = scheme_key(name);
    for (auto& entry : entries_)
      if (entry.name == name) {
        retired_.push_back(std::move(entry.scheme));  // still pointed to by parsed addresses
        entry.scheme = std::move(scheme);
        return;
      }
    entries_.push_back({std::move(name), std::move(scheme)});
  }

  const NotificationScheme* find(std::string_view name) const {
    const std::string key = scheme_key(name);
    std::shared_lock lock(mutex_);
    for (const auto& entry : entries_)
      if (entry.name == key) return entry.scheme.get();
    return nullptr;
  }

  std::vector<std::string> names() const {
    std::shared_lock lock(mutex_);
    std::vector<std::string> out;
    for (const auto& entry : entries_) out.push_back(entry.name);
    return out;
  }

 private:
  struct Entry {
    std::string name;
    std::unique_ptr<NotificationScheme> scheme;
  };
  mutable std::shared_mutex mutex_;
  std::vector<Entry> entries_;  // few: a vector keeps the built-in order for messages
  std::vector<std::unique_ptr<NotificationScheme>> retired_;
};

Registry& registry() {
  static Registry instance;
  return instance;
}

}  // namespace

void register_notification_scheme(std::string name, const SchemeFactory& factory) {
  registry().add(std::move(name), factory());
}

const NotificationScheme* find_notification_scheme(std::string_view name) { return registry().find(name); }

std::vector<std::string> notification_scheme_names() { return registry().names(); }

Problem refused_endpoint(std::string why) { return bad_request("notification.endpoint.uri: " + std::move(why)); }

}  // namespace ct::notify
