#include "user_commands.hpp"

#include <ostream>

#include "alliance/core/ids.hpp"
#include "commands.hpp"

namespace alliance::ctl {
namespace json = boost::json;

namespace {

// POSTs or PUTs/PATCHes `body` to /v1/users/<--user>/<what> and prints the change as `verb`.
Outcome change_user(Context& ctx, std::string_view method, std::string_view what, json::value body,
                    std::string_view verb) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  std::string target = "/v1/users/" + path_part(ctx.inv.options.at("user"));
  if (!what.empty()) target += "/" + std::string(what);
  auto r = (*c)->call_json(method, target, &body);
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
  } else {
    ctx.out << user_change_line(verb, *r);
  }
  return {};
}

}  // namespace

std::string user_change_line(std::string_view verb, const json::value& response) {
  const auto& u = sub(response, "user");
  std::string line = std::string(verb) + " " + str(u, "role") + " " + terminal_safe(str(u, "display_name"), "") +
                     " <" + terminal_safe(str(u, "email"), "") + "> (id " + str(u, "id") + ")";
  const auto ended = int64_of(response, "sessions_ended");
  if (ended > 0)
    line += "; " + std::to_string(ended) + (ended == 1 ? " session" : " sessions") + " ended (their sockets closed)";
  if (int64_of(u, "deactivated_unix_ms") > 0) line += "; deactivated";
  return line + "\n";
}

Outcome user_deactivate(Context& ctx) {
  return change_user(ctx, "POST", "deactivate", json::object{}, "deactivated");
}

Outcome user_reactivate(Context& ctx) {
  return change_user(ctx, "POST", "reactivate", json::object{}, "reactivated");
}

Outcome user_set_role(Context& ctx) {
  return change_user(ctx, "PUT", "role", json::object{{"role", ctx.inv.options.at("role")}}, "role set:");
}

Outcome user_update(Context& ctx) {
  const auto& o = ctx.inv.options;
  json::object body;
  if (auto it = o.find("name"); it != o.end()) body["display_name"] = it->second;
  if (auto it = o.find("email"); it != o.end()) body["email"] = it->second;
  if (body.empty()) return failed(invalid_argument("name", "give --name and/or --email"), kUsage);
  return change_user(ctx, "PATCH", "", std::move(body), "updated");
}

Outcome user_reset_two_factor(Context& ctx) {
  return change_user(ctx, "POST", "two-factor/reset", json::object{}, "two-factor sign-in reset for");
}

Outcome user_reset_password(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  json::value body = json::object{};
  auto r = (*c)->call_json("POST", "/v1/users/" + path_part(ctx.inv.options.at("user")) + "/password-reset", &body);
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
    return {};
  }
  ctx.out << user_change_line("password reset for", *r)
          << "reset token (shown once; give it to the user privately, it works once until "
          << format_ms(sub(*r, "expires_unix_ms")) << "):\n"
          << str(*r, "reset_token") << "\n"
          << "the user sets a new password with it: POST /v1/auth/password-reset "
             "{\"reset_token\":\"...\",\"new_password\":\"...\"}\n";
  return {};
}

}  // namespace alliance::ctl
