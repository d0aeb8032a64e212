#pragma once
// An RFC 7807 problem: what every layer returns instead of throwing across a module boundary.
// The kinds are the NGSI-LD error types (ETSI GS CIM 009, clause 5.5.2) plus the plain HTTP
// failures that the standard leaves to HTTP (413, 415, 406, 405, 503, 507).
#include <string>
#include <string_view>

namespace ct {

enum class ProblemKind {
  InvalidRequest,
  BadRequestData,
  AlreadyExists,
  OperationNotSupported,
  ResourceNotFound,
  InternalError,
  TooComplexQuery,
  TooManyResults,
  NoMultiTenantSupport,
  NonexistentTenant,
  LdContextNotAvailable,
  PayloadTooLarge,
  UnsupportedMediaType,
  NotAcceptable,
  MethodNotAllowed,
  ServiceUnavailable,
  // The data volume is at its reserve: the write was refused and changed nothing; retry once space is freed.
  InsufficientStorage,
};

struct Problem {
  ProblemKind kind = ProblemKind::InternalError;
  std::string detail;

  int status() const;
  std::string_view title() const;
  // The `type` member of the problem body: an NGSI-LD error URI, or about:blank for plain HTTP ones.
  std::string_view type_uri() const;
  // {"type":…,"title":…,"status":…,"detail":…}
  std::string to_json() const;
};

inline Problem bad_request(std::string detail) { return {ProblemKind::BadRequestData, std::move(detail)}; }
inline Problem invalid_request(std::string detail) { return {ProblemKind::InvalidRequest, std::move(detail)}; }
inline Problem not_found(std::string detail) { return {ProblemKind::ResourceNotFound, std::move(detail)}; }

}  // namespace ct
