#include "two_factor_commands.hpp"

#include <ostream>

#include "commands.hpp"

namespace alliance::ctl {
namespace json = boost::json;

namespace {

std::vector<std::string> strings_of(const json::value& v, std::string_view key) {
  std::vector<std::string> out;
  if (!v.is_object()) return out;
  if (auto* a = v.as_object().if_contains(key); a && a->is_array())
    for (const auto& s : a->as_array())
      if (s.is_string()) out.emplace_back(s.as_string());
  return out;
}

bool bool_of(const json::value& v, std::string_view key) {
  if (!v.is_object()) return false;
  auto* b = v.as_object().if_contains(key);
  return b && b->is_bool() && b->as_bool();
}

// Prints the answer (JSON as it came, or `text`).
Outcome shown(Context& ctx, const json::value& response, const std::string& text) {
  if (ctx.inv.json)
    print_json(ctx.out, response);
  else
    ctx.out << text;
  return {};
}

// A signed-in POST to /v1/me/two-factor/<what> or a GET of /v1/me/two-factor.
Result<json::value> call(Context& ctx, std::string_view method, std::string_view what, json::value body) {
  auto c = logged_in_client(ctx);
  if (!c) return c.error();
  std::string target = "/v1/me/two-factor";
  if (!what.empty()) target += "/" + std::string(what);
  return (*c)->call_json(method, target, method == "GET" ? nullptr : &body);
}

}  // namespace

std::string enrolment_text(const json::value& response) {
  const auto& e = sub(response, "enrolment");
  return "scan this QR code with your authenticator app:\n" + str(e, "qr_text") + "or open this link on the phone: " +
         str(e, "otpauth_uri") + "\nor type in the secret: " + str(e, "secret_base32") +
         "\nthen run: alliancectl two-factor confirm --code CODE (the 6 digits the app shows)\n";
}

std::string recovery_codes_text(const std::vector<std::string>& codes) {
  std::string out = "recovery codes (each works once; keep them somewhere safe, they are not shown again):\n";
  for (const auto& c : codes) out += "  " + c + "\n";
  return out;
}

std::string two_factor_status_line(const json::value& status) {
  std::string line = "two-factor sign-in: ";
  if (bool_of(status, "enabled")) {
    const auto left = int64_of(status, "recovery_codes_left");
    line += "on since " + format_ms(sub(status, "enabled_unix_ms")) + ", " + std::to_string(left) +
            (left == 1 ? " recovery code left" : " recovery codes left");
  } else if (bool_of(status, "pending")) {
    line += "pending confirmation (run two-factor confirm --code CODE)";
  } else {
    line += "off";
  }
  if (bool_of(status, "required")) line += "; required by the practice";
  return line + "\n";
}

Outcome enrol_at_sign_in(Context& ctx, const client::Endpoint& ep, const client::Tokens& challenged) {
  client::AllianceClient c(ep);
  auto r = c.enrol_with_challenge(challenged.two_factor->challenge);
  if (!r) return failed(r.error());
  // No tokens yet: the session holds the challenge until `two-factor confirm`.
  Session s;
  s.gateway = gateway_text(ctx);
  s.ca_file = ep.ca_file.string();
  s.tokens = challenged;
  carry_over_identity(ctx.inv.session, s);  // kept for the sign-in `two-factor confirm` finishes
  if (auto st = save_session(ctx.inv.session, s); !st) return failed(st.error());
  return shown(ctx, *r,
               "the practice requires two-factor sign-in for staff: enrol now to finish signing in (within 5 "
               "minutes)\n" +
                   enrolment_text(*r));
}

Outcome two_factor_enroll(Context& ctx) {
  auto r = call(ctx, "POST", "enroll", json::object{});
  if (!r) return failed(r.error());
  return shown(ctx, *r, enrolment_text(*r));
}

Outcome two_factor_confirm(Context& ctx) {
  const std::string& code = ctx.inv.options.at("code");
  // A sign-in that had to enrol: the challenge in the session file finishes it.
  if (ctx.have_session && ctx.session.tokens.access_token.empty() && ctx.session.tokens.two_factor) {
    auto ep = endpoint(ctx);
    if (!ep) return failed(ep.error());
    client::AllianceClient c(*ep);
    json::value body = json::object{{"challenge", ctx.session.tokens.two_factor->challenge}, {"code", code}};
    auto r = c.call_json("POST", "/v1/auth/two-factor", &body, false);
    if (!r) return failed(r.error());
    return save_signed_in(ctx, *ep, *r);
  }
  auto r = call(ctx, "POST", "confirm", json::object{{"code", code}});
  if (!r) return failed(r.error());
  return shown(ctx, *r, two_factor_status_line(sub(*r, "status")) + recovery_codes_text(strings_of(*r, "recovery_codes")));
}

Outcome two_factor_disable(Context& ctx) {
  if (auto st = require_session(ctx); !st) return failed(st.error());
  json::object body;
  if (auto it = ctx.inv.options.find("code"); it != ctx.inv.options.end()) {
    body["code"] = it->second;
  } else {
    auto pw = password(ctx.inv, "password-file", "Password: ", "password");
    if (!pw) return failed(pw.error());
    body["password"] = *pw;
  }
  auto r = call(ctx, "POST", "disable", std::move(body));
  if (!r) return failed(r.error());
  return shown(ctx, *r, two_factor_status_line(sub(*r, "status")));
}

Outcome two_factor_status(Context& ctx) {
  auto r = call(ctx, "GET", "", json::object{});
  if (!r) return failed(r.error());
  return shown(ctx, *r, two_factor_status_line(sub(*r, "status")));
}

}  // namespace alliance::ctl
