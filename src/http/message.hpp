#pragma once
// The HTTP request and response types every handler sees, and how a handler answers.
#include <boost/beast/http.hpp>
#include <functional>
#include <string>
#include <string_view>


namespace ct::http {

namespace beast_http = boost::beast::http;
using Request = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;

// How the server takes the answer to a request: exactly once, possibly later and from another
// thread (after a durable commit); the server posts it back to the connection's own executor.
// Route handlers do not see it: they return an Outcome to the router (router.hpp, outcome.hpp).
using Reply = std::function<void(Response&&)>;
using Handler = std::function<void(Request&& request, Reply reply)>;

Response make_response(unsigned status, std::string body = {}, std::string_view content_type = "application/json");

}  // namespace ct::http
