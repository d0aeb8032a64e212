#include "http/problem_mapping.hpp"

#include <array>

#include "common/json.hpp"
#include "common/text.hpp"

namespace ct::http {
namespace {

constexpr std::string_view kBlank = "about:blank";
#define CT_NGSI_LD_ERROR(name) "https://uri.etsi.org/ngsi-ld/errors/" name

constexpr HttpProblemType type_of(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::InvalidRequest: return {400, CT_NGSI_LD_ERROR("InvalidRequest"), "Invalid request", {}};
    case ProblemKind::BadRequestData: return {400, CT_NGSI_LD_ERROR("BadRequestData"), "Bad request data", {}};
    case ProblemKind::AlreadyExists: return {409, CT_NGSI_LD_ERROR("AlreadyExists"), "Already exists", {}};
    case ProblemKind::Conflict: return {409, kBlank, "Conflict", {}};
    case ProblemKind::OperationNotSupported:
      return {422, CT_NGSI_LD_ERROR("OperationNotSupported"), "Operation not supported", {}};
    case ProblemKind::ResourceNotFound: return {404, CT_NGSI_LD_ERROR("ResourceNotFound"), "Resource not found", {}};
    case ProblemKind::InternalError: return {500, CT_NGSI_LD_ERROR("InternalError"), "Internal error", {}};
    case ProblemKind::TooComplexQuery: return {403, CT_NGSI_LD_ERROR("TooComplexQuery"), "Too complex query", {}};
    case ProblemKind::TooManyResults: return {403, CT_NGSI_LD_ERROR("TooManyResults"), "Too many results", {}};
    case ProblemKind::NoMultiTenantSupport:
      return {501, CT_NGSI_LD_ERROR("NoMultiTenantSupport"), "No multi-tenant support", {}};
    case ProblemKind::NonexistentTenant: return {404, CT_NGSI_LD_ERROR("NonexistentTenant"), "Nonexistent tenant", {}};
    case ProblemKind::LdContextNotAvailable:
      return {503, CT_NGSI_LD_ERROR("LdContextNotAvailable"), "@context not available", {}};
    case ProblemKind::PayloadTooLarge: return {413, kBlank, "Payload too large", {}};
    case ProblemKind::UnsupportedMediaType: return {415, kBlank, "Unsupported media type", {}};
    case ProblemKind::NotAcceptable: return {406, kBlank, "Not acceptable", {}};
    case ProblemKind::MethodNotAllowed: return {405, kBlank, "Method not allowed", {}};
    // A passing refusal: the client may try again within the second.
    case ProblemKind::ServiceUnavailable: return {503, kBlank, "Service unavailable", "1"};
    // A full volume frees up when an operator or retention acts: not within the second.
    case ProblemKind::InsufficientStorage: return {507, kBlank, "Insufficient storage", "5"};
  }
  return {500, CT_NGSI_LD_ERROR("InternalError"), "Internal error", {}};
}
#undef CT_NGSI_LD_ERROR

constexpr auto kTypes = [] {
  std::array<HttpProblemType, kProblemKindCount> out{};
  for (int i = 0; i < kProblemKindCount; ++i) out[static_cast<std::size_t>(i)] = type_of(static_cast<ProblemKind>(i));
  return out;
}();

}  // namespace

const HttpProblemType& http_problem_type(ProblemKind kind) {
  const auto index = static_cast<std::size_t>(kind);
  return index < kTypes.size() ? kTypes[index] : kTypes[static_cast<std::size_t>(ProblemKind::InternalError)];
}

std::string problem_body(const Problem& problem) {
  const auto& type = http_problem_type(problem.kind);
  json::object body;
  body["type"] = type.type;
  body["title"] = type.title;
  body["status"] = type.status;
  if (!problem.detail.empty()) body["detail"] = printable_utf8(problem.detail);
  return to_text(body);
}

Response problem_response(const Problem& problem) {
  const auto& type = http_problem_type(problem.kind);
  Response response = make_response(type.status, problem_body(problem), "application/json");
  if (!type.retry_after.empty())
    response.set(beast_http::field::retry_after, boost::beast::string_view(type.retry_after.data(), type.retry_after.size()));
  return response;
}

}  // namespace ct::http
