#pragma once
// What identity's handlers share (identity_service.cpp, user_admin.cpp): the caller
// as the gateway established it, in domain terms, and the wire form of a user and a
// practice.
// Pure functions; any thread.
#include <chrono>
#include <optional>
#include <string>

#include "alliance/core/result.hpp"
#include "alliance/identity/v1/identity.pb.h"
#include "alliance/net/rpc_server.hpp"
#include "identity_domain.hpp"

namespace alliance::identity {

struct Caller {
  std::string user_id;
  std::string practice_id;
  std::string session_id;
  std::optional<Role> role;
};

// Every user-facing method but CreatePractice/Login/Refresh/RedeemPasswordReset needs
// a signed-in caller; kUnauthenticated otherwise.
Result<Caller> require_user(const net::CallContext& ctx);

// Internal methods: refused (kPermissionDenied) when a user Caller is present.
Status require_internal(const net::CallContext& ctx);

// Someone the caller may not see (or change) is indistinguishable from no one.
Error no_such_user();

// A sign-in (or a code, or a password re-checked) refused while the login back-off holds.
Error locked_out(std::chrono::milliseconds retry_after);

void fill(::alliance::identity::v1::User& out, const User& u);
void fill(::alliance::identity::v1::Practice& out, const Practice& p);

}  // namespace alliance::identity
