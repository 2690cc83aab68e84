// Client against a real redis-server: binary safety, pipelining, concurrency, and what a
// caller sees when Redis goes away (kUnavailable, never a hang).
#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "alliance/core/ids.hpp"
#include "alliance/redis/client.hpp"
#include "harness.hpp"

namespace alliance::redis::test {
namespace {

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = std::make_unique<Client>(io_.get_executor(), options_for(server_));
    client_->start();
    ASSERT_TRUE(run(io_, client_->wait_connected(5s)));
  }

  alliance::testing::RedisServer server_;
  asio::io_context io_;
  std::unique_ptr<Client> client_;
};

TEST_F(ClientTest, SetGetIsBinarySafeForNulBytesAndOneMebibyte) {
  std::string key("k\0ey", 4);
  std::string small("a\0b\0\r\n$3\r\n", 11);
  auto set = must(io_, *client_, {"SET", key, small});
  EXPECT_EQ(set.type, Reply::Type::kStatus);
  EXPECT_EQ(set.str, "OK");
  auto got = must(io_, *client_, {"GET", key});
  ASSERT_EQ(got.type, Reply::Type::kString);
  EXPECT_EQ(got.str, small);

  std::string big = random_bytes(1 << 20);
  ASSERT_EQ(must(io_, *client_, {"SET", "big", big}).str, "OK");
  auto big_got = must(io_, *client_, {"GET", "big"});
  ASSERT_EQ(big_got.type, Reply::Type::kString);
  EXPECT_EQ(big_got.str.size(), big.size());
  EXPECT_TRUE(big_got.str == big);

  EXPECT_EQ(must(io_, *client_, {"GET", "missing"}).type, Reply::Type::kNil);
}

TEST_F(ClientTest, IncrCounts) {
  EXPECT_EQ(must(io_, *client_, {"INCR", "n"}).integer, 1);
  EXPECT_EQ(must(io_, *client_, {"INCRBY", "n", "41"}).integer, 42);
  EXPECT_EQ(must(io_, *client_, {"INCR", "n"}).type, Reply::Type::kInteger);
}

