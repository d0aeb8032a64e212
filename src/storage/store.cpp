#include "storage/store.hpp"

namespace ct::storage {

std::string_view collection_name(Collection c) {
  switch (c) {
    case Collection::Entities: return "entities";
    case Collection::Subscriptions: return "subscriptions";
    case Collection::Contexts: return "contexts";
    case Collection::Rules: return "rules";
    case Collection::History: return "history";
    case Collection::Meta: return "meta";
    case Collection::Devices: return "devices";
  }
  return "meta";
}

Status Store::scan_range(Collection collection, std::string_view begin, std::string_view end,
                         const std::function<bool(std::string_view, std::string_view)>& visit) {
  return scan(collection, {}, [&](std::string_view key, std::string_view value) {
    if (key < begin) return true;
    if (key >= end) return false;
    return visit(key, value);
  });
}

constexpr char kTenantSeparator = '\x1f';

std::string tenant_key(std::string_view tenant, std::string_view key) {
  std::string out;
  out.reserve(tenant.size() + 1 + key.size());
  out.append(tenant).push_back(kTenantSeparator);
  out.append(key);
  return out;
}

bool split_tenant_key(std::string_view full, std::string_view& tenant, std::string_view& key) {
  auto pos = full.find(kTenantSeparator);
  if (pos == std::string_view::npos) return false;
  tenant = full.substr(0, pos);
  key = full.substr(pos + 1);
  return true;
}

}  // namespace ct::storage
