// Two-factor sign-in in identity's service over real SQLite and Redis: the same code
// sent twice at once signs in once, a challenge expires and is no one else's, and
// every enable and admin reset is recorded with who did it.
#include <gtest/gtest.h>

#include "alliance/crypto/totp.hpp"
#include "base32.hpp"
#include "alliance/store/query.hpp"
#include "identity_service_fixture.hpp"

namespace alliance::identity {
namespace {

using testing::base32_decode;

class TwoFactorServiceTest : public IdentityServiceTest {
 protected:
  void SetUp() override {
    IdentityServiceTest::SetUp();
    admin_ = make_practice("twofa").admin();
    therapist_ = make_user(admin_, "sam@twofa.example", "therapist");
  }
  // Sam turns it on; answers the secret.
  std::string enrol() {
    auto started = run(service_->start_two_factor_enrolment({}, as(therapist_)));
    EXPECT_TRUE(started.ok()) << started.error().message;
    if (!started.ok()) return {};
    const std::string secret = base32_decode(started->enrolment().secret_base32());
    pb::ConfirmTwoFactorRequest confirm;
    confirm.set_code(crypto::totp(secret, now_unix_ms() / 1000));
    auto confirmed = run(service_->confirm_two_factor(confirm, as(therapist_, "", "203.0.113.1")));
    EXPECT_TRUE(confirmed.ok()) << confirmed.error().message;
    return secret;
  }
  std::string challenge() {
    auto r = login("twofa", "sam@twofa.example", kPassword);
    EXPECT_TRUE(r.ok() && r->has_two_factor());
    return r.ok() ? r->two_factor().challenge() : std::string();
  }
  pb::CompleteTwoFactorRequest second_step(const std::string& challenge, const std::string& code) {
    pb::CompleteTwoFactorRequest req;
    req.set_challenge(challenge);
    req.set_code(code);
    return req;
  }
  pb::User admin_, therapist_;
};

TEST_F(TwoFactorServiceTest, TheSameCodeSentTwiceAtOnceSignsInOnce) {
  const std::string secret = enrol();
  const std::string code = crypto::totp(secret, now_unix_ms() / 1000 + crypto::kTotpStepSeconds);
  const auto a = second_step(challenge(), code);
  const auto b = second_step(challenge(), code);
  std::optional<Result<pb::TokenResponse>> ra, rb;
  auto first = [&]() -> asio::awaitable<void> { ra.emplace(co_await service_->complete_two_factor(a, from("203.0.113.1"))); };
  auto second = [&]() -> asio::awaitable<void> { rb.emplace(co_await service_->complete_two_factor(b, from("203.0.113.2"))); };
  asio::co_spawn(io_, first, asio::detached);
  asio::co_spawn(io_, second, asio::detached);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!(ra && rb) && std::chrono::steady_clock::now() < deadline) io_.run_one_for(50ms);
  ASSERT_TRUE(ra && rb);
  EXPECT_EQ(ra->ok() + rb->ok(), 1) << (ra->ok() ? "" : ra->error().message) << " / "
                                    << (rb->ok() ? "" : rb->error().message);
  const auto& refused = ra->ok() ? *rb : *ra;
  EXPECT_EQ(refused.error().field, "code");
}

TEST_F(TwoFactorServiceTest, AChallengeExpiresAndIsOnlyItsUsers) {
  const std::string secret = enrol();
  // A challenge made 6 minutes ago (5 minutes of life) no longer completes.
  const std::string old = "an-old-challenge";
  const auto now = now_unix_ms();
  ASSERT_TRUE(run(store_->create_challenge(refresh_token_digest(old), therapist_.id(), false, now - 6 * 60'000,
                                           now - 6 * 60'000 + kChallengeTtlMs))
                  .ok());
  auto expired = run(service_->complete_two_factor(
      second_step(old, crypto::totp(secret, now / 1000 + crypto::kTotpStepSeconds)), from("203.0.113.1")));
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, Code::kUnauthenticated);
  EXPECT_EQ(expired.error().field, "challenge");
  // Sam's challenge with the admin's code (the admin has none) signs in no one; a made-up one neither.
  auto unknown = run(service_->complete_two_factor(second_step("made-up", "123456"), from("203.0.113.1")));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().field, "challenge");
  // A live one signs in Sam, not anyone else.
  auto done = run(service_->complete_two_factor(
      second_step(challenge(), crypto::totp(secret, now / 1000 + crypto::kTotpStepSeconds)), from("203.0.113.1")));
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->user().id(), therapist_.id());
  auto claims = verify(done->access_token());
  ASSERT_TRUE(claims.ok());
  EXPECT_EQ(claims->subject, therapist_.id());
}

TEST_F(TwoFactorServiceTest, EnablingAndAnAdminsResetAreRecordedWithWhoDidIt) {
  ASSERT_FALSE(enrol().empty());
  pb::ResetTwoFactorRequest reset;
  reset.set_user_id(therapist_.id());
  // Only an admin resets.
  EXPECT_EQ(run(service_->reset_two_factor(reset, as(therapist_))).error().code, Code::kPermissionDenied);
  auto done = run(service_->reset_two_factor(reset, as(admin_)));
  ASSERT_TRUE(done.ok()) << done.error().message;
  auto status = run(service_->get_two_factor_status({}, as(therapist_)));
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->status().enabled());
  // A password alone signs Sam in again.
  auto plain = login("twofa", "sam@twofa.example", kPassword);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->access_token().empty());
  auto job = [](store::Connection& c) -> Result<std::vector<std::string>> {
    return store::query_all(
        c, "SELECT change || ' by ' || by_user_id FROM two_factor_changes ORDER BY at_unix_ms, rowid",
        [](const store::Statement& st) { return st.column_text(0); });
  };
  auto changes = run(store_->database().read(std::move(job)));
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(*changes, (std::vector<std::string>{"enabled by " + therapist_.id(), "reset by " + admin_.id()}));
}

}  // namespace
}  // namespace alliance::identity
