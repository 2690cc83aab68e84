#include <gtest/gtest.h>

#include "alliance/identity/v1/identity.pb.h"
#include "alliance/messaging/v1/messaging.pb.h"
#include "src/json_mapping.hpp"

namespace alliance::gateway {
namespace {

namespace idv1 = alliance::identity::v1;

TEST(JsonMapping, ParsesSnakeCaseAndCamelCaseNames) {
  idv1::CreateUserRequest req;
  ASSERT_TRUE(json_to_message(R"({"email":"a@b.org","display_name":"Ann","role":"client"})", req));
  EXPECT_EQ(req.email(), "a@b.org");
  EXPECT_EQ(req.display_name(), "Ann");
  idv1::CreateUserRequest camel;
  ASSERT_TRUE(json_to_message(R"({"displayName":"Bo"})", camel));
  EXPECT_EQ(camel.display_name(), "Bo");
}

// The parsed tree comes from a per-thread buffer: a body larger than it, and the bodies
// read after it, are read whole and alike (a message with a large ciphertext and many keys).
TEST(JsonMapping, BodiesLargerThanTheTreeBufferReadWholeAndAlike) {
  auto body = [](std::size_t keys, std::size_t ciphertext_chars) {
    std::string b = R"({"conversation_id":"c1","message_id":"m1","format":2,"ciphertext":")" +
                    std::string(ciphertext_chars, 'A') + R"(","keys":[)";
    for (std::size_t i = 0; i < keys; ++i)
      b += (i ? "," : "") + std::string(R"({"device_id":"d)") + std::to_string(i) + R"(","wrapped_key":"AAAA"})";
    return b + "]}";
  };
  for (auto [keys, chars] : {std::pair<std::size_t, std::size_t>{2, 8}, {600, 40000}, {3, 12}, {600, 40000}}) {
    alliance::messaging::v1::SendMessageRequest req;
    ASSERT_TRUE(json_to_message(body(keys, chars), req)) << keys << " keys";
    EXPECT_EQ(req.conversation_id(), "c1");
    EXPECT_EQ(req.format(), 2);
    EXPECT_EQ(req.ciphertext().size(), chars / 4 * 3);
    ASSERT_EQ(static_cast<std::size_t>(req.keys_size()), keys);
    EXPECT_EQ(req.keys(static_cast<int>(keys) - 1).device_id(), "d" + std::to_string(keys - 1));
    EXPECT_EQ(req.keys(0).wrapped_key(), std::string(3, '\0'));
  }
}

TEST(JsonMapping, EmptyBodyIsTheEmptyMessage) {
  idv1::LogoutRequest req;
  EXPECT_TRUE(json_to_message("", req));
  EXPECT_TRUE(json_to_message("  \n", req));
}

TEST(JsonMapping, UnknownFieldIsNamed) {
  idv1::LoginRequest req;
  auto s = json_to_message(R"({"email":"a@b.org","pasword":"x"})", req);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kInvalidArgument);
  EXPECT_EQ(s.error().field, "pasword");
  EXPECT_NE(s.error().message.find("unknown field"), std::string::npos);
}

TEST(JsonMapping, WrongTypesAreNamed) {
  idv1::LoginRequest req;
  auto s = json_to_message(R"({"email":42})", req);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().field, "email");
  EXPECT_EQ(s.error().message, "email: expected a string");

  idv1::ListUsersResponse list;
  auto nested = json_to_message(R"({"users":[{"email":"a@b.org"},{"email":["x"]}]})", list);
  ASSERT_FALSE(nested);
  EXPECT_EQ(nested.error().field, "users[1].email");

  auto not_array = json_to_message(R"({"users":{"email":"x"}})", list);
  ASSERT_FALSE(not_array);
  EXPECT_EQ(not_array.error().field, "users");

  idv1::Practice practice;
  auto bad_int = json_to_message(R"({"created_unix_ms":"soon"})", practice);
  ASSERT_FALSE(bad_int);
  EXPECT_EQ(bad_int.error().field, "created_unix_ms");
  EXPECT_TRUE(json_to_message(R"({"created_unix_ms":"1700000000000"})", practice));
  EXPECT_EQ(practice.created_unix_ms(), 1700000000000);
}

TEST(JsonMapping, MalformedJsonAndNonObjectsAreRejected) {
  idv1::LoginRequest req;
  for (std::string_view body : {"{", "{\"email\":}", "[1,2]", "\"text\"", "null", "{\"email\":\"a\"} trailing"}) {
    auto s = json_to_message(body, req);
    ASSERT_FALSE(s) << body;
    EXPECT_EQ(s.error().field, "body") << body;
  }
}

TEST(JsonMapping, QueryParametersFillScalarFields) {
  idv1::ListCareTeamRequest req;
  ASSERT_TRUE(query_to_message("client_id=abc%20d", req));
  EXPECT_EQ(req.client_id(), "abc d");
  auto unknown = query_to_message("clientid=x", req);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().field, "clientid");
}

TEST(JsonMapping, PercentDecodedBytesThatAreNotUtf8AreRefusedNamingTheField) {
  // A string field must hold UTF-8 (protobuf would refuse to parse the message the
  // gateway then sends on): "%cc" alone is not.
  idv1::ListCareTeamRequest req;
  auto bad = query_to_message("client_id=abc%cc", req);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field, "client_id");
  EXPECT_EQ(bad.error().message, "client_id: must be valid UTF-8");
  ASSERT_TRUE(query_to_message("client_id=%C3%A9", req));
  EXPECT_EQ(req.client_id(), "\xc3\xa9");
  auto path = path_params_to_message({{"client_id", "x%ff"}}, req);
  ASSERT_FALSE(path);
  EXPECT_EQ(path.error().field, "client_id");
}

TEST(JsonMapping, OutputUsesSnakeCaseAndPrintsDefaults) {
  idv1::TokenResponse resp;
  resp.set_access_token("t");
  auto json = message_to_json(resp);
  EXPECT_NE(json.find("\"access_token\":\"t\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"refresh_token\":\"\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"expires_in\":\"0\""), std::string::npos) << json;
}

TEST(JsonMapping, KnowsGeneratedTypesByName) {
  EXPECT_NE(new_message("alliance.identity.v1.LoginRequest"), nullptr);
  EXPECT_EQ(new_message("alliance.identity.v1.NoSuchThing"), nullptr);
}

}  // namespace
}  // namespace alliance::gateway