TEST_F(ClientTest, RedisErrorReplyIsAReplyNotAnError) {
  must(io_, *client_, {"SET", "s", "not a number"});
  auto r = run(io_, client_->command({"INCR", "s"}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, Reply::Type::kError);
  EXPECT_EQ(r->str.rfind("ERR", 0), 0u) << r->str;
  // The connection is still usable afterwards.
  EXPECT_EQ(must(io_, *client_, {"GET", "s"}).str, "not a number");
}

TEST_F(ClientTest, EmptyCommandIsInvalidArgument) {
  auto r = run(io_, client_->command(std::vector<std::string>{}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
}

TEST_F(ClientTest, PipelineOf1000ReturnsRepliesInOrder) {
  std::vector<std::vector<std::string>> cmds;
  for (int i = 0; i < 1000; ++i) cmds.push_back({"INCR", "p"});
  cmds.push_back({"GET", "p"});
  auto r = run(io_, client_->pipeline(std::move(cmds)));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1001u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ((*r)[i].integer, i + 1) << "reply " << i;
  EXPECT_EQ((*r)[1000].str, "1000");
}

TEST_F(ClientTest, TwoHundredConcurrentCoroutinesEachGetTheirOwnReply) {
  int ok = 0, finished = 0;
  for (int i = 0; i < 200; ++i) {
    auto task = [](Client& c, int i, int& ok) -> asio::awaitable<void> {
      std::string key = "c" + std::to_string(i), value = "v" + std::to_string(i * 7);
      std::vector<std::string> set{"SET", key, value};
      auto s = co_await c.command(std::move(set));
      std::vector<std::string> get{"GET", key};
      auto g = co_await c.command(std::move(get));
      if (s && g && g->str == value) ++ok;
    };
    asio::co_spawn(io_, task(*client_, i, ok), [&](std::exception_ptr) { ++finished; });
  }
  ASSERT_TRUE(pump_until(io_, [&] { return finished == 200; }));
  EXPECT_EQ(ok, 200);
}

TEST_F(ClientTest, CommandOnStoppedServerIsUnavailableWithoutHanging) {
  server_.stop();
  ASSERT_TRUE(pump_until(io_, [&] { return !client_->connected(); }));
  auto start = std::chrono::steady_clock::now();
  auto r = run(io_, client_->command({"GET", "x"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  auto p = run(io_, client_->pipeline({{"GET", "x"}, {"GET", "y"}}));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, Code::kUnavailable);
}

TEST_F(ClientTest, ConnectionDroppingMidCommandGivesUnavailable) {
  std::optional<Result<Reply>> result;
  spawn(io_, client_->command({"BLPOP", "never", "10"}), [&](Result<Reply> r) { result.emplace(std::move(r)); });
  // Let the command reach Redis, then take Redis away under it.
  ASSERT_TRUE(pump_until(io_, [&] {
    return server_.cli({"CLIENT", "LIST"}).find("cmd=blpop") != std::string::npos;
  }));
  server_.stop();
  ASSERT_TRUE(pump_until(io_, [&] { return result.has_value(); }, 3s));
  ASSERT_FALSE(result->ok());
  EXPECT_EQ(result->error().code, Code::kUnavailable);
}

TEST_F(ClientTest, SlowReplyGivesDeadlineExceeded) {
  Options o = options_for(server_);
  o.command_timeout = 200ms;
  Client quick(io_.get_executor(), o);
  quick.start();
  ASSERT_TRUE(run(io_, quick.wait_connected(5s)));
  auto start = std::chrono::steady_clock::now();
  auto r = run(io_, quick.command({"BLPOP", "never", "5"}));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kDeadlineExceeded);
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 2s);
}

TEST_F(ClientTest, DestroyingClientWithPendingCommandsCompletesThemUnavailable) {
  int unavailable = 0, finished = 0;
  for (int i = 0; i < 5; ++i) {
    spawn(io_, client_->command({"BLPOP", "never", "10"}), [&](Result<Reply> r) {
      ++finished;
      if (!r.ok() && r.error().code == Code::kUnavailable) ++unavailable;
    });
  }
  ASSERT_TRUE(pump_until(io_, [&] {
    return server_.cli({"CLIENT", "LIST"}).find("cmd=blpop") != std::string::npos;
  }));
  client_.reset();
  ASSERT_TRUE(pump_until(io_, [&] { return finished == 5; }, 2s));
  EXPECT_EQ(unavailable, 5);
}

TEST_F(ClientTest, ReconnectsAfterRedisRestartsOnTheSamePort) {
  must(io_, *client_, {"SET", "before", "1"});
  server_.restart();
  // The first command after the restart may still race the disconnect; it must not hang,
  // and within a deadline commands work again on the new (empty) server.
  std::optional<Reply> reply;
  ASSERT_TRUE(pump_until(io_, [&] {
    auto r = run(io_, client_->command({"SET", "after", "2"}));
    if (r.ok()) reply = *r;
    return r.ok();
  }, 5s));
  EXPECT_EQ(reply->str, "OK");
  EXPECT_EQ(must(io_, *client_, {"GET", "before"}).type, Reply::Type::kNil);
  EXPECT_EQ(must(io_, *client_, {"GET", "after"}).str, "2");
}

TEST(ClientOutageTest, UnreachableRedisIsUnavailableAndLoggedOncePerOutage) {
  asio::io_context io;
  Options o;
  o.port = alliance::testing::free_port();  // nothing listens there
  o.reconnect_min = 5ms;
  o.reconnect_max = 10ms;
  ::testing::internal::CaptureStderr();
  {
    Client client(io.get_executor(), o);
    client.start();
    EXPECT_FALSE(run(io, client.wait_connected(300ms)));
    auto r = run(io, client.command({"PING"}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Code::kUnavailable);
  }
  std::string logs = ::testing::internal::GetCapturedStderr();
  std::size_t count = 0;
  for (auto pos = logs.find("redis unavailable"); pos != std::string::npos; pos = logs.find("redis unavailable", pos + 1))
    ++count;
  EXPECT_EQ(count, 1u) << logs;  // many attempts (300 ms / <=10 ms) but one log line
}

}  // namespace
}  // namespace alliance::redis::test
