// People who leave and come back, through the public API with real processes
// (redis-server, identity, scheduling, gateway) and real WebSockets.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "system.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class People : public ::testing::Test {
 protected:
  void SetUp() override {
    sys_ = std::make_unique<System>();
    sys_->create_practice("harbor");
    admin_ = sys_->login("harbor", "admin@harbor.example");
  }

  client::HttpResponse post(client::AllianceClient& who, const std::string& target, const json::value& body,
                            bool with_token = true) {
    auto r = who.http().request("POST", target, json::serialize(body), with_token ? who.tokens().access_token : "");
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : client::HttpResponse{};
  }

  client::HttpResponse login_as(const std::string& email, const std::string& password) {
    client::AllianceClient anonymous(sys_->endpoint());
    return post(anonymous, "/v1/auth/login",
                json::value{{"practice", "harbor"}, {"email", email}, {"password", password}}, false);
  }

  std::unique_ptr<System> sys_;
  std::unique_ptr<client::AllianceClient> admin_;
};

TEST_F(People, ADeactivatedTherapistsSocketsCloseWithinASecondAndSignInIsRefusedUntilReactivated) {
  // A therapist who left is deactivated while signed in on two devices: both sockets
  // close within a second, refresh and sign-in are refused, and their appointment
  // history stays; reactivated, they sign in again.
  const auto kim_id = sys_->create_user("harbor", "kim@harbor.example", "therapist");
  auto phone = sys_->login("harbor", "kim@harbor.example");
  auto laptop = sys_->login("harbor", "kim@harbor.example");
  auto phone_socket = phone->open_push_socket();
  auto laptop_socket = laptop->open_push_socket();
  ASSERT_TRUE(phone_socket && laptop_socket);
  // Someone else's socket stays open.
  sys_->create_user("harbor", "jo@harbor.example", "client");
  auto jo = sys_->login("harbor", "jo@harbor.example");
  auto jo_socket = jo->open_push_socket();
  ASSERT_TRUE(jo_socket);

  const auto t0 = Clock::now();
  auto done = post(*admin_, "/v1/users/" + kim_id + "/deactivate", json::object{});
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(json::parse(done.body).at("sessions_ended").as_int64(), 2);
  ASSERT_TRUE((*phone_socket)->wait_closed(1s));
  ASSERT_TRUE((*laptop_socket)->wait_closed(1s));
  EXPECT_LT(Clock::now() - t0, 1500ms);
  EXPECT_EQ((*phone_socket)->close_code(), 4401);
  EXPECT_FALSE((*jo_socket)->read_text(200ms));
  EXPECT_FALSE((*jo_socket)->closed());

  auto me = phone->me();
  ASSERT_FALSE(me);
  EXPECT_EQ(me.error().code, Code::kUnauthenticated);
  EXPECT_FALSE(laptop->refresh());
  auto refused = login_as("kim@harbor.example", System::kPassword);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(refused.body.find("deactivated"), std::string::npos) << refused.body;
  auto wrong = login_as("kim@harbor.example", "a wrong password entirely");
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  EXPECT_EQ(wrong.body.find("deactivated"), std::string::npos) << wrong.body;

  auto listed = admin_->get_json("/v1/users?role=therapist");
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->at("users").as_array().size(), 1u);
  EXPECT_NE(listed->at("users").at(0).at("deactivated_unix_ms").as_string(), "0");

  auto back = post(*admin_, "/v1/users/" + kim_id + "/reactivate", json::object{});
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(login_as("kim@harbor.example", System::kPassword).status, 200);
}

TEST_F(People, AnAdminWhoRetriesAnAddWithItsKeyGetsTheSameUserAndNoConflict) {
  // The answer to an add was lost (a 503 or a dropped connection): the admin's app
  // sends the same request with the same key and gets the user the first one made.
  const json::value body{{"email", "lee@harbor.example"}, {"password", "a long and unusual passphrase 7"},
                         {"display_name", "Lee"}, {"role", "therapist"}, {"idempotency_key", "add-lee-20261203"}};
  auto first = post(*admin_, "/v1/users", body);
  ASSERT_EQ(first.status, 201) << first.body;
  auto again = post(*admin_, "/v1/users", body);
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(json::parse(again.body).at("user").at("id"), json::parse(first.body).at("user").at("id"));
  EXPECT_EQ(json::parse(again.body).at("replayed"), json::value(true));

  auto listed = admin_->http().request("GET", "/v1/users?role=therapist", "", admin_->tokens().access_token);
  ASSERT_TRUE(listed);
  EXPECT_EQ(json::parse(listed->body).at("users").as_array().size(), 1u) << listed->body;

  // The same key for another person is refused, naming the key.
  auto other = body.as_object();
  other["email"] = "max@harbor.example";
  auto refused = post(*admin_, "/v1/users", other);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(json::parse(refused.body).at("error").at("field"), "idempotency_key");
}

TEST_F(People, AnAdminResetsAPasswordWithAOneTimeTokenTheUserRedeems) {
  // An admin starts a reset for a client who forgot their password: the client's
  // socket closes, the old password stops working, the token sets a new password
  // once, and a weak new password is refused naming the field.
  const auto ana_id = sys_->create_user("harbor", "ana@harbor.example", "client");
  auto ana = sys_->login("harbor", "ana@harbor.example");
  auto socket = ana->open_push_socket();
  ASSERT_TRUE(socket);
  auto started = post(*admin_, "/v1/users/" + ana_id + "/password-reset", json::object{});
  ASSERT_EQ(started.status, 200) << started.body;
  const std::string token(json::parse(started.body).at("reset_token").as_string());
  ASSERT_TRUE((*socket)->wait_closed(1s));
  EXPECT_EQ(login_as("ana@harbor.example", System::kPassword).status, 401);

  client::AllianceClient anonymous(sys_->endpoint());
  auto weak = post(anonymous, "/v1/auth/password-reset",
                   json::value{{"reset_token", token}, {"new_password", "password1234"}}, false);
  EXPECT_EQ(weak.status, 400) << weak.body;
  EXPECT_NE(weak.body.find("new_password"), std::string::npos) << weak.body;
  auto redeemed = post(anonymous, "/v1/auth/password-reset",
                       json::value{{"reset_token", token}, {"new_password", "lanterns over the quiet bay"}}, false);
  ASSERT_EQ(redeemed.status, 200) << redeemed.body;
  EXPECT_EQ(json::parse(redeemed.body).at("practice_slug").as_string(), "harbor");
  EXPECT_EQ(login_as("ana@harbor.example", "lanterns over the quiet bay").status, 200);
  auto replay = post(anonymous, "/v1/auth/password-reset",
                     json::value{{"reset_token", token}, {"new_password", "another lantern by the bay"}}, false);
  EXPECT_EQ(replay.status, 401) << replay.body;

  // A non-admin cannot start one.
  sys_->create_user("harbor", "kim@harbor.example", "therapist");
  auto kim = sys_->login("harbor", "kim@harbor.example");
  EXPECT_EQ(post(*kim, "/v1/users/" + ana_id + "/password-reset", json::object{}).status, 403);
}

}  // namespace
}  // namespace alliance::testing
