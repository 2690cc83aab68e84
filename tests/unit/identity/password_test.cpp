// Passwords at the service edge: a NUL byte is refused wherever a password comes in,
// and a hash stored at another scrypt cost is replaced on the next good login.
#include "identity_service_fixture.hpp"

namespace alliance::identity {
namespace {

using namespace std::string_literals;

const std::string kWithNul = "abc\0def"s;

void expect_nul_refused(const Error& e, const std::string& field) {
  EXPECT_EQ(e.code, Code::kInvalidArgument) << e.message;
  EXPECT_EQ(e.field, field);
  EXPECT_EQ(e.message, field + ": must not contain NUL characters");
}

TEST_F(IdentityServiceTest, NulInAPasswordIsRefusedNamingTheField) {
  auto practice = practice_request("northside");
  practice.set_admin_password(kWithNul);
  auto created = run(service_->create_practice(practice, {}));
  ASSERT_FALSE(created.ok());
  expect_nul_refused(created.error(), "admin_password");

  auto p = make_practice("acme");
  pb::CreateUserRequest user;
  user.set_email("new@acme.example");
  user.set_password(std::string(kPassword) + kWithNul);
  user.set_display_name("New");
  user.set_role("client");
  auto r = run(service_->create_user(user, as(p.admin())));
  ASSERT_FALSE(r.ok());
  expect_nul_refused(r.error(), "password");

  auto signed_in = login("acme", "admin@acme.example", kWithNul);
  ASSERT_FALSE(signed_in.ok());
  expect_nul_refused(signed_in.error(), "password");
  // scrypt pads the password with zeros, so without the check this would sign in.
  signed_in = login("acme", "admin@acme.example", kPassword + "\0"s);
  ASSERT_FALSE(signed_in.ok());
  expect_nul_refused(signed_in.error(), "password");
  EXPECT_TRUE(login("acme", "admin@acme.example", kPassword).ok());
}

class PasswordRehashTest : public IdentityServiceTest {
 protected:
  std::string stored_hash(const std::string& slug, const std::string& email) {
    auto record = run(store_->find_login(slug, email));
    EXPECT_TRUE(record.ok() && *record);
    return record.ok() && *record ? (*record)->password_hash : std::string();
  }
};

TEST_F(PasswordRehashTest, LoginReplacesAHashStoredAtALowerCost) {
  make_practice("acme");
  const std::string email = "admin@acme.example";
  const std::string old_hash = stored_hash("acme", email);
  ASSERT_EQ(old_hash.rfind("$scrypt$ln=10,", 0), 0u) << old_hash;

  scrypt_log2_n_ = kMinTestScryptLog2N + 1;
  rebuild();
  // A wrong password proves nothing: the hash stays as it was.
  EXPECT_FALSE(login("acme", email, "not the password at all").ok());
  EXPECT_EQ(stored_hash("acme", email), old_hash);

  ASSERT_TRUE(login("acme", email, kPassword).ok());
  const std::string new_hash = stored_hash("acme", email);
  EXPECT_EQ(new_hash.rfind("$scrypt$ln=11,", 0), 0u) << new_hash;
  EXPECT_TRUE(login("acme", email, kPassword).ok());
  EXPECT_EQ(stored_hash("acme", email), new_hash);  // at the configured cost: left alone
}

TEST_F(IdentityServiceTest, ScryptCostBelowTheFloorNeedsTheTestOnlySwitch) {
  IdentityOptions o;
  o.scrypt_log2_n = kMinScryptLog2N - 1;
  EXPECT_THROW(IdentityService(*store_, nullptr, pool_.get_executor(), crypto::Ed25519PrivateKey::generate(), o),
               std::invalid_argument);
  o.scrypt_log2_n = kMaxScryptLog2N + 1;
  o.insecure_scrypt_for_tests = true;
  EXPECT_THROW(IdentityService(*store_, nullptr, pool_.get_executor(), crypto::Ed25519PrivateKey::generate(), o),
               std::invalid_argument);
  o.scrypt_log2_n = kMinTestScryptLog2N;
  EXPECT_NO_THROW(IdentityService(*store_, nullptr, pool_.get_executor(), crypto::Ed25519PrivateKey::generate(), o));
}

}  // namespace
}  // namespace alliance::identity
