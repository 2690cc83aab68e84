#include <gtest/gtest.h>

#include "src/http_types.hpp"

namespace alliance::gateway {
namespace {

std::string response(const HttpReply& reply, unsigned version = 11, bool keep_alive = true) {
  std::string out;
  write_response(reply, version, keep_alive, out);
  return out;
}

TEST(WriteResponse, KeepAliveAnswerCarriesItsHeadersLengthAndBody) {
  HttpReply r{200, "application/json", R"({"ok":true})", {{"X-Request-Id", "abc"}, {"Allow", "GET"}}};
  EXPECT_EQ(response(r),
            "HTTP/1.1 200 OK\r\nServer: alliance\r\nContent-Type: application/json\r\n"
            "Cache-Control: no-store\r\nX-Request-Id: abc\r\nAllow: GET\r\nContent-Length: 11\r\n\r\n"
            R"({"ok":true})");
}

TEST(WriteResponse, ConnectionHeaderFollowsVersionAndKeepAlive) {
  HttpReply r{404, "application/json", "{}", {}};
  auto closing = response(r, 11, false);
  EXPECT_TRUE(closing.starts_with("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_NE(closing.find("\r\nConnection: close\r\n"), std::string::npos);
  auto old_client = response(r, 10, true);
  EXPECT_TRUE(old_client.starts_with("HTTP/1.0 404 Not Found\r\n"));
  EXPECT_NE(old_client.find("\r\nConnection: keep-alive\r\n"), std::string::npos);
  EXPECT_EQ(response(r, 11, true).find("Connection:"), std::string::npos);
  EXPECT_EQ(response(r, 10, false).find("Connection:"), std::string::npos);
}

TEST(WriteResponse, NotModifiedHasNoBodyAndNoLength) {
  HttpReply r{304, "text/html", "ignored", {{"ETag", "\"v1\""}}};
  auto out = response(r);
  EXPECT_TRUE(out.ends_with("ETag: \"v1\"\r\n\r\n")) << out;
  EXPECT_EQ(out.find("Content-Length"), std::string::npos);
  EXPECT_EQ(out.find("ignored"), std::string::npos);
}

TEST(WriteResponse, HeaderThatCouldSplitTheResponseIsDropped) {
  HttpReply r{200, "text/plain", "x", {{"X-Evil", "a\r\nSet-Cookie: s=1"}, {"X\nBad", "v"}, {"X-Fine", "ok"}}};
  auto out = response(r);
  EXPECT_EQ(out.find("Set-Cookie"), std::string::npos);
  EXPECT_EQ(out.find("Bad"), std::string::npos);
  EXPECT_NE(out.find("\r\nX-Fine: ok\r\n"), std::string::npos);
}

TEST(WriteResponse, AReplysOwnCacheControlReplacesTheDefault) {
  HttpReply r{200, "text/html", "<p>", {{"Cache-Control", "no-cache"}, {"ETag", "\"v1\""}}};
  auto out = response(r);
  EXPECT_NE(out.find("\r\nCache-Control: no-cache\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("no-store"), std::string::npos) << out;
}

}  // namespace
}  // namespace alliance::gateway
