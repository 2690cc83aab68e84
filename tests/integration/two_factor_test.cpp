// Two-factor sign-in end to end over the real processes: enrolment, the second step of
// a login, recovery codes, replay and guessing of codes, the practice's policy for
// staff, an admin's reset, and alliancectl driving it all.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "alliance/core/ids.hpp"
#include "alliance/crypto/totp.hpp"
#include "base32.hpp"
#include "system.hpp"

namespace alliance::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

// The secret an otpauth:// URI carries.
std::string secret_of(std::string_view uri) {
  auto at = uri.find("secret=");
  auto end = uri.find('&', at);
  return base32_decode(uri.substr(at + 7, end - at - 7));
}

// The code an authenticator app shows `steps` 30-second steps from now.
std::string code_at(const std::string& secret, int steps = 0) {
  return crypto::totp(secret, now_unix_ms() / 1000 + steps * crypto::kTotpStepSeconds);
}

std::string file_bytes(const std::filesystem::path& p) {
  std::stringstream ss;
  ss << std::ifstream(p, std::ios::binary).rdbuf();
  return ss.str();
}

class TwoFactor : public ::testing::Test {
 protected:
  void start(SystemOptions options = {}) {
    sys_ = std::make_unique<System>(std::move(options));
    sys_->create_practice("elm");
    therapist_id_ = sys_->create_user("elm", "tess@elm.example", "therapist");
  }
  // A fresh login of tess; the body of the answer (a challenge or tokens).
  json::value login_body() {
    client::AllianceClient c(sys_->endpoint());
    json::value body = {{"practice", "elm"}, {"email", "tess@elm.example"}, {"password", System::kPassword}};
    auto r = c.call_json("POST", "/v1/auth/login", &body, false);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : json::value();
  }
  std::string challenge() { return std::string(login_body().at("two_factor").at("challenge").as_string()); }
  Result<json::value> second_step(const std::string& challenge, const std::string& code) {
    client::AllianceClient c(sys_->endpoint());
    json::value body = {{"challenge", challenge}, {"code", code}};
    return c.call_json("POST", "/v1/auth/two-factor", &body, false);
  }
  // Tess turns two-factor sign-in on; answers the secret and her recovery codes.
  std::pair<std::string, std::vector<std::string>> enrol_tess() {
    auto tess = sys_->login("elm", "tess@elm.example");
    auto started = tess->post_json("/v1/me/two-factor/enroll", json::object{});
    EXPECT_TRUE(started) << started.error().message;
    if (!started) return {};
    const std::string secret = secret_of(started->at("enrolment").at("otpauth_uri").as_string());
    auto confirmed = tess->post_json("/v1/me/two-factor/confirm", json::object{{"code", code_at(secret)}});
    EXPECT_TRUE(confirmed) << confirmed.error().message;
    std::vector<std::string> codes;
    if (confirmed)
      for (const auto& c : confirmed->at("recovery_codes").as_array()) codes.emplace_back(c.as_string());
    return {secret, codes};
  }
  CommandOutput ctl(const std::string& session, std::vector<std::string> args) {
    std::vector<std::string> all = {"--gateway", "https://127.0.0.1:" + std::to_string(sys_->gateway_port()),
                                    "--ca", dev_certs().ca().string(), "--session", (sys_->dir() / session).string()};
    all.insert(all.end(), args.begin(), args.end());
    return run_command(binary("tools/alliancectl/alliancectl"), all, 20s);
  }

  std::unique_ptr<System> sys_;
  std::string therapist_id_;
};

