// Redis is reached over TLS only: the running system's Redis answers nobody in the
// clear, every service is logged in to it over TLS as its own user, and a service
// pointed at a Redis whose certificate is not the practice's says so in its log at
// once and never counts as connected. (Every other integration test runs over this
// TLS Redis: pushes, revocations, streams and wake-ups.)
#include <gtest/gtest.h>

#include "system.hpp"

namespace alliance::testing {
namespace {

using namespace std::chrono_literals;

TEST(RedisTransport, TheSystemsRedisAnswersNobodyInTheClearAndEveryServiceUsesTls) {
  System sys;
  // Someone on the network with admin's password, speaking RESP in the clear.
  EXPECT_FALSE(redis_ping(sys.redis().port(), "admin", RedisServer::password("admin")));
  auto plain_cli = run_command("redis-cli", {"-h", "127.0.0.1", "-p", std::to_string(sys.redis().port()), "--user",
                                             "admin", "PING"},
                               10s, {{"REDISCLI_AUTH", RedisServer::password("admin")}});
  EXPECT_EQ(plain_cli.out.find("PONG"), std::string::npos) << plain_cli.out;
  // The only port is the TLS one, so every service connected there is on TLS.
  const std::string clients = sys.redis().cli({"CLIENT", "LIST"});
  for (const char* user : {"identity", "messaging", "scheduling", "reminders", "gateway"})
    EXPECT_NE(clients.find(std::string("user=") + user), std::string::npos) << user << "\n" << clients;
  // And what goes through it still works: a push published as a service reaches a socket.
  sys.create_practice("tls");
  auto user = sys.create_user("tls", "client@tls.example", "client");
  auto c = sys.login("tls", "client@tls.example");
  auto socket = c->open_push_socket();
  ASSERT_TRUE(socket);
  sys.publish_push(user, "test.notice", "over tls");
  auto frame = (*socket)->read_text(3s);
  ASSERT_TRUE(frame);
  EXPECT_NE(frame->find("over tls"), std::string::npos) << *frame;
}

TEST(RedisTransport, AServiceRefusesARedisWhoseCertificateIsNotThePracticesAndSaysWhy) {
  const auto& c = dev_certs();
  RedisServer impostor(RedisServer::Setup{.cert = c.rogue_cert(), .key = c.rogue_key(), .cert_ca = c.rogue_ca()});
  TempDir dir;
  auto p = Process::start(Process::Options{
      binary("services/gateway/alliance-gateway"),
      {"--config", std::string(ALLIANCE_SOURCE_DIR) + "/deploy/config/gateway.conf", "--listen", "127.0.0.1:0",
       "--metrics_listen", "127.0.0.1:0", "--tls_cert", c.public_cert().string(), "--tls_key",
       c.public_key().string(), "--rpc_ca", c.ca().string(), "--rpc_cert", c.cert("gateway").string(), "--rpc_key",
       c.key("gateway").string(), "--ready_file", (dir.path() / "gw.ready").string(), "--redis",
       impostor.host_port(), "--redis_password_file", RedisServer::password_file("gateway").string(),
       "--redis_ca_file", c.ca().string(), "--redis_cert_file", c.cert("gateway").string(), "--redis_key_file",
       c.key("gateway").string()},
      {},
      dir.path() / "gw.log",
      {}});
  // Within a couple of seconds, not after a connect timeout: the handshake fails.
  ASSERT_TRUE(wait_until(
      [&] {
        const std::string log = p.log();
        return log.find("redis unavailable, retrying") != std::string::npos &&
               log.find("certificate verify failed") != std::string::npos;
      },
      3s))
      << p.log();
  EXPECT_NE(p.log().find("unable to get local issuer certificate"), std::string::npos) << p.log();
  // The impostor never saw the gateway log in: its only clients are our redis-cli calls.
  EXPECT_EQ(impostor.cli({"CLIENT", "LIST"}).find("user=gateway"), std::string::npos);
  EXPECT_TRUE(p.running());
}

}  // namespace
}  // namespace alliance::testing
