#include <gtest/gtest.h>

#include "alliance/core/ids.hpp"
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

TEST(Routes, OnlyLoginRefreshPracticeCreationAndCalendarFeedSkipTokens) {
  for (const auto& r : public_routes()) {
    // The calendar feed is public: its unguessable token is the credential.
    // A password reset is redeemed by someone with no session: the reset token is the credential.
    // A sign-in's second step comes before any token: its challenge is the credential.
    // Practice creation and the audit log's retention run are the operator's: the operator token is.
    bool open = r.path == "/v1/auth/login" || r.path == "/v1/auth/refresh" || r.path == "/v1/practices" ||
                r.path == "/v1/calendars/{feed_token}.ics" || r.path == "/v1/auth/password-reset" ||
                r.path == "/v1/auth/two-factor" || r.path == "/v1/auth/two-factor/enroll" ||
                r.path == "/v1/audit/prune";
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

TEST(Routes, IdentityKeyAndDeviceApprovalRoutesReachIdentity) {
  struct Expected {
    std::string_view method, path, rpc, request;
    std::pair<std::string, std::string> param;
  };
  const Expected expected[] = {
      {"PUT", "/v1/me/identity-key", "alliance.identity.v1.Identity/SetIdentityKey",
       "alliance.identity.v1.SetIdentityKeyRequest", {}},
      {"POST", "/v1/devices/d1/approve", "alliance.identity.v1.Identity/ApproveDevice",
       "alliance.identity.v1.ApproveDeviceRequest", {"device_id", "d1"}},
      {"GET", "/v1/users/me/identity-key", "alliance.identity.v1.Identity/GetIdentityKey",
       "alliance.identity.v1.GetIdentityKeyRequest", {"user_id", "me"}},
  };
  for (const auto& e : expected) {
    auto found = find_route(e.method, e.path);
    ASSERT_EQ(found.match, RouteMatch::kFound) << e.path;
    EXPECT_EQ(found.route->service, "identity") << e.path;
    EXPECT_EQ(found.route->rpc_method, e.rpc) << e.path;
    EXPECT_EQ(found.route->request_type, e.request) << e.path;
    EXPECT_TRUE(found.route->requires_token) << e.path;
    if (e.param.first.empty()) {
      EXPECT_TRUE(found.path_params.empty()) << e.path;
    } else {
      ASSERT_EQ(found.path_params.size(), 1u) << e.path;
      EXPECT_EQ(found.path_params[0], e.param) << e.path;
    }
  }
  EXPECT_EQ(find_route("GET", "/v1/me/identity-key").allowed_methods, "PUT");
  EXPECT_EQ(find_route("GET", "/v1/devices/d1/approve").allowed_methods, "POST");
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
  auto stale = error_reply(Error{Code::kFailedPrecondition, "keys: the device list changed", "keys"},
                           R"({"recipients":{"devices":[]}})");
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.body,
            R"({"error":{"code":"failed_precondition","message":"keys: the device list changed","field":"keys",)"
            R"("detail":{"recipients":{"devices":[]}}}})");
  auto internal = error_reply(Error{Code::kInternal, "sqlite said: no such table users", {}}, R"({"x":1})");
  EXPECT_EQ(internal.body.find("detail"), std::string::npos);
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body.find("sqlite"), std::string::npos);
  EXPECT_EQ(http_status(Code::kNotFound), 404);
  EXPECT_EQ(http_status(Code::kUnauthenticated), 401);
  EXPECT_EQ(http_status(Code::kUnavailable), 503);
}

TEST(HttpTypes, UnavailableAndTimeoutsSayOnlyTemporarilyUnavailableWithRetryAfter) {
  Error down{Code::kUnavailable,
             "messaging (127.0.0.1:12102) unavailable: connect: Connection refused", "conversation_id",
             std::chrono::milliseconds(2300), "detail bytes"};
  auto r = error_reply(down, R"({"x":1})");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, R"({"error":{"code":"unavailable","message":"temporarily unavailable"}})");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Retry-After", "3"}));
  auto tls = error_reply(make_error(Code::kUnavailable, "tls handshake: sslv3 alert handshake failure"));
  EXPECT_EQ(tls.body.find("alert"), std::string::npos) << tls.body;
  ASSERT_EQ(tls.headers.size(), 1u);
  EXPECT_EQ(tls.headers[0].second, "1") << "a 503 always says when to retry";
  auto late = error_reply(make_error(Code::kDeadlineExceeded, "deadline exceeded: no answer from scheduling within 5000 ms"));
  EXPECT_EQ(late.status, 504);
  EXPECT_EQ(late.body, R"({"error":{"code":"deadline_exceeded","message":"temporarily unavailable"}})");
  EXPECT_EQ(public_message(make_error(Code::kNotFound, "appointment not found")), "appointment not found");
}

