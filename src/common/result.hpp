#pragma once
// Result<T>: a value or the Problem that prevented it. Used across every module boundary in place
// of exceptions, so that a caller sees in the signature that an operation can fail.
#include <utility>
#include <variant>

#include "common/problem.hpp"

namespace ct {

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
  Result(Problem problem) : state_(std::in_place_index<1>, std::move(problem)) {}  // NOLINT(implicit)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Problem& problem() const& { return std::get<1>(state_); }
  Problem&& problem() && { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, Problem> state_;
};

// Status: success, or the Problem that happened.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Problem problem) : problem_(std::move(problem)), failed_(true) {}  // NOLINT(implicit)
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Problem& problem() const { return problem_; }

 private:
  Problem problem_;
  bool failed_ = false;
};

}  // namespace ct

// In a function whose return type takes a Problem (Result<U>, Status, http::Outcome): evaluates a
// Result, returns its problem if it failed, else binds `var` to its value.
#define CT_TRY(var, expr)                                \
  auto var##_result = (expr);                            \
  if (!var##_result) return std::move(var##_result).problem(); \
  auto& var = *var##_result
