#include "http/message.hpp"

namespace ct::http {

Response make_response(unsigned status, std::string body, std::string_view content_type) {
  Response response{static_cast<beast_http::status>(status), 11};
  if (!body.empty() || status == 200) response.set(beast_http::field::content_type, content_type);
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

}  // namespace ct::http
