#pragma once
// Result<T>: the value of an expected failure. A small closed set of codes that
// become an RPC status or an HTTP status in exactly one place each.
#include <cassert>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace alliance {

enum class Code {
  kOk = 0,
  kInvalidArgument = 1,
  kNotFound = 2,
  kAlreadyExists = 3,
  kFailedPrecondition = 4,
  kPermissionDenied = 5,
  kUnauthenticated = 6,
  kResourceExhausted = 7,
  kUnavailable = 8,
  kInternal = 9,
  kDeadlineExceeded = 10,
};

std::string_view code_name(Code code);

// What went wrong, said so a user can act on it. `message` never holds secrets,
// SQL or stack traces; `field` names the request field at fault, if any.
struct Error {
  Code code = Code::kInternal;
  std::string message;
  std::string field;
  std::chrono::milliseconds retry_after{0};  // with kResourceExhausted
  // More about the failure as a serialized protobuf of the call's response type
  // (e.g. the current recipients when a send's device list is stale). Carried in
  // the RPC error frame's payload; the gateway shows it as the error's "detail".
  std::string detail;
};

inline Error invalid_argument(std::string field, std::string message) {
  return Error{Code::kInvalidArgument, std::move(message), std::move(field)};
}
inline Error make_error(Code code, std::string message) {
  return Error{code, std::move(message), {}};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(v_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { assert(!ok()); return *error_; }
  Error&& error() && { assert(!ok()); return std::move(*error_); }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

}  // namespace alliance