TEST_F(TwoFactor, EnrolledUserSignsInWithACodeThatWorksOnceAndRecoveryCodesThatWorkOnce) {
  // Tess enrols: the app's secret is shown once, as a URI and a QR code.
  start();
  auto tess = sys_->login("elm", "tess@elm.example");
  auto started = tess->post_json("/v1/me/two-factor/enroll", json::object{});
  ASSERT_TRUE(started) << started.error().message;
  const auto& enrolment = started->at("enrolment");
  const std::string uri(enrolment.at("otpauth_uri").as_string());
  EXPECT_EQ(uri.rfind("otpauth://totp/Practice%20elm:tess@elm.example?secret=", 0), 0u) << uri;
  EXPECT_NE(std::string(enrolment.at("qr_text").as_string()).find("\u2588"), std::string::npos);
  const std::string secret = secret_of(uri);
  ASSERT_EQ(secret.size(), crypto::kTotpSecretSize);
  // Not on until confirmed: a password alone still signs in.
  EXPECT_FALSE(login_body().at("access_token").as_string().empty());
  // A wrong code does not turn it on; the current one does and gives 10 recovery codes.
  auto wrong = tess->post_json("/v1/me/two-factor/confirm", json::object{{"code", code_at(secret, 100)}});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().field, "code");
  const std::string first_code = code_at(secret);
  auto confirmed = tess->post_json("/v1/me/two-factor/confirm", json::object{{"code", first_code}});
  ASSERT_TRUE(confirmed) << confirmed.error().message;
  std::vector<std::string> recovery;
  for (const auto& c : confirmed->at("recovery_codes").as_array()) recovery.emplace_back(c.as_string());
  ASSERT_EQ(recovery.size(), 10u);
  EXPECT_TRUE(std::regex_match(recovery[0], std::regex("[A-Z2-7]{4}(-[A-Z2-7]{4}){3}"))) << recovery[0];
  EXPECT_TRUE(confirmed->at("status").at("enabled").as_bool());

  // The password alone now gives a challenge and no tokens.
  auto body = login_body();
  EXPECT_TRUE(body.at("access_token").as_string().empty());
  EXPECT_TRUE(body.at("refresh_token").as_string().empty());
  const std::string c1(body.at("two_factor").at("challenge").as_string());
  EXPECT_FALSE(body.at("two_factor").at("enrolment_required").as_bool());
  // The code used to confirm was used: replaying it is refused.
  auto replay = second_step(c1, first_code);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code, Code::kUnauthenticated);
  EXPECT_EQ(replay.error().field, "code");
  // The next step's code (one step of skew) completes it; tokens work.
  const std::string next_code = code_at(secret, 1);
  auto done = second_step(c1, next_code);
  ASSERT_TRUE(done) << done.error().message;
  client::AllianceClient signed_in(sys_->endpoint());
  signed_in.set_tokens(*client::tokens_from_json(*done));
  auto me = signed_in.me();
  ASSERT_TRUE(me) << me.error().message;
  EXPECT_EQ(me->at("user").at("id").as_string(), therapist_id_);
  // The challenge worked once.
  auto again = second_step(c1, recovery[1]);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().field, "challenge");
  // The same code on a new challenge: a replay within its window, refused.
  auto replayed = second_step(challenge(), next_code);
  ASSERT_FALSE(replayed);
  EXPECT_EQ(replayed.error().field, "code");

  // A recovery code (typed in lower case, without dashes) works once.
  std::string typed = recovery[0];
  typed.erase(std::remove(typed.begin(), typed.end(), '-'), typed.end());
  std::transform(typed.begin(), typed.end(), typed.begin(), [](unsigned char ch) { return std::tolower(ch); });
  ASSERT_TRUE(second_step(challenge(), typed));
  auto used = second_step(challenge(), recovery[0]);
  ASSERT_FALSE(used);
  EXPECT_EQ(used.error().field, "code");
  auto status = signed_in.get_json("/v1/me/two-factor");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->at("status").at("recovery_codes_left").as_int64(), 9);

  // Neither the secret nor a recovery code is in identity's database files in clear.
  const std::string db = file_bytes(sys_->dir() / "identity.db") + file_bytes(sys_->dir() / "identity.db-wal");
  ASSERT_FALSE(db.empty());
  EXPECT_EQ(db.find(secret), std::string::npos);
  EXPECT_EQ(db.find(crypto::base32(secret)), std::string::npos);
  for (const auto& r : recovery) {
    std::string bare = r;
    bare.erase(std::remove(bare.begin(), bare.end(), '-'), bare.end());
    EXPECT_EQ(db.find(bare), std::string::npos);
    EXPECT_EQ(db.find(r), std::string::npos);
  }
  // Nor in its log.
  const std::string log = sys_->identity().log();
  EXPECT_EQ(log.find(crypto::base32(secret)), std::string::npos);
  EXPECT_EQ(log.find(recovery[2]), std::string::npos);
  EXPECT_EQ(log.find(c1), std::string::npos);
}

TEST_F(TwoFactor, WrongCodesBackOffLikeWrongPasswordsAndAProvenPasswordDoesNotClearThem) {
  // Someone who has Tess's password guesses codes: each wrong code counts as a failed
  // sign-in, signing in with the password again does not clear them, and after three
  // the account backs off, so even the right code is refused for a while.
  SystemOptions options;
  options.identity_flags = {{"login_backoff_after", "3"}};
  start(std::move(options));
  auto [secret, recovery] = enrol_tess();
  ASSERT_FALSE(secret.empty());
  const std::string c1 = challenge();
  for (int i = 0; i < 2; ++i) {
    auto wrong = second_step(c1, code_at(secret, 100 + i));
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, Code::kUnauthenticated);
  }
  // The password is proven again (a new challenge), and the two failures still count.
  const std::string c2 = challenge();
  auto third = second_step(c2, "123-not-a-code");
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, Code::kUnauthenticated);
  auto locked = second_step(c2, code_at(secret, 1));
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().code, Code::kResourceExhausted);
  EXPECT_GT(locked.error().retry_after.count(), 0);
  // The password step backs off too.
  client::AllianceClient c(sys_->endpoint());
  auto password_too = c.login("elm", "tess@elm.example", System::kPassword);
  ASSERT_FALSE(password_too);
  EXPECT_EQ(password_too.error().code, Code::kResourceExhausted);
}

