#pragma once
// The checks every reminders and check-in handler starts with: a signed-in caller, and an
// id field that can name one of ours. Errors name the field.
#include <string>
#include <string_view>

#include "alliance/core/result.hpp"
#include "alliance/net/rpc_server.hpp"

namespace alliance::reminders {

inline Status signed_in(const net::CallContext& ctx) {
  if (ctx.caller.user_id().empty() || ctx.caller.practice_id().empty())
    return make_error(Code::kUnauthenticated, "sign in first");
  return {};
}

// Ids are ours (opaque, short): anything else cannot name a reminder, check-in or appointment.
inline Status valid_id(std::string_view id, std::string_view field) {
  if (id.empty()) return invalid_argument(std::string(field), std::string(field) + ": required");
  if (id.size() > 64) return invalid_argument(std::string(field), std::string(field) + ": at most 64 characters");
  return {};
}

}  // namespace alliance::reminders
