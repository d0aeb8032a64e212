#include "common/problem.hpp"

namespace ct {

std::string_view kind_name(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::InvalidRequest: return "InvalidRequest";
    case ProblemKind::BadRequestData: return "BadRequestData";
    case ProblemKind::AlreadyExists: return "AlreadyExists";
    case ProblemKind::Conflict: return "Conflict";
    case ProblemKind::OperationNotSupported: return "OperationNotSupported";
    case ProblemKind::ResourceNotFound: return "ResourceNotFound";
    case ProblemKind::InternalError: return "InternalError";
    case ProblemKind::TooComplexQuery: return "TooComplexQuery";
    case ProblemKind::TooManyResults: return "TooManyResults";
    case ProblemKind::NoMultiTenantSupport: return "NoMultiTenantSupport";
    case ProblemKind::NonexistentTenant: return "NonexistentTenant";
    case ProblemKind::LdContextNotAvailable: return "LdContextNotAvailable";
    case ProblemKind::PayloadTooLarge: return "PayloadTooLarge";
    case ProblemKind::UnsupportedMediaType: return "UnsupportedMediaType";
    case ProblemKind::NotAcceptable: return "NotAcceptable";
    case ProblemKind::MethodNotAllowed: return "MethodNotAllowed";
    case ProblemKind::ServiceUnavailable: return "ServiceUnavailable";
    case ProblemKind::InsufficientStorage: return "InsufficientStorage";
  }
  return "InternalError";
}

}  // namespace ct