TEST_F(TwoFactor, PracticePolicyMakesStaffEnrolAtSignInAndAnAdminResetEndsSessions) {
  // The admin requires two-factor sign-in for staff. Tess (no second factor yet) signs
  // in: her password gives a challenge that says to enrol, she enrols with it and her
  // first code finishes the sign-in with recovery codes. A client is not asked. Tess
  // loses her phone: the admin resets it, her session ends, and she enrols again.
  start();
  sys_->create_user("elm", "cleo@elm.example", "client");
  auto admin = sys_->login("elm", "admin@elm.example");
  auto tess_before = sys_->login("elm", "tess@elm.example");
  ASSERT_TRUE(admin->put_json("/v1/practice/policy", json::object{{"therapists_book_any_client", true}}));
  auto policy = admin->put_json("/v1/practice/policy", json::object{{"require_two_factor_for_staff", true}});
  ASSERT_TRUE(policy) << policy.error().message;
  EXPECT_TRUE(policy->at("practice").at("require_two_factor_for_staff").as_bool());
  // Setting one policy leaves the other as it was.
  EXPECT_TRUE(policy->at("practice").at("therapists_book_any_client").as_bool());

  EXPECT_TRUE(sys_->login("elm", "cleo@elm.example"));  // clients are not asked
  // Tess cannot turn it off while the practice requires it.
  auto off = tess_before->post_json("/v1/me/two-factor/disable", json::object{{"password", System::kPassword}});
  ASSERT_FALSE(off);
  EXPECT_EQ(off.error().code, Code::kFailedPrecondition);

  client::AllianceClient tess(sys_->endpoint());
  auto challenged = tess.login("elm", "tess@elm.example", System::kPassword);
  ASSERT_TRUE(challenged) << challenged.error().message;
  ASSERT_TRUE(challenged->two_factor);
  EXPECT_TRUE(challenged->two_factor->enrolment_required);
  EXPECT_TRUE(challenged->access_token.empty());
  EXPECT_TRUE(tess.tokens().access_token.empty());
  // The challenge is not a token.
  client::AllianceClient with_challenge(sys_->endpoint());
  with_challenge.set_tokens(client::Tokens{challenged->two_factor->challenge, "", 0, "", "", "", {}, {}});
  EXPECT_FALSE(with_challenge.me());

  auto enrolment = tess.enrol_with_challenge(challenged->two_factor->challenge);
  ASSERT_TRUE(enrolment) << enrolment.error().message;
  const std::string secret = secret_of(enrolment->at("enrolment").at("otpauth_uri").as_string());
  auto done = tess.complete_two_factor(challenged->two_factor->challenge, code_at(secret));
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(done->recovery_codes.size(), 10u);
  ASSERT_TRUE(tess.me());
  auto status = tess.get_json("/v1/me/two-factor");
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->at("status").at("enabled").as_bool());
  EXPECT_TRUE(status->at("status").at("required").as_bool());
  // From now on her sign-in is a normal second step.
  auto next = login_body();
  EXPECT_FALSE(next.at("two_factor").at("enrolment_required").as_bool());

  // The admin resets it: recorded, her sessions end, and her next sign-in enrols again.
  auto reset = admin->post_json("/v1/users/" + therapist_id_ + "/two-factor/reset", json::object{});
  ASSERT_TRUE(reset) << reset.error().message;
  EXPECT_GE(reset->at("sessions_ended").as_int64(), 2);
  auto gone = tess.me();
  for (int i = 0; i < 100 && gone; ++i) {
    std::this_thread::sleep_for(20ms);
    gone = tess.me();
  }
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Code::kUnauthenticated);
  EXPECT_TRUE(login_body().at("two_factor").at("enrolment_required").as_bool());
  // Someone not an admin cannot reset anyone's.
  auto cleo = sys_->login("elm", "cleo@elm.example");
  auto refused = cleo->post_json("/v1/users/" + therapist_id_ + "/two-factor/reset", json::object{});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kPermissionDenied);
}

