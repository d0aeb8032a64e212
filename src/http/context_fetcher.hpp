#pragma once
// Fetches remote @context documents over HTTP or HTTPS with a short overall timeout, so that an
// unreachable context server costs a request at most `timeout`, never a hang.
#include <chrono>

#include "jsonld/context_store.hpp"

namespace ct::http {

jsonld::ContextFetcher make_context_fetcher(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000),
                                            std::size_t max_bytes = 1 << 20);

}  // namespace ct::http
