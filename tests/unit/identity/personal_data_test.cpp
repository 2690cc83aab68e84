// Names and emails at rest: identity.db and its -wal hold them only sealed; login by
// email (in any case) still works through the lookup hash; a sealed value moved to
// another row does not open; the wrong KEK is refused at open; a rotation re-wraps the
// data keys and everything stays readable; a database from before sealing is sealed
// in place when it is opened.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "alliance/store/query.hpp"
#include "identity_service_fixture.hpp"
#include "older_database.hpp"

namespace alliance::identity {
namespace {

const std::string kOtherKek(32, 'o');

class PersonalDataTest : public IdentityServiceTest {
 protected:
  std::string db_bytes() const {
    std::string all;
    for (const char* suffix : {"", "-wal"}) {
      std::ifstream in((dir_.path() / "identity.db").string() + suffix, std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), {});
    }
    return all;
  }

  // A client with a name and email nobody else has.
  pb::User make_client(const pb::User& admin, const std::string& email, const std::string& name) {
    pb::CreateUserRequest req;
    req.set_email(email);
    req.set_password(kPassword);
    req.set_display_name(name);
    req.set_role("client");
    auto r = run(service_->create_user(req, as(admin)));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r->user() : pb::User{};
  }

  Result<std::optional<User>> find(const std::string& id) { return run(store_->find_user(id)); }
};

TEST_F(PersonalDataTest, NamesAndEmailsAreNotInTheFileOrWalAndLoginStillWorks) {
  auto practice = make_practice("sealed");
  auto client = make_client(practice.admin(), "marguerite.oyelaran@sealed.example", "Marguerite Oyelaran");
  EXPECT_EQ(client.display_name(), "Marguerite Oyelaran");
  const std::string bytes = db_bytes();
  ASSERT_FALSE(bytes.empty());
  for (const char* secret : {"marguerite", "Marguerite", "Oyelaran", "oyelaran@", "admin@sealed.example"})
    EXPECT_EQ(bytes.find(secret), std::string::npos) << secret << " is in identity.db in clear";
  // Login finds the user by the email's lookup hash, in any case as before.
  EXPECT_TRUE(login("sealed", "Marguerite.Oyelaran@SEALED.example", kPassword).ok());
  EXPECT_FALSE(login("sealed", "marguerite@sealed.example", kPassword).ok());
  // The email stays unique in the practice.
  pb::CreateUserRequest again;
  again.set_email("MARGUERITE.oyelaran@sealed.example");
  again.set_password(kPassword);
  again.set_display_name("Someone Else");
  again.set_role("client");
  auto dup = run(service_->create_user(again, as(practice.admin())));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, Code::kAlreadyExists);
  auto found = find(client.id());
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ((*found)->email, "marguerite.oyelaran@sealed.example");
}

TEST_F(PersonalDataTest, ASealedValueMovedToAnotherRowDoesNotOpen) {
  auto practice = make_practice("moved");
  auto ana = make_client(practice.admin(), "ana@moved.example", "Ana Lima");
  auto ben = make_client(practice.admin(), "ben@moved.example", "Ben Ode");
  {
    auto c = store::Connection::open(dir_.path() / "identity.db", {});
    // An attacker with the file swaps Ana's sealed name into Ben's row.
    store::execute(*c, "UPDATE users SET display_name = (SELECT display_name FROM users WHERE id = ?1) WHERE id = ?2",
                   ana.id(), ben.id());
  }
  auto moved = find(ben.id());
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().code, Code::kInternal);
  EXPECT_EQ(moved.error().message.find("Ana"), std::string::npos);
  auto intact = find(ana.id());
  ASSERT_TRUE(intact.ok() && *intact);
  EXPECT_EQ((*intact)->display_name, "Ana Lima");
}

TEST_F(PersonalDataTest, TheWrongKekIsRefusedAtOpenNamingTheKey) {
  make_practice("wrongkek");
  store_.reset();
  auto refused = IdentityStore::open(dir_.path() / "identity.db", store::KekPair{kOtherKek});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kFailedPrecondition);
  EXPECT_NE(refused.error().message.find("kek_file"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("does not open"), std::string::npos) << refused.error().message;
  rebuild();  // the right key still opens it
  EXPECT_TRUE(login("wrongkek", "admin@wrongkek.example", kPassword).ok());
}