TEST_F(TwoFactor, AllianceCtlEnrolsSignsInWithACodeAndDisables) {
  // Tess does it all with the real alliancectl: enrol (QR and URI printed), confirm
  // (recovery codes printed), sign in again with --code, see the status, a replayed
  // code refused, and turn it off with her password.
  start();
  const auto pw = sys_->dir() / "pw";
  std::ofstream(pw) << System::kPassword;
  auto in = ctl("tess.json", {"login", "--practice", "elm", "--email", "tess@elm.example", "--password-file", pw.string()});
  ASSERT_EQ(in.exit_code, 0) << in.out;
  auto enrol = ctl("tess.json", {"two-factor", "enroll"});
  ASSERT_EQ(enrol.exit_code, 0) << enrol.out;
  EXPECT_NE(enrol.out.find("\u2588"), std::string::npos) << enrol.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(enrol.out, m, std::regex("otpauth://totp/\\S+"))) << enrol.out;
  const std::string secret = secret_of(m.str());
  auto confirm = ctl("tess.json", {"two-factor", "confirm", "--code", code_at(secret)});
  ASSERT_EQ(confirm.exit_code, 0) << confirm.out;
  EXPECT_NE(confirm.out.find("two-factor sign-in: on since"), std::string::npos) << confirm.out;
  EXPECT_TRUE(std::regex_search(confirm.out, std::regex("\n  [A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}\n")))
      << confirm.out;

  // A sign-in without the code on stdin says what is missing; with --code it works.
  auto no_code = ctl("tess2.json", {"login", "--practice", "elm", "--email", "tess@elm.example", "--password-file",
                                    pw.string()});
  EXPECT_NE(no_code.exit_code, 0);
  const std::string code = code_at(secret, 1);
  auto with_code = ctl("tess2.json", {"login", "--practice", "elm", "--email", "tess@elm.example", "--password-file",
                                      pw.string(), "--code", code});
  ASSERT_EQ(with_code.exit_code, 0) << with_code.out;
  EXPECT_NE(with_code.out.find("logged in to elm as tess@elm.example"), std::string::npos) << with_code.out;
  auto status = ctl("tess2.json", {"two-factor", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.out;
  EXPECT_NE(status.out.find("10 recovery codes left"), std::string::npos) << status.out;
  auto replay = ctl("tess3.json", {"login", "--practice", "elm", "--email", "tess@elm.example", "--password-file",
                                   pw.string(), "--code", code});
  EXPECT_NE(replay.exit_code, 0) << replay.out;

  auto off = ctl("tess2.json", {"two-factor", "disable", "--password-file", pw.string()});
  ASSERT_EQ(off.exit_code, 0) << off.out;
  EXPECT_NE(off.out.find("two-factor sign-in: off"), std::string::npos) << off.out;
  auto plain = ctl("tess3.json", {"login", "--practice", "elm", "--email", "tess@elm.example", "--password-file",
                                  pw.string()});
  EXPECT_EQ(plain.exit_code, 0) << plain.out;
}

TEST_F(TwoFactor, AllianceCtlFinishesASignInThePracticeMakesEnrolAndAnAdminResetsIt) {
  // With the policy on, `alliancectl login` prints the QR code instead of signing in;
  // `two-factor confirm` with the app's code finishes the sign-in. The admin's
  // `user reset-two-factor` ends her session.
  start();
  const auto pw = sys_->dir() / "pw";
  std::ofstream(pw) << System::kPassword;
  auto admin_in =
      ctl("admin.json", {"login", "--practice", "elm", "--email", "admin@elm.example", "--password-file", pw.string()});
  ASSERT_EQ(admin_in.exit_code, 0) << admin_in.out;
  auto admin = sys_->login("elm", "admin@elm.example");
  ASSERT_TRUE(admin->put_json("/v1/practice/policy", json::object{{"require_two_factor_for_staff", true}}));

  auto login = ctl("tess.json", {"login", "--practice", "elm", "--email", "tess@elm.example", "--password-file",
                                 pw.string()});
  ASSERT_EQ(login.exit_code, 0) << login.out;
  EXPECT_NE(login.out.find("requires two-factor sign-in"), std::string::npos) << login.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(login.out, m, std::regex("otpauth://totp/\\S+"))) << login.out;
  EXPECT_NE(ctl("tess.json", {"whoami"}).exit_code, 0);  // not signed in yet
  auto confirm = ctl("tess.json", {"two-factor", "confirm", "--code", code_at(secret_of(m.str()))});
  ASSERT_EQ(confirm.exit_code, 0) << confirm.out;
  EXPECT_NE(confirm.out.find("logged in as tess@elm.example"), std::string::npos) << confirm.out;
  EXPECT_NE(confirm.out.find("recovery codes"), std::string::npos) << confirm.out;
  ASSERT_EQ(ctl("tess.json", {"whoami"}).exit_code, 0);

  auto reset = ctl("admin.json", {"user", "reset-two-factor", "--user", therapist_id_});
  ASSERT_EQ(reset.exit_code, 0) << reset.out;
  EXPECT_NE(reset.out.find("two-factor sign-in reset for therapist"), std::string::npos) << reset.out;
  EXPECT_NE(reset.out.find("1 session ended"), std::string::npos) << reset.out;
}

}  // namespace
}  // namespace alliance::testing
