#pragma once
// Routes requests by method and path pattern ("/ngsi-ld/v1/entities/{id}/attrs/{attr}") to
// handlers. Path parameters and query parameters arrive percent-decoded. A path that matches with
// another method answers 405 with Allow; no match at all answers 404; both as problems.
//
// The router is the error boundary: a handler returns an Outcome (outcome.hpp) and the router
// answers it, once; a handler never sends a response itself. Handlers run on the server's threads
// and must not block on the disk: a write answers through call.later() once it is durable.
#include <map>
#include <string>
#include <vector>

#include "http/message.hpp"
#include "http/outcome.hpp"

namespace ct::http {

struct Call {
  Request request;
  std::vector<std::string> path_params;
  std::multimap<std::string, std::string> query;

  // The value of query parameter `name`, or empty.
  std::string param(const std::string& name) const;
  bool has_param(const std::string& name) const { return query.contains(name); }
  // The comma-separated values of `name`, across repeats of the parameter.
  std::vector<std::string> param_list(const std::string& name) const;
  std::string_view header(beast_http::field field) const;
  std::string_view header(std::string_view name) const;

  // For a handler that answers after it returns: it returns Deferred{} and answers through the Later
  // (see outcome.hpp). Every call of later() on one Call gives the same exchange.
  Later later();

 private:
  friend class Router;
  Reply reply_;
  std::shared_ptr<detail::Exchange> exchange_;  // made by later()
};

using RouteHandler = std::function<Outcome(Call& call)>;

class Router {
 public:
  void add(beast_http::verb method, const std::string& pattern, RouteHandler handler);
  // Answers `request` through `reply`, exactly once (perhaps later, from another thread).
  void handle(Request&& request, Reply reply) const;

 private:
  Outcome dispatch(Request&& request, Call& call) const;

  struct Route {
    beast_http::verb method;
    std::vector<std::string> segments;  // "{name}" segments capture
    RouteHandler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace ct::http
