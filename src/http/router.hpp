#pragma once
// Routes requests by method and path pattern ("/ngsi-ld/v1/entities/{id}/attrs/{attr}") to
// handlers. Path parameters and query parameters arrive percent-decoded. A path that matches with
// another method answers 405 with Allow; no match at all answers 404; both as problems.
#include <map>
#include <string>
#include <vector>

#include "http/message.hpp"

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
};

using RouteHandler = std::function<void(Call& call, Reply reply)>;

class Router {
 public:
  void add(beast_http::verb method, std::string pattern, RouteHandler handler);
  void handle(Request&& request, Reply reply) const;

 private:
  struct Route {
    beast_http::verb method;
    std::vector<std::string> segments;  // "{name}" segments capture
    RouteHandler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace ct::http