TEST_F(PersonalDataTest, RotationRewrapsTheDataKeysAndEverythingStaysReadable) {
  auto practice = make_practice("rotate");
  auto client = make_client(practice.admin(), "zoe@rotate.example", "Zo\xc3\xab Brandt");
  keys_ = store::KekPair{kOtherKek, kTestKek};
  rebuild();
  EXPECT_EQ(store_->rewrapped_data_keys(), 1);
  keys_ = store::KekPair{kOtherKek};
  rebuild();
  EXPECT_EQ(store_->rewrapped_data_keys(), 0);
  auto found = find(client.id());
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ((*found)->display_name, "Zo\xc3\xab Brandt");
  EXPECT_TRUE(login("rotate", "zoe@rotate.example", kPassword).ok());
  // The old key no longer opens anything.
  store_.reset();
  auto old = IdentityStore::open(dir_.path() / "identity.db", store::KekPair{kTestKek});
  EXPECT_FALSE(old.ok());
  rebuild();
}

TEST_F(PersonalDataTest, ADatabaseFromBeforeSealingIsSealedInPlaceAtOpen) {
  service_.reset();
  store_.reset();
  const auto path = dir_.path() / "old.db";
  {
    auto db = testing::open_database_before(path, identity_migrations(), kSealedUsersVersion);
    ASSERT_TRUE(db.ok()) << db.error().message;
  }
  {
    auto c = store::Connection::open(path, {});
    store::execute(*c, "INSERT INTO practices (id, name, slug, created_unix_ms) VALUES ('p1', 'Old Practice', 'old', 1)");
    store::execute(*c,
                   "INSERT INTO users (id, practice_id, email, display_name, role, password_hash, created_unix_ms) "
                   "VALUES ('u1', 'p1', 'octavia.old@old.example', 'Octavia Oldfield', 'client', 'x', 1)");
    store::execute(*c,
                   "INSERT INTO sessions (id, user_id, practice_id, created_unix_ms, expires_unix_ms) "
                   "VALUES ('s1', 'u1', 'p1', 1, 9000000000000)");
    store::execute(*c,
                   "INSERT INTO devices (id, user_id, practice_id, session_id, name, signing_public_key, "
                   "agreement_public_key, agreement_key_signature, created_unix_ms) "
                   "VALUES ('d1', 'u1', 'p1', 's1', 'Octavia''s Zephyrbook', x'01', x'02', x'03', 1)");
  }
  auto opened = IdentityStore::open(path, store::KekPair{kTestKek});
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto user = run((*opened)->find_user("u1"));
  ASSERT_TRUE(user.ok() && *user) << (user.ok() ? "" : user.error().message);
  EXPECT_EQ((*user)->email, "octavia.old@old.example");
  EXPECT_EQ((*user)->display_name, "Octavia Oldfield");
  auto practice = run((*opened)->find_practice("p1"));
  ASSERT_TRUE(practice.ok() && *practice) << (practice.ok() ? "" : practice.error().message);
  EXPECT_EQ((*practice)->name, "Old Practice");
  auto devices = run((*opened)->list_devices("u1", 2));
  ASSERT_TRUE(devices.ok() && devices->size() == 1u) << (devices.ok() ? "" : devices.error().message);
  EXPECT_EQ(devices->front().name, "Octavia's Zephyrbook");
  auto c = store::Connection::open(path, {.read_only = true});
  auto kind = store::query_one(*c,
                               "SELECT typeof(u.email) || typeof(u.display_name) || typeof(d.name) || typeof(p.name) "
                               "FROM users u JOIN devices d ON d.user_id = u.id JOIN practices p ON p.id = u.practice_id "
                               "WHERE u.id = 'u1'",
                               [](const store::Statement& s) { return s.column_text(0); });
  EXPECT_EQ(kind.value_or(""), "blobblobblobblob");
  c.reset();
  opened->reset();
  // Once the WAL is checkpointed by the close, the file holds no old page in clear
  // (secure_delete zeroes freed content).
  std::ifstream in(path, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), {}};
  EXPECT_EQ(bytes.find("Octavia"), std::string::npos);
  EXPECT_EQ(bytes.find("octavia.old"), std::string::npos);
  EXPECT_EQ(bytes.find("Old Practice"), std::string::npos);
  EXPECT_EQ(bytes.find("Zephyrbook"), std::string::npos);
  build(testing::redis_login(*redis_server_, "admin"));
}

}  // namespace
}  // namespace alliance::identity
