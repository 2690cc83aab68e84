#pragma once
// What scheduling's handler classes share (SchedulingService, Waitlist, Calendar):
// the caller as the gateway established it, the errors that hide or refuse, and the
// checks of ids and of text people type. Pure functions, any thread.
#include <cstddef>
#include <string>
#include <string_view>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/net/rpc_server.hpp"
#include "scheduling_model.hpp"
#include "user_directory.hpp"

namespace alliance::scheduling {

// The signed-in caller; kUnauthenticated without one.
Result<Caller> require_user(const net::CallContext& ctx);

Error not_found(std::string field, std::string message);
Error denied(std::string message, std::string field = {});
Error precondition(std::string field, std::string message);

// An id in a request: required, at most 64 bytes.
Status require_id(const std::string& value, std::string_view field);

// `therapist_id` is a therapist of the caller's practice; else kNotFound on therapist_id
// ("therapist_id: no such therapist"), as for an unknown id.
asio::awaitable<Status> require_practice_therapist(UserDirectory& directory, const Caller& caller,
                                                   const std::string& therapist_id);

enum class Lines { kOne, kMany };

// Text people type and read: required, at most `max` characters (code points, not
// bytes), no control characters; kMany allows line breaks and tabs (a reason), kOne
// none (a name, which also reaches calendar feeds and lock screens).
Status validate_text(std::string_view field, const std::string& value, std::size_t max, Lines lines);

}  // namespace alliance::scheduling
