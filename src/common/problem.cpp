#include "common/problem.hpp"

#include "common/json.hpp"
#include "common/text.hpp"

namespace ct {

int Problem::status() const {
  switch (kind) {
    case ProblemKind::InvalidRequest:
    case ProblemKind::BadRequestData: return 400;
    case ProblemKind::AlreadyExists: return 409;
    case ProblemKind::OperationNotSupported: return 422;
    case ProblemKind::ResourceNotFound:
    case ProblemKind::NonexistentTenant: return 404;
    case ProblemKind::InternalError: return 500;
    case ProblemKind::TooComplexQuery:
    case ProblemKind::TooManyResults: return 403;
    case ProblemKind::NoMultiTenantSupport: return 501;
    case ProblemKind::LdContextNotAvailable:
    case ProblemKind::ServiceUnavailable: return 503;
    case ProblemKind::PayloadTooLarge: return 413;
    case ProblemKind::UnsupportedMediaType: return 415;
    case ProblemKind::NotAcceptable: return 406;
    case ProblemKind::MethodNotAllowed: return 405;
    case ProblemKind::InsufficientStorage: return 507;
  }
  return 500;
}

std::string_view Problem::title() const {
  switch (kind) {
    case ProblemKind::InvalidRequest: return "Invalid request";
    case ProblemKind::BadRequestData: return "Bad request data";
    case ProblemKind::AlreadyExists: return "Already exists";
    case ProblemKind::OperationNotSupported: return "Operation not supported";
    case ProblemKind::ResourceNotFound: return "Resource not found";
    case ProblemKind::InternalError: return "Internal error";
    case ProblemKind::TooComplexQuery: return "Too complex query";
    case ProblemKind::TooManyResults: return "Too many results";
    case ProblemKind::NoMultiTenantSupport: return "No multi-tenant support";
    case ProblemKind::NonexistentTenant: return "Nonexistent tenant";
    case ProblemKind::LdContextNotAvailable: return "@context not available";
    case ProblemKind::PayloadTooLarge: return "Payload too large";
    case ProblemKind::UnsupportedMediaType: return "Unsupported media type";
    case ProblemKind::NotAcceptable: return "Not acceptable";
    case ProblemKind::MethodNotAllowed: return "Method not allowed";
    case ProblemKind::ServiceUnavailable: return "Service unavailable";
    case ProblemKind::InsufficientStorage: return "Insufficient storage";
  }
  return "Internal error";
}

std::string_view Problem::type_uri() const {
  switch (kind) {
    case ProblemKind::InvalidRequest: return "https://uri.etsi.org/ngsi-ld/errors/InvalidRequest";
    case ProblemKind::BadRequestData: return "https://uri.etsi.org/ngsi-ld/errors/BadRequestData";
    case ProblemKind::AlreadyExists: return "https://uri.etsi.org/ngsi-ld/errors/AlreadyExists";
    case ProblemKind::OperationNotSupported: return "https://uri.etsi.org/ngsi-ld/errors/OperationNotSupported";
    case ProblemKind::ResourceNotFound: return "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound";
    case ProblemKind::InternalError: return "https://uri.etsi.org/ngsi-ld/errors/InternalError";
    case ProblemKind::TooComplexQuery: return "https://uri.etsi.org/ngsi-ld/errors/TooComplexQuery";
    case ProblemKind::TooManyResults: return "https://uri.etsi.org/ngsi-ld/errors/TooManyResults";
    case ProblemKind::NoMultiTenantSupport: return "https://uri.etsi.org/ngsi-ld/errors/NoMultiTenantSupport";
    case ProblemKind::NonexistentTenant: return "https://uri.etsi.org/ngsi-ld/errors/NonexistentTenant";
    case ProblemKind::LdContextNotAvailable: return "https://uri.etsi.org/ngsi-ld/errors/LdContextNotAvailable";
    case ProblemKind::PayloadTooLarge:
    case ProblemKind::UnsupportedMediaType:
    case ProblemKind::NotAcceptable:
    case ProblemKind::MethodNotAllowed:
    case ProblemKind::ServiceUnavailable:
    case ProblemKind::InsufficientStorage: return "about:blank";
  }
  return "about:blank";
}

std::string Problem::to_json() const {
  json::object body;
  body["type"] = type_uri();
  body["title"] = title();
  body["status"] = status();
  if (!detail.empty()) body["detail"] = printable_utf8(detail);
  return to_text(body);
}

}  // namespace ct
