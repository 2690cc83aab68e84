// alliancectl's two-factor commands without a server: the command lines and exactly
// what a user reads (status, enrolment, recovery codes), and the session file keeping
// a sign-in that waits for `two-factor confirm`.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "cli.hpp"
#include "process.hpp"
#include "session.hpp"
#include "two_factor_commands.hpp"

namespace alliance::ctl {
namespace {

using Args = std::vector<std::string>;
const EnvLookup kHomeOnly = [](const std::string& k) -> std::optional<std::string> {
  if (k == "HOME") return "/home/ada";
  return std::nullopt;
};

TEST(TwoFactorArgs, CommandsAndTheCodeOfALogin) {
  auto login = parse_args(Args{"login", "--practice", "elm", "--email", "t@elm.example", "--code", "ABCD-EFGH-IJKL-MNOP"},
                          kHomeOnly);
  ASSERT_TRUE(login) << login.error().message;
  EXPECT_EQ(login->options.at("code"), "ABCD-EFGH-IJKL-MNOP");  // a recovery code is a code too
  auto confirm = parse_args(Args{"two-factor", "confirm", "--code", "123456"}, kHomeOnly);
  ASSERT_TRUE(confirm);
  EXPECT_EQ(confirm->command, "two-factor confirm");
  auto missing = parse_args(Args{"two-factor", "confirm"}, kHomeOnly);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().field, "code");
  auto reset = parse_args(Args{"user", "reset-two-factor", "--user", "u1"}, kHomeOnly);
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->options.at("user"), "u1");
  for (const char* c : {"enroll", "disable", "status"})
    EXPECT_TRUE(parse_args(Args{"two-factor", c}, kHomeOnly)) << c;
  EXPECT_NE(usage().find("two-factor confirm --code CODE"), std::string::npos);
}

TEST(TwoFactorText, StatusEnrolmentAndRecoveryCodesAsAUserReadsThem) {
  EXPECT_EQ(two_factor_status_line(boost::json::parse(
                R"({"enabled":true,"enabled_unix_ms":"1796299200000","recovery_codes_left":1,"required":true})")),
            "two-factor sign-in: on since 2026-12-03 12:00Z, 1 recovery code left; required by the practice\n");
  EXPECT_EQ(two_factor_status_line(boost::json::parse(R"({"enabled":false,"pending":true})")),
            "two-factor sign-in: pending confirmation (run two-factor confirm --code CODE)\n");
  EXPECT_EQ(two_factor_status_line(boost::json::parse(R"({"enabled":false})")), "two-factor sign-in: off\n");
  const std::string text = enrolment_text(boost::json::parse(
      R"({"enrolment":{"otpauth_uri":"otpauth://totp/X:y?secret=AB","qr_text":"QR\n","secret_base32":"AB"}})"));
  EXPECT_EQ(text,
            "scan this QR code with your authenticator app:\nQR\nor open this link on the phone: "
            "otpauth://totp/X:y?secret=AB\nor type in the secret: AB\nthen run: alliancectl two-factor confirm "
            "--code CODE (the 6 digits the app shows)\n");
  EXPECT_EQ(recovery_codes_text({"AAAA-BBBB-CCCC-DDDD", "EEEE-FFFF-GGGG-HHHH"}),
            "recovery codes (each works once; keep them somewhere safe, they are not shown again):\n"
            "  AAAA-BBBB-CCCC-DDDD\n  EEEE-FFFF-GGGG-HHHH\n");
}

TEST(TwoFactorSession, ASignInWaitingForItsCodeKeepsItsChallenge) {
  testing::TempDir dir;
  Session s;
  s.gateway = "https://127.0.0.1:8443";
  s.tokens.user_id = "u1";
  s.tokens.two_factor = client::TwoFactorChallenge{"challenge-text", 0, true};
  ASSERT_TRUE(save_session(dir.path() / "s.json", s));
  auto loaded = load_session(dir.path() / "s.json");
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_TRUE(loaded->tokens.two_factor);
  EXPECT_EQ(loaded->tokens.two_factor->challenge, "challenge-text");
  EXPECT_TRUE(loaded->tokens.access_token.empty());
  // A signed-in session has none.
  s.tokens.two_factor.reset();
  s.tokens.access_token = "a";
  ASSERT_TRUE(save_session(dir.path() / "s.json", s));
  EXPECT_FALSE(load_session(dir.path() / "s.json")->tokens.two_factor);
}

}  // namespace
}  // namespace alliance::ctl
