#include <gtest/gtest.h>

#include "src/http_types.hpp"
#include "src/json_mapping.hpp"
#include "src/routes.hpp"

namespace alliance::gateway {
namespace {

TEST(Routes, EveryRouteNamesRealMessageTypes) {
  for (const auto& r : public_routes()) {
    EXPECT_NE(new_message(r.request_type), nullptr) << r.path;
    EXPECT_NE(new_message(r.response_type), nullptr) << r.path;
  }
}

TEST(Routes, OnlyLoginRefreshAndPracticeCreationSkipTokens) {
  for (const auto& r : public_routes()) {
    bool open = r.path == "/v1/auth/login" || r.path == "/v1/auth/refresh" || r.path == "/v1/practices";
    EXPECT_EQ(r.requires_token, !open) << r.path;
  }
}

TEST(Routes, LookupDistinguishesMissingPathFromWrongMethod) {
  EXPECT_EQ(find_route("POST", "/v1/auth/login").match, RouteMatch::kFound);
  auto wrong = find_route("GET", "/v1/auth/login");
  EXPECT_EQ(wrong.match, RouteMatch::kWrongMethod);
  EXPECT_EQ(wrong.allowed_methods, "POST");
  EXPECT_EQ(find_route("GET", "/v1/users").match, RouteMatch::kFound);
  EXPECT_EQ(find_route("DELETE", "/v1/users").allowed_methods, "POST, GET");
  EXPECT_EQ(find_route("GET", "/v1/nothing").match, RouteMatch::kNoSuchPath);
}

TEST(HttpTypes, ErrorsMapToStatusAndJsonBody) {
  auto r = error_reply(invalid_argument("email", "email: must be an email address"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"error":{"code":"invalid_argument","message":"email: must be an email address","field":"email"}})");
  Error limited{Code::kResourceExhausted, "slow down", {}, std::chrono::milliseconds(1500)};
  auto l = error_reply(limited);
  EXPECT_EQ(l.status, 429);
  ASSERT_EQ(l.headers.size(), 1u);
  EXPECT_EQ(l.headers[0], (std::pair<std::string, std::string>{"Retry-After", "2"}));
  auto internal = error_reply(Error{Code::kInternal, "sqlite said: no such table users", {}});
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body.find("sqlite"), std::string::npos);
  EXPECT_EQ(http_status(Code::kNotFound), 404);
  EXPECT_EQ(http_status(Code::kUnauthenticated), 401);
  EXPECT_EQ(http_status(Code::kUnavailable), 503);
}

TEST(HttpTypes, BearerTokenAndTargetSplitting) {
  EXPECT_EQ(bearer_token("Bearer abc.def"), "abc.def");
  EXPECT_EQ(bearer_token("bearer  abc "), "abc");
  EXPECT_EQ(bearer_token("Basic abc"), "");
  EXPECT_EQ(bearer_token("Bearer"), "");
  auto [path, query] = split_target("/v1/users?role=client");
  EXPECT_EQ(path, "/v1/users");
  EXPECT_EQ(query, "role=client");
}

}  // namespace
}  // namespace alliance::gateway
