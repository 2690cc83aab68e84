#pragma once
// alliancectl's commands for people who join, change and leave (an admin's): user
// deactivate, reactivate, set-role, update and reset-password, through the gateway's
// /v1/users/{user_id}/... routes. The printer is pure so the unit tests check exactly
// what an admin reads.
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "command_context.hpp"

namespace alliance::ctl {

// The commands; run() dispatches to them.
Outcome user_deactivate(Context& ctx);      // user deactivate --user USER_ID
Outcome user_reactivate(Context& ctx);      // user reactivate --user USER_ID
Outcome user_set_role(Context& ctx);        // user set-role --user USER_ID --role ROLE
Outcome user_update(Context& ctx);          // user update --user USER_ID [--name NAME] [--email E]
Outcome user_reset_password(Context& ctx);  // user reset-password --user USER_ID
Outcome user_reset_two_factor(Context& ctx);  // user reset-two-factor --user USER_ID

// What a change did, from the server's UserResponse (or StartPasswordResetResponse):
// "<verb> <role> <name> <email> (id <id>)", then "; N session(s) ended (their sockets
// closed)" when it ended any, and "; deactivated" for a user still deactivated, then
// "\n". The name and email are made terminal-safe.
std::string user_change_line(std::string_view verb, const boost::json::value& response);

}  // namespace alliance::ctl
