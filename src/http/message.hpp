#pragma once
// The HTTP request and response types every handler sees, and how a handler answers.
#include <boost/beast/http.hpp>
#include <functional>
#include <string>
#include <string_view>

#include "common/problem.hpp"

namespace ct::http {

namespace beast_http = boost::beast::http;
using Request = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;

// A handler answers exactly once, possibly later and from another thread (after a durable
// commit): the server posts the response back to the connection's own executor.
using Reply = std::function<void(Response&&)>;
using Handler = std::function<void(Request&& request, Reply reply)>;

Response make_response(unsigned status, std::string body = {}, std::string_view content_type = "application/json");
// An RFC 7807 problem body (application/json; the NGSI-LD problem types).
Response problem_response(const Problem& problem);

}  // namespace ct::http
