// Redis over TLS, as services reach it: someone on the network who reaches Redis's port
// without TLS, or with TLS but without a certificate from the practice's CA, gets
// nothing; and a service refuses a Redis whose certificate does not verify (a server
// in the middle) instead of sending it its password. Every other redis test runs over
// TLS too (the test server speaks nothing else).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "alliance/redis/subscriber.hpp"
#include "dev_certs.hpp"
#include "harness.hpp"

namespace alliance::redis::test {
namespace {

using alliance::testing::dev_certs;
using alliance::testing::RedisServer;

class RedisTlsTest : public ::testing::Test {
 protected:
  // True if a client with `options` connects and Redis answers its PING within
  // `timeout` (PONG, or the ACL's refusal for a user not allowed to PING).
  bool pings(const Options& options, std::chrono::milliseconds timeout = 1500ms) {
    Client client(io_.get_executor(), options);
    client.start();
    if (!run(io_, client.wait_connected(timeout))) return false;
    auto r = run(io_, client.command({"PING"}));
    return r.ok() && (r->str == "PONG" || r->str.rfind("NOPERM", 0) == 0);
  }

  asio::io_context io_;
};

TEST_F(RedisTlsTest, APlaintextClientGetsNoAnswerEvenWithTheRightPassword) {
  RedisServer server;
  ASSERT_TRUE(pings(options_for(server)));
  // RESP in the clear, with admin's password: not a single reply.
  EXPECT_FALSE(alliance::testing::redis_ping(server.port(), "admin", RedisServer::password("admin")));
  EXPECT_FALSE(alliance::testing::redis_ping(server.port()));
  // A redis::Client without TLS never gets a reply either (no password: it does not
  // even send one in the clear).
  Options plain = options_for(server);
  plain.tls.reset();
  plain.password.clear();
  EXPECT_FALSE(pings(plain));
}

TEST_F(RedisTlsTest, AClientWithoutACertificateFromThePracticeCaIsRefused) {
  RedisServer server;
  const auto& certs = dev_certs();
  Options no_cert = options_for(server);
  no_cert.tls = make_tls_context(certs.ca());
  EXPECT_FALSE(pings(no_cert));
  Options rogue = options_for(server);
  rogue.tls = make_tls_context(certs.ca(), certs.rogue_cert(), certs.rogue_key());
  EXPECT_FALSE(pings(rogue));
  // The same login with a certificate from the practice's CA works.
  EXPECT_TRUE(pings(options_for(server)));
}

TEST_F(RedisTlsTest, WithoutClientAuthenticationTheServerCertificateAndAclsStillProtect) {
  RedisServer server(RedisServer::Setup{.client_certs = false});
  Options no_cert = options_for(server, "gateway");
  no_cert.tls = make_tls_context(dev_certs().ca());
  EXPECT_TRUE(pings(no_cert));
  Options wrong = no_cert;
  wrong.password = "not-" + wrong.password;
  EXPECT_FALSE(pings(wrong));
}

TEST_F(RedisTlsTest, ARedisWhoseCertificateIsNotFromThePracticeCaIsRefusedAtOnce) {
  const auto& certs = dev_certs();
  RedisServer impostor(
      RedisServer::Setup{.cert = certs.rogue_cert(), .key = certs.rogue_key(), .cert_ca = certs.rogue_ca()});
  Client client(io_.get_executor(), options_for(impostor));
  client.start();
  auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(run(io_, client.wait_connected(1500ms)));
  auto r = run(io_, client.command({"PING"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST_F(RedisTlsTest, ACertificateFromThePracticeCaForAnotherNameIsRefused) {
  // identity's certificate chains to the CA but is not Redis's: a service expecting
  // "redis" refuses it; expecting the address it was given (127.0.0.1) accepts it.
  const auto& certs = dev_certs();
  RedisServer other(RedisServer::Setup{.cert = certs.cert("identity"), .key = certs.key("identity")});
  Options expect_redis = options_for(other);
  expect_redis.tls_server_name = "redis";
  EXPECT_FALSE(pings(expect_redis));
  Options expect_name_on_cert = options_for(other);
  expect_name_on_cert.tls_server_name = "identity";
  EXPECT_TRUE(pings(expect_name_on_cert));
}

TEST_F(RedisTlsTest, PubSubAndReconnectWorkOverTls) {
  RedisServer server;
  std::vector<std::string> got;
  int reconnects = 0;
  Subscriber sub(
      io_.get_executor(), options_for(server, "gateway"),
      [&](std::string_view, std::string_view payload) { got.emplace_back(payload); }, [&] { ++reconnects; });
  sub.start();
  sub.subscribe("push:user:u1");
  ASSERT_TRUE(run(io_, sub.wait_subscribed("push:user:u1", 5s)));
  Client publisher(io_.get_executor(), options_for(server, "messaging"));
  publisher.start();
  ASSERT_TRUE(run(io_, publisher.wait_connected(5s)));
  // A payload larger than one TLS record arrives whole.
  const std::string big(100'000, 'x');
  EXPECT_EQ(must(io_, publisher, {"PUBLISH", "push:user:u1", big}).integer, 1);
  ASSERT_TRUE(pump_until(io_, [&] { return got.size() == 1; }));
  EXPECT_EQ(got[0], big);

  server.restart();
  ASSERT_TRUE(pump_until(io_, [&] { return reconnects == 1; }, 10s));
  ASSERT_TRUE(run(io_, publisher.wait_connected(5s)));
  EXPECT_EQ(must(io_, publisher, {"PUBLISH", "push:user:u1", "after"}).integer, 1);
  ASSERT_TRUE(pump_until(io_, [&] { return got.size() == 2; }));
  EXPECT_EQ(got[1], "after");
}

TEST_F(RedisTlsTest, PlainTcpStillWorksForARedisConfiguredWithoutTls) {
  RedisServer server(RedisServer::Setup{.tls = false});
  Options plain = options_for(server);
  EXPECT_FALSE(plain.tls);
  std::vector<std::string> got;
  Subscriber sub(io_.get_executor(), options_for(server, "gateway"),
                 [&](std::string_view, std::string_view payload) { got.emplace_back(payload); });
  sub.start();
  sub.subscribe("push:user:u1");
  ASSERT_TRUE(run(io_, sub.wait_subscribed("push:user:u1", 5s)));
  Client client(io_.get_executor(), plain);
  client.start();
  ASSERT_TRUE(run(io_, client.wait_connected(5s)));
  EXPECT_EQ(must(io_, client, {"SET", "k", "v"}).str, "OK");
  EXPECT_EQ(must(io_, client, {"GET", "k"}).str, "v");
  EXPECT_EQ(must(io_, client, {"PUBLISH", "push:user:u1", "plain"}).integer, 1);
  ASSERT_TRUE(pump_until(io_, [&] { return got.size() == 1; }));
  EXPECT_EQ(got[0], "plain");
}

}  // namespace
}  // namespace alliance::redis::test
