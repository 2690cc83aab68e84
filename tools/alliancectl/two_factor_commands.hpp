#pragma once
// alliancectl's two-factor sign-in commands: two-factor enroll, confirm, disable and
// status (the signed-in user's own), and the enrolment a practice may require at
// sign-in (`login` starts it; `two-factor confirm` finishes it). The printers are pure
// so the unit tests check exactly what a user reads.
#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "command_context.hpp"

namespace alliance::ctl {

Outcome two_factor_enroll(Context& ctx);   // two-factor enroll
Outcome two_factor_confirm(Context& ctx);  // two-factor confirm --code CODE
Outcome two_factor_disable(Context& ctx);  // two-factor disable [--code CODE | --password-file F]
Outcome two_factor_status(Context& ctx);   // two-factor status

// `login` answered with a challenge that requires enrolment: asks for a secret with
// it, prints it, and keeps the challenge in the session file for `two-factor confirm`.
Outcome enrol_at_sign_in(Context& ctx, const client::Endpoint& ep, const client::Tokens& challenged);

// A TwoFactorEnrolmentResponse for a terminal: the QR code, the otpauth:// URI and the
// secret, then what to run next. The QR text is printed as the server drew it.
std::string enrolment_text(const boost::json::value& response);
// "recovery codes (each works once; keep them somewhere safe, they are not shown again):"
// then one code a line.
std::string recovery_codes_text(const std::vector<std::string>& codes);
// TwoFactorStatus in one line: "two-factor sign-in: on since TIME, N recovery codes left"
// (or "off" / "pending confirmation"), and "; required by the practice" when it is.
std::string two_factor_status_line(const boost::json::value& status);

}  // namespace alliance::ctl
