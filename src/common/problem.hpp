#pragma once
// A problem: what every layer returns instead of throwing across a module boundary. The kinds say
// what went wrong in terms of the platform, not of a protocol: which HTTP status, NGSI-LD error type
// (ETSI GS CIM 009, clause 5.5.2) and title each one answers with is decided by http/ alone
// (http/problem_mapping.hpp). Other front ends (MQTT replies, logs) may map them their own way.
#include <string>
#include <string_view>

namespace ct {

enum class ProblemKind {
  InvalidRequest,         // the request itself is malformed (not its data)
  BadRequestData,         // well formed, but the data is wrong
  AlreadyExists,          // creating what is already there
  Conflict,               // the target's state does not allow the step (an illegal lifecycle transition)
  OperationNotSupported,  // not enabled or not implemented here
  ResourceNotFound,
  InternalError,
  TooComplexQuery,
  TooManyResults,
  NoMultiTenantSupport,
  NonexistentTenant,
  LdContextNotAvailable,  // a remote @context cannot be fetched now
  PayloadTooLarge,
  UnsupportedMediaType,
  NotAcceptable,          // no representation the client accepts
  MethodNotAllowed,
  ServiceUnavailable,     // a passing state (overload, a dependency down): retry within seconds
  // The data volume is at its reserve: the write was refused and changed nothing; retry once space is freed.
  InsufficientStorage,
};
inline constexpr int kProblemKindCount = static_cast<int>(ProblemKind::InsufficientStorage) + 1;

// The kind's name as written above ("BadRequestData"), for logs and tests.
std::string_view kind_name(ProblemKind kind);

struct Problem {
  ProblemKind kind = ProblemKind::InternalError;
  std::string detail;
};

inline Problem bad_request(std::string detail) { return {ProblemKind::BadRequestData, std::move(detail)}; }
inline Problem invalid_request(std::string detail) { return {ProblemKind::InvalidRequest, std::move(detail)}; }
inline Problem not_found(std::string detail) { return {ProblemKind::ResourceNotFound, std::move(detail)}; }
inline Problem conflict(std::string detail) { return {ProblemKind::Conflict, std::move(detail)}; }

}  // namespace ct
