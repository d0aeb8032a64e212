#pragma once
// The one place where a ProblemKind (common/problem.hpp) becomes HTTP: its status, the `type` of
// the RFC 7807 body (an NGSI-LD error URI, ETSI GS CIM 009 clause 5.5.2, or about:blank for the
// failures the standard leaves to HTTP), its title, and the headers it carries. Every problem the
// server answers goes through problem_response; nothing else in the tree knows these numbers.
#include <string>
#include <string_view>

#include "common/problem.hpp"
#include "http/message.hpp"

namespace ct::http {

struct HttpProblemType {
  unsigned status = 500;
  std::string_view type;   // https://uri.etsi.org/ngsi-ld/errors/... or about:blank
  std::string_view title;
  // Retry-After seconds for the passing refusals (RFC 9110, 10.2.3); empty for none.
  std::string_view retry_after;
};

const HttpProblemType& http_problem_type(ProblemKind kind);

// {"type":…,"title":…,"status":…,"detail":…}: the body of a problem response, also embedded in
// batch results (clause 5.2.17). The detail is made printable UTF-8.
std::string problem_body(const Problem& problem);

// The response for a problem: status, application/json body, Retry-After where it applies.
Response problem_response(const Problem& problem);

}  // namespace ct::http
