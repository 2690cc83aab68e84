// How gateway answers become Errors a caller can act on, and token parsing.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "alliance/client/alliance_client.hpp"
#include "alliance/crypto/jwt.hpp"

namespace alliance::client {
namespace {

HttpResponse response(int status, std::string body, std::map<std::string, std::string> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(ErrorFromResponse, TakesCodeMessageAndFieldFromTheBody) {
  auto e = error_from_response(response(
      400, R"({"error":{"code":"invalid_argument","message":"email: must be an email address","field":"email"}})"));
  EXPECT_EQ(e.code, Code::kInvalidArgument);
  EXPECT_EQ(e.message, "email: must be an email address");
  EXPECT_EQ(e.field, "email");
  EXPECT_EQ(e.retry_after.count(), 0);
}

TEST(ErrorFromResponse, BodyCodeWinsOverStatusForAmbiguousStatuses) {
  // 409 carries both already_exists and failed_precondition: only the body tells them apart.
  auto e = error_from_response(
      response(409, R"({"error":{"code":"failed_precondition","message":"slot no longer free"}})"));
  EXPECT_EQ(e.code, Code::kFailedPrecondition);
  EXPECT_EQ(e.message, "slot no longer free");
  EXPECT_TRUE(e.field.empty());
}

TEST(ErrorFromResponse, RetryAfterSecondsBecomesRetryAfter) {
  auto e = error_from_response(response(
      429, R"({"error":{"code":"resource_exhausted","message":"too many login attempts"}})", {{"retry-after", "7"}}));
  EXPECT_EQ(e.code, Code::kResourceExhausted);
  EXPECT_EQ(e.retry_after, std::chrono::seconds(7));
  auto fractional = error_from_response(response(429, "", {{"retry-after", " 1.5 "}}));
  EXPECT_EQ(fractional.retry_after, std::chrono::milliseconds(1500));
  auto junk = error_from_response(response(429, "", {{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}));
  EXPECT_EQ(junk.retry_after.count(), 0);
  EXPECT_EQ(junk.code, Code::kResourceExhausted);
}

TEST(ErrorFromResponse, FallsBackToTheStatusWithoutAJsonErrorBody) {
  struct Case {
    int status;
    Code code;
  };
  for (auto c : {Case{400, Code::kInvalidArgument}, Case{401, Code::kUnauthenticated},
                 Case{403, Code::kPermissionDenied}, Case{404, Code::kNotFound}, Case{409, Code::kAlreadyExists},
                 Case{413, Code::kInvalidArgument}, Case{429, Code::kResourceExhausted},
                 Case{431, Code::kInvalidArgument}, Case{500, Code::kInternal}, Case{502, Code::kInternal},
                 Case{503, Code::kUnavailable}, Case{504, Code::kDeadlineExceeded}}) {
    auto e = error_from_response(response(c.status, ""));
    EXPECT_EQ(e.code, c.code) << c.status;
    EXPECT_NE(e.message.find(std::to_string(c.status)), std::string::npos) << e.message;
  }
}

TEST(ErrorFromResponse, UnknownCodeStringFallsBackToTheStatus) {
  auto e = error_from_response(response(404, R"({"error":{"code":"gone_fishing","message":"no such user"}})"));
  EXPECT_EQ(e.code, Code::kNotFound);
  EXPECT_EQ(e.message, "no such user");
}

TEST(ErrorFromResponse, ShortPlainTextBodyIsKeptInTheMessage) {
  auto e = error_from_response(response(431, "header fields too large\n"));
  EXPECT_EQ(e.code, Code::kInvalidArgument);
  EXPECT_EQ(e.message, "HTTP 431 Request Header Fields Too Large: header fields too large");
  // An HTML page or binary junk is not echoed.
  auto html = error_from_response(response(502, "<html>\n<body>bad gateway</body>\n</html>"));
  EXPECT_EQ(html.message, "HTTP 502 Bad Gateway");
}

TEST(ErrorFromResponse, WrongShapedJsonIsTreatedAsNoBody) {
  auto e = error_from_response(response(403, R"({"error":"nope"})"));
  EXPECT_EQ(e.code, Code::kPermissionDenied);
  EXPECT_EQ(e.message, "HTTP 403 Forbidden");
  auto typed = error_from_response(response(400, R"({"error":{"code":7,"message":["x"],"field":{}}})"));
  EXPECT_EQ(typed.code, Code::kInvalidArgument);
  EXPECT_EQ(typed.message, "HTTP 400 Bad Request");
  EXPECT_TRUE(typed.field.empty());
}

TEST(CodeFromName, KnowsEveryCodeTheGatewaySends) {
  for (Code c : {Code::kInvalidArgument, Code::kNotFound, Code::kAlreadyExists, Code::kFailedPrecondition,
                 Code::kPermissionDenied, Code::kUnauthenticated, Code::kResourceExhausted, Code::kUnavailable,
                 Code::kInternal, Code::kDeadlineExceeded}) {
    EXPECT_EQ(code_from_name(code_name(c)), c) << code_name(c);
  }
  EXPECT_FALSE(code_from_name("Not_Found"));
}

TEST(TokensFromJson, ReadsTheTokenResponseWithInt64AsStringOrNumber) {
  auto v = boost::json::parse(R"({"access_token":"a.b.c","token_type":"Bearer","expires_in":"900",
      "refresh_token":"r1","user":{"id":"u1","practice_id":"p1","email":"x@y.z","role":"therapist"}})");
  auto t = tokens_from_json(v);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->access_token, "a.b.c");
  EXPECT_EQ(t->refresh_token, "r1");
  EXPECT_EQ(t->expires_in, 900);
  EXPECT_EQ(t->user_id, "u1");
  EXPECT_EQ(t->practice_id, "p1");
  EXPECT_EQ(t->role, "therapist");

  auto n = tokens_from_json(boost::json::parse(R"({"access_token":"a","expires_in":60})"));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->expires_in, 60);
  EXPECT_FALSE(tokens_from_json(boost::json::parse(R"({"token_type":"Bearer"})")));
  EXPECT_FALSE(tokens_from_json(boost::json::parse(R"([1,2])")));
}

TEST(UrlEncode, EscapesEverythingButUnreservedCharacters) {
  EXPECT_EQ(url_encode("front_desk"), "front_desk");
  EXPECT_EQ(url_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
}

TEST(AccessTokenExpiresAt, ReadsExpOfAnIssuedTokenAndZeroForAnythingElse) {
  crypto::AccessClaims claims;
  claims.issuer = "alliance";
  claims.audience = "alliance-api";
  claims.subject = "u1";
  claims.session_id = "s1";
  claims.issued_at = 1'800'000'000;
  claims.expires_at = 1'800'000'900;
  auto token = crypto::sign_access_token(claims, crypto::Ed25519PrivateKey::generate(), "k1");
  EXPECT_EQ(access_token_expires_at(token), 1'800'000'900);
  for (std::string bad : {"", "abc", "a.b", "a.!!!.c", "a.e30.c" /* {} */, "a.WzFd.c" /* [1] */}) {
    EXPECT_EQ(access_token_expires_at(bad), 0) << bad;
  }
}

TEST(AuthFrame, CarriesTheTokenAsAJsonString) {
  auto v = boost::json::parse(auth_frame("a.b\"c"));
  EXPECT_EQ(v.at("type").as_string(), "auth");
  EXPECT_EQ(v.at("access_token").as_string(), "a.b\"c");
}

}  // namespace
}  // namespace alliance::client
