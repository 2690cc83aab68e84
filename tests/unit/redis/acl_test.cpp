// Redis with the ACL users scripts/redis-users makes, as a service's redis::Client and
// Subscriber log in to it: someone who reaches Redis without a service's password can
// do nothing, and a service's user can do only its own job (the gateway listens and
// never publishes; only identity announces revocations; nobody else touches identity's
// login back-off counters).
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "alliance/redis/subscriber.hpp"
#include "harness.hpp"

namespace alliance::redis::test {
namespace {

constexpr std::array<const char*, 4> kNotIdentity{"gateway", "messaging", "scheduling", "reminders"};

class AclTest : public ::testing::Test {
 protected:
  // A connected client logged in as `user`.
  std::unique_ptr<Client> login(const std::string& user) {
    auto c = std::make_unique<Client>(io_.get_executor(), options_for(server_, user));
    c->start();
    EXPECT_TRUE(run(io_, c->wait_connected(5s))) << user;
    return c;
  }

  Reply send(Client& client, std::vector<std::string> args) { return must(io_, client, std::move(args)); }

  static bool refused(const Reply& r) { return r.is_error() && r.str.rfind("NOPERM", 0) == 0; }

  alliance::testing::RedisServer server_;
  asio::io_context io_;
};

TEST_F(AclTest, AClientWithoutAPasswordCanRunNothing) {
  Options anonymous = options_for(server_);
  anonymous.user.clear();
  anonymous.password.clear();
  Client client(io_.get_executor(), anonymous);
  client.start();
  ASSERT_TRUE(run(io_, client.wait_connected(5s)));  // the socket opens; nothing more
  for (std::vector<std::string> cmd : {std::vector<std::string>{"PUBLISH", "push:user:u1", "re-enter your password"},
                                       std::vector<std::string>{"DEL", "identity:loginfail:acct:p/a@b.example"},
                                       std::vector<std::string>{"GET", "anything"}}) {
    auto r = send(client, cmd);
    ASSERT_TRUE(r.is_error()) << cmd[0];
    EXPECT_EQ(r.str.rfind("NOAUTH", 0), 0u) << r.str;
  }
}

TEST_F(AclTest, AWrongPasswordNeverConnectsAndTheErrorHoldsNoPassword) {
  Options wrong = options_for(server_, "identity");
  wrong.password = "not-the-password-" + wrong.password;
  Client client(io_.get_executor(), wrong);
  client.start();
  EXPECT_FALSE(run(io_, client.wait_connected(1500ms)));
  auto r = run(io_, client.command({"PUBLISH", "identity:revocations", "forged"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kUnavailable);
  EXPECT_EQ(r.error().message.find(wrong.password), std::string::npos);
  // The real identity user is not locked out by someone else's failures.
  auto identity = login("identity");
  EXPECT_EQ(send(*identity, {"PUBLISH", "identity:revocations", "x"}).type, Reply::Type::kInteger);
}

// The attack: a push ("re-enter your password at ...") injected on a client's socket
// through the gateway's Redis login. The gateway's user may only listen.
TEST_F(AclTest, TheGatewayListensToPushesAndRevocationsButCannotPublishOrTouchCounters) {
  auto gateway = login("gateway");
  EXPECT_TRUE(refused(send(*gateway, {"PUBLISH", "push:user:u1", "re-enter your password at ..."})));
  EXPECT_TRUE(refused(send(*gateway, {"PUBLISH", "identity:revocations", "session s1"})));
  EXPECT_TRUE(refused(send(*gateway, {"DEL", "identity:loginfail:acct:p/a@b.example"})));
  EXPECT_TRUE(refused(send(*gateway, {"HSET", "identity:loginfail:addr:10.0.0.1", "n", "0"})));
  EXPECT_TRUE(refused(send(*gateway, {"KEYS", "*"})));

  std::vector<std::string> received;
  Subscriber listener(io_.get_executor(), options_for(server_, "gateway"),
                      [&](std::string_view channel, std::string_view) { received.emplace_back(channel); });
  listener.start();
  listener.subscribe("push:user:u1");
  listener.subscribe("identity:revocations");
  ASSERT_TRUE(run(io_, listener.wait_subscribed("push:user:u1", 5s)));
  ASSERT_TRUE(run(io_, listener.wait_subscribed("identity:revocations", 5s)));
  auto messaging = login("messaging");
  auto identity = login("identity");
  EXPECT_EQ(send(*messaging, {"PUBLISH", "push:user:u1", "frame"}).integer, 1);
  EXPECT_EQ(send(*identity, {"PUBLISH", "identity:revocations", "session s1"}).integer, 1);
  ASSERT_TRUE(pump_until(io_, [&] { return received.size() == 2; }));
  EXPECT_EQ(received, (std::vector<std::string>{"push:user:u1", "identity:revocations"}));
}

// The front desk's live schedule: scheduling announces appointment changes on a
// practice's staff channel and the gateway only listens to it; nobody else publishes
// there, so a forged "changed" frame cannot reach a front desk's screen.
TEST_F(AclTest, OnlySchedulingPublishesOnStaffChannelsAndTheGatewayListens) {
  std::vector<std::string> received;
  Subscriber listener(io_.get_executor(), options_for(server_, "gateway"),
                      [&](std::string_view channel, std::string_view) { received.emplace_back(channel); });
  listener.start();
  listener.subscribe("push:staff:p1");
  ASSERT_TRUE(run(io_, listener.wait_subscribed("push:staff:p1", 5s)));
  auto scheduling = login("scheduling");
  EXPECT_EQ(send(*scheduling, {"PUBLISH", "push:staff:p1", "frame"}).integer, 1);
  ASSERT_TRUE(pump_until(io_, [&] { return received.size() == 1; }));
  for (const char* user : {"gateway", "messaging", "identity", "reminders"}) {
    auto c = login(user);
    EXPECT_TRUE(refused(send(*c, {"PUBLISH", "push:staff:p1", "forged"}))) << user;
  }
}

// The attack: another user's session closed by a forged revocation.
TEST_F(AclTest, OnlyIdentityPublishesRevocationsAndDeviceChanges) {
  for (const char* user : kNotIdentity) {
    auto c = login(user);
    EXPECT_TRUE(refused(send(*c, {"PUBLISH", "identity:revocations", "session s1"}))) << user;
    EXPECT_TRUE(refused(send(*c, {"PUBLISH", "identity:devices", "u1"}))) << user;
  }
  auto identity = login("identity");
  EXPECT_EQ(send(*identity, {"PUBLISH", "identity:revocations", "session s1"}).type, Reply::Type::kInteger);
  EXPECT_EQ(send(*identity, {"PUBLISH", "identity:devices", "u1"}).type, Reply::Type::kInteger);
  // identity announces; it has no business with pushes or events.
  EXPECT_TRUE(refused(send(*identity, {"PUBLISH", "push:user:u1", "frame"})));
  EXPECT_TRUE(refused(send(*identity, {"XADD", "scheduling:events", "*", "event", "x"})));
}

// The attack: login back-off reset so passwords can be guessed at full speed.
TEST_F(AclTest, OnlyIdentityTouchesLoginBackOffCounters) {
  const std::string counter = "identity:loginfail:acct:p/a@b.example";
  auto identity = login("identity");
  EXPECT_EQ(send(*identity, {"HINCRBY", counter, "n", "5"}).integer, 5);
  for (const char* user : kNotIdentity) {
    auto c = login(user);
    EXPECT_TRUE(refused(send(*c, {"DEL", counter}))) << user;
    EXPECT_TRUE(refused(send(*c, {"HSET", counter, "n", "0"}))) << user;
    EXPECT_TRUE(refused(send(*c, {"EVAL", "return redis.call('DEL', KEYS[1])", "1", counter}))) << user;
  }
  auto admin = login("admin");
  EXPECT_EQ(send(*admin, {"HGET", counter, "n"}).str, "5");
}

// Each service's user can do what that service does, and no more.
TEST_F(AclTest, EachServiceRunsItsOwnCommandsOnly) {
  auto scheduling = login("scheduling");
  EXPECT_EQ(send(*scheduling, {"XADD", "scheduling:events", "MAXLEN", "~", "1000", "*", "event", "e1"}).type,
            Reply::Type::kString);
  EXPECT_TRUE(refused(send(*scheduling, {"XADD", "other:stream", "*", "event", "e1"})));

  auto reminders = login("reminders");
  auto read = send(*reminders, {"XREAD", "COUNT", "10", "STREAMS", "scheduling:events", "0"});
  EXPECT_EQ(read.type, Reply::Type::kArray);
  EXPECT_TRUE(refused(send(*reminders, {"XADD", "scheduling:events", "*", "event", "forged"})));
  EXPECT_EQ(send(*reminders, {"PUBLISH", "reminders:wake", "reminders-0"}).type, Reply::Type::kInteger);
  EXPECT_EQ(send(*reminders, {"PUBLISH", "push:user:u1", "frame"}).type, Reply::Type::kInteger);

  auto messaging = login("messaging");
  EXPECT_EQ(send(*messaging, {"INCR", "messaging:rate:u1:1"}).integer, 1);
  EXPECT_EQ(send(*messaging, {"EXPIRE", "messaging:rate:u1:1", "120"}).integer, 1);
  EXPECT_TRUE(refused(send(*messaging, {"INCR", "identity:loginfail:acct:x"})));
  EXPECT_TRUE(refused(send(*messaging, {"PUBLISH", "reminders:wake", "x"})));

  auto identity = login("identity");
  auto script = send(*identity, {"EVAL",
                                 "redis.call('ZADD', KEYS[1], 1, 'a') redis.call('PEXPIRE', KEYS[1], 1000) "
                                 "return redis.call('ZCARD', KEYS[1])",
                                 "1", "identity:loginfail:acct:x:inflight"});
  EXPECT_EQ(script.integer, 1) << script.str;
  // A script is checked command by command: identity cannot reach past its keys through one.
  auto escape = send(*identity, {"EVAL", "return redis.call('GET', KEYS[1])", "1", "messaging:rate:u1:1"});
  EXPECT_TRUE(escape.is_error()) << escape.str;
  EXPECT_TRUE(refused(send(*identity, {"FLUSHALL"})));
}

// A service whose ACL lacks a channel it subscribes to (rules older than the code):
// Redis refuses the SUBSCRIBE and the client drops the connection. The subscriber keeps
// backing off instead of reconnecting in a tight loop, so Redis and the logs see a few
// attempts, not dozens a second.
TEST_F(AclTest, ASubscriptionTheAclRefusesBacksOffInsteadOfReconnectingInALoop) {
  auto connections = [&] {
    const std::string info = server_.cli({"INFO", "stats"});
    const std::string key = "total_connections_received:";
    auto at = info.find(key);
    return at == std::string::npos ? -1 : std::stoll(info.substr(at + key.size()));
  };
  const long long before = connections();
  ASSERT_GE(before, 0);
  Subscriber listener(io_.get_executor(), options_for(server_, "messaging"), [](std::string_view, std::string_view) {});
  listener.start();
  listener.subscribe("identity:devices");
  listener.subscribe("push:user:u1");  // messaging may publish pushes, not listen to them
  EXPECT_FALSE(run(io_, listener.wait_subscribed("push:user:u1", 2s)));
  // Backing off from 50 ms, doubling, makes about 6 attempts in 2 s; a loop makes ~40.
  // (The cli calls themselves are 2 of the connections counted.)
  EXPECT_LT(connections() - before, 15);
}

}  // namespace
}  // namespace alliance::redis::test

