#include "handler_common.hpp"

#include <algorithm>

#include "alliance/core/utf8.hpp"

namespace alliance::scheduling {

Result<Caller> require_user(const net::CallContext& ctx) {
  const auto& c = ctx.caller;
  auto role = parse_role(c.role());
  if (c.user_id().empty() || c.practice_id().empty() || !role)
    return make_error(Code::kUnauthenticated, "sign in first");
  return Caller{c.user_id(), c.practice_id(), *role};
}

Error not_found(std::string field, std::string message) {
  return Error{Code::kNotFound, std::move(message), std::move(field)};
}
Error denied(std::string message, std::string field) {
  return Error{Code::kPermissionDenied, std::move(message), std::move(field)};
}
Error precondition(std::string field, std::string message) {
  return Error{Code::kFailedPrecondition, std::move(message), std::move(field)};
}

Status require_id(const std::string& value, std::string_view field) {
  if (value.empty()) return invalid_argument(std::string(field), std::string(field) + ": is required");
  if (value.size() > 64) return invalid_argument(std::string(field), std::string(field) + ": too long");
  return {};
}

asio::awaitable<Status> require_practice_therapist(UserDirectory& directory, const Caller& caller,
                                                   const std::string& therapist_id) {
  auto therapist = co_await directory.find_user(therapist_id);
  if (!therapist) co_return therapist.error();
  if (!*therapist || (*therapist)->practice_id != caller.practice_id || (*therapist)->role != Role::kTherapist)
    co_return not_found("therapist_id", "therapist_id: no such therapist");
  co_return Status{};
}

Status validate_text(std::string_view field, const std::string& value, std::size_t max, Lines lines) {
  const std::string f(field);
  if (value.empty()) return invalid_argument(f, f + ": is required");
  if (utf8_length(value) > max) return invalid_argument(f, f + ": at most " + std::to_string(max) + " characters");
  std::string probe = value;
  if (lines == Lines::kMany) std::replace_if(probe.begin(), probe.end(), [](char c) { return c == '\n' || c == '\t'; }, ' ');
  if (has_control_character(probe)) return invalid_argument(f, f + ": must not contain control characters");
  return {};
}

}  // namespace alliance::scheduling