TEST(HttpTypes, RequestIdGoesInTheHeaderAndInsideAnErrorBody) {
  auto id = new_unique_id();
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  EXPECT_NE(id, new_unique_id());

  auto err = error_reply(make_error(Code::kUnavailable, "redis: not connected"));
  stamp_request_id(err, id);
  EXPECT_EQ(err.body, R"({"error":{"code":"unavailable","message":"temporarily unavailable","request_id":")" + id +
                          R"("}})");
  stamp_request_id(err, "another");  // already stamped: unchanged
  EXPECT_EQ(err.body.find("another"), std::string::npos);
  int headers = 0;
  for (const auto& [k, v] : err.headers)
    if (k == "X-Request-Id") {
      ++headers;
      EXPECT_EQ(v, id);
    }
  EXPECT_EQ(headers, 1);

  HttpReply ok{200, "application/json", R"({"error":{"a":1}})", {}};  // a success body is never touched
  stamp_request_id(ok, id);
  EXPECT_EQ(ok.body, R"({"error":{"a":1}})");
  ASSERT_EQ(ok.headers.size(), 1u);
  EXPECT_EQ(ok.headers[0], (std::pair<std::string, std::string>{"X-Request-Id", id}));
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

namespace alliance::gateway {
namespace {

TEST(Routes, PathTemplatesCaptureSegmentsAndSuffixes) {
  std::vector<std::pair<std::string, std::string>> p;
  ASSERT_TRUE(match_path("/v1/appointments/{appointment_id}/cancel", "/v1/appointments/a1/cancel", p));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], (std::pair<std::string, std::string>{"appointment_id", "a1"}));
  EXPECT_FALSE(match_path("/v1/appointments/{appointment_id}/cancel", "/v1/appointments//cancel", p));
  EXPECT_FALSE(match_path("/v1/appointments/{appointment_id}/cancel", "/v1/appointments/a1", p));
  EXPECT_FALSE(match_path("/v1/appointments/{appointment_id}", "/v1/appointments/a1/cancel", p));
  ASSERT_TRUE(match_path("/v1/calendars/{feed_token}.ics", "/v1/calendars/tok123.ics", p));
  EXPECT_EQ(p[0].second, "tok123");
  EXPECT_FALSE(match_path("/v1/calendars/{feed_token}.ics", "/v1/calendars/.ics", p));
  EXPECT_FALSE(match_path("/v1/calendars/{feed_token}.ics", "/v1/calendars/tok123", p));
  EXPECT_TRUE(match_path("/v1/me", "/v1/me", p));
  EXPECT_TRUE(p.empty());
  EXPECT_FALSE(match_path("/v1/me", "/v1/me/", p));
}

// find_route looks a path up by its leading segments; the answer must be the one that
// trying every route in declaration order gives: the route, the 405's methods, the fields.
TEST(Routes, IndexedLookupAgreesWithTryingEveryRouteInOrder) {
  auto by_trying_every_route = [](std::string_view method, std::string_view path) {
    RouteLookup out;
    std::vector<std::pair<std::string, std::string>> params;
    for (const auto& r : public_routes()) {
      if (!match_path(r.path, path, params)) continue;
      if (r.http_method == method) {
        out.match = RouteMatch::kFound;
        out.route = &r;
        out.path_params = params;
        return out;
      }
      out.match = RouteMatch::kWrongMethod;
      if (!out.allowed_methods.empty()) out.allowed_methods += ", ";
      out.allowed_methods += r.http_method;
    }
    return out;
  };
  std::vector<std::string> paths = {"", "/", "//", "/v1", "/v1/", "/v1/me/", "/v1//", "/v2/me", "/v1/nothing/x",
                                    "/v1/conversations//messages", "/v1/calendars/.ics"};
  for (const auto& r : public_routes()) {
    std::string concrete;  // each "{field}" replaced by a value
    for (std::size_t i = 0; i < r.path.size(); ++i) {
      if (r.path[i] != '{') {
        concrete += r.path[i];
        continue;
      }
      concrete += "v" + std::to_string(i);
      i = r.path.find('}', i);
    }
    paths.push_back(concrete);
    paths.push_back(concrete + "/");
    paths.push_back(concrete + "/x");
  }
  ASSERT_GT(paths.size(), 50u);
  for (const auto& path : paths) {
    for (std::string_view method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
      auto want = by_trying_every_route(method, path);
      auto got = find_route(method, path);
      EXPECT_EQ(got.match, want.match) << method << " " << path;
      EXPECT_EQ(got.route, want.route) << method << " " << path;
      EXPECT_EQ(got.allowed_methods, want.allowed_methods) << method << " " << path;
      EXPECT_EQ(got.path_params, want.path_params) << method << " " << path;
    }
  }
}

TEST(JsonMappingPath, PathParametersFillFieldsAndMustAgreeWithTheBody) {
  auto msg = new_message("alliance.identity.v1.ListCareTeamRequest");
  ASSERT_TRUE(path_params_to_message({{"client_id", "abc%2Fd"}}, *msg));
  EXPECT_NE(msg->ShortDebugString().find("abc/d"), std::string::npos);
  auto other = new_message("alliance.identity.v1.ListCareTeamRequest");
  ASSERT_TRUE(json_to_message(R"({"client_id":"x"})", *other));
  auto clash = path_params_to_message({{"client_id", "y"}}, *other);
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().field, "client_id");
}

}  // namespace
}  // namespace alliance::gateway
