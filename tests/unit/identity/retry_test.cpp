// Retries of identity's creates after a lost answer: with an idempotency key the same
// request answers what the first one made (replayed) and nothing is made twice; the
// key with another request is refused naming the key. IdentityService over real SQLite.
#include "alliance/store/query.hpp"
#include "identity_service_fixture.hpp"

namespace alliance::identity {
namespace {

class RetryTest : public IdentityServiceTest {
 protected:
  void SetUp() override {
    IdentityServiceTest::SetUp();
    admin_ = make_practice("retries").admin();
  }

  static pb::CreateUserRequest user_request(const std::string& email, const std::string& key) {
    pb::CreateUserRequest req;
    req.set_email(email);
    req.set_password(kPassword);
    req.set_display_name("Jo");
    req.set_role("client");
    req.set_idempotency_key(key);
    return req;
  }

  // Rows of `table` in identity.db, read from the file itself.
  std::int64_t rows(const std::string& table) {
    auto c = store::Connection::open(dir_.path() / "identity.db", {.read_only = true});
    return *store::query_one(*c, "SELECT count(*) FROM " + table, [](store::Statement& s) { return s.column_int(0); });
  }

  pb::User admin_;
};

TEST_F(RetryTest, ARetriedCreateUserAnswersTheSameUserAndMakesNoSecond) {
  auto first = run(service_->create_user(user_request("jo@retries.example", "add-jo-0001"), as(admin_)));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_FALSE(first->replayed());
  const auto users = rows("users");

  auto again = run(service_->create_user(user_request("jo@retries.example", "add-jo-0001"), as(admin_)));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->user().id(), first->user().id());
  EXPECT_EQ(again->user().email(), "jo@retries.example");
  EXPECT_EQ(rows("users"), users);

  // Without the key the repeat is refused as a taken email, as before.
  auto unkeyed = run(service_->create_user(user_request("jo@retries.example", ""), as(admin_)));
  ASSERT_FALSE(unkeyed.ok());
  EXPECT_EQ(unkeyed.error().code, Code::kAlreadyExists);
  EXPECT_EQ(unkeyed.error().field, "email");
}

TEST_F(RetryTest, TheSameKeyWithAnotherRequestIsRefusedNamingTheKey) {
  ASSERT_TRUE(run(service_->create_user(user_request("jo@retries.example", "add-jo-0002"), as(admin_))).ok());
  auto other = run(service_->create_user(user_request("al@retries.example", "add-jo-0002"), as(admin_)));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, Code::kAlreadyExists);
  EXPECT_EQ(other.error().field, "idempotency_key");

  // A key is the caller's own: another admin's same key is a new request.
  auto other_admin = make_practice("elsewhere").admin();
  auto theirs = run(service_->create_user(user_request("jo@elsewhere.example", "add-jo-0002"), as(other_admin)));
  ASSERT_TRUE(theirs.ok()) << theirs.error().message;
  EXPECT_FALSE(theirs->replayed());
}

TEST_F(RetryTest, BadKeysAreRefusedNamingTheKeyAndNothingIsMade) {
  const auto users = rows("users");
  for (std::string key : {std::string("short"), std::string(129, 'k'), std::string("has space"),
                          std::string("tab\there")}) {
    auto r = run(service_->create_user(user_request("bad@retries.example", key), as(admin_)));
    ASSERT_FALSE(r.ok()) << key;
    EXPECT_EQ(r.error().code, Code::kInvalidArgument) << key;
    EXPECT_EQ(r.error().field, "idempotency_key") << key;
  }
  EXPECT_EQ(rows("users"), users);
}

TEST_F(RetryTest, TheKeyDoesNotBindThePasswordNorKeepAnyHashOfIt) {
  auto first = user_request("jo@retries.example", "add-jo-0003");
  ASSERT_TRUE(run(service_->create_user(first, as(admin_))).ok());
  // A retry that changed only the password is still the same create: the first stands.
  auto retry = first;
  retry.set_password("another long passphrase 9");
  auto again = run(service_->create_user(retry, as(admin_)));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->replayed());
  EXPECT_TRUE(login("retries", "jo@retries.example", kPassword).ok());
}

TEST_F(RetryTest, ARetriedCreatePracticeAnswersTheSamePracticeAndAdmin) {
  auto req = practice_request("twice");
  req.set_idempotency_key("practice-twice-1");
  auto first = run(service_->create_practice(req, {}));
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto again = run(service_->create_practice(req, {}));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->practice().id(), first->practice().id());
  EXPECT_EQ(again->admin().id(), first->admin().id());

  // The operator token still decides: a retry with a wrong token is refused, not replayed.
  req.set_operator_token("not the operator token");
  auto forged = run(service_->create_practice(req, {}));
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.error().code, Code::kPermissionDenied);
}

TEST_F(RetryTest, ARetriedCreateIsAnsweredWithoutHashingThePasswordAgain) {
  // scrypt is the costly part of a create: a retry (a lost answer, a 503) must not pay it twice.
  auto user = user_request("hash@retries.example", "add-hash-0001");
  ASSERT_TRUE(run(service_->create_user(user, as(admin_))).ok());
  auto practice = practice_request("hashonce");
  practice.set_idempotency_key("practice-hash-1");
  ASSERT_TRUE(run(service_->create_practice(practice, {})).ok());
  const auto hashed = service_->passwords_hashed();

  auto user_again = run(service_->create_user(user, as(admin_)));
  ASSERT_TRUE(user_again.ok()) << user_again.error().message;
  EXPECT_TRUE(user_again->replayed());
  auto practice_again = run(service_->create_practice(practice, {}));
  ASSERT_TRUE(practice_again.ok()) << practice_again.error().message;
  EXPECT_TRUE(practice_again->replayed());
  EXPECT_EQ(service_->passwords_hashed(), hashed);

  // The key with another request is refused before any hashing too; a new key hashes.
  auto other = run(service_->create_user(user_request("other@retries.example", "add-hash-0001"), as(admin_)));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().field, "idempotency_key");
  EXPECT_EQ(service_->passwords_hashed(), hashed);
  ASSERT_TRUE(run(service_->create_user(user_request("new@retries.example", "add-hash-0002"), as(admin_))).ok());
  EXPECT_EQ(service_->passwords_hashed(), hashed + 1);
}

TEST_F(RetryTest, ARetriedCareTeamAddAnswersTheSameLink) {
  auto therapist = make_user(admin_, "kim@retries.example", "therapist");
  auto client = make_user(admin_, "ana@retries.example", "client");
  pb::AddCareTeamMemberRequest req;
  req.set_client_id(client.id());
  req.set_therapist_id(therapist.id());
  req.set_idempotency_key("care-team-ana-kim");
  auto first = run(service_->add_care_team_member(req, as(admin_)));
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto again = run(service_->add_care_team_member(req, as(admin_)));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->link().created_unix_ms(), first->link().created_unix_ms());
  EXPECT_EQ(rows("care_team"), 1);
}

}  // namespace
}  // namespace alliance::identity
