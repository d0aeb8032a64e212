#pragma once
// The applications the program knows: a name -> factory table (catalog.cpp, one line each).
#include <string>
#include <vector>

#include "domains/core/application.hpp"
#include "domains/core/host.hpp"

namespace ct::domains {

const std::vector<ApplicationRegistration>& application_catalog();

// Before host.start(): adds the catalog's applications named in `names` (all of them when empty);
// InvalidRequest naming an unknown one.
Status add_applications(Host& host, const std::vector<std::string>& names = {});

}  // namespace ct::domains
