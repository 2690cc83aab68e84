// Concurrent logins: the back-off holds when wrong passwords arrive all at
// once, and a burst neither pays for more password checks than the limit nor
// delays other logins.
#include "identity_service_fixture.hpp"

namespace alliance::identity {
namespace {

class LoginBurstTest : public IdentityServiceTest {
protected:
  // Starts every login at once on io_ and runs them all to their answers.
  std::vector<Result<pb::TokenResponse>>
  login_all(const std::vector<pb::LoginRequest> &reqs,
            const std::vector<std::string> &addresses,
            std::vector<std::uint64_t> *checks_at_answer = nullptr) {
    std::vector<std::optional<Result<pb::TokenResponse>>> out(reqs.size());
    if (checks_at_answer)
      checks_at_answer->assign(reqs.size(), 0);
    std::size_t done = 0;
    for (std::size_t i = 0; i < reqs.size(); ++i) {
      std::uint64_t *checks =
          checks_at_answer ? &(*checks_at_answer)[i] : nullptr;
      auto one = login_one(reqs[i], from(addresses[i]), &out[i], checks);
      asio::co_spawn(io_, std::move(one), [&done](std::exception_ptr e) {
        ++done;
        if (e)
          std::rethrow_exception(e);
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (done < reqs.size() && std::chrono::steady_clock::now() < deadline)
      io_.run_one_for(50ms);
    EXPECT_EQ(done, reqs.size());
    std::vector<Result<pb::TokenResponse>> results;
    for (auto &r : out)
      results.push_back(r ? std::move(*r)
                          : Result<pb::TokenResponse>(
                                make_error(Code::kInternal, "unfinished")));
    return results;
  }

  // A member coroutine, not a lambda: a lambda's captures die with the lambda
  // object.
  asio::awaitable<void> login_one(pb::LoginRequest req, net::CallContext ctx,
                                  std::optional<Result<pb::TokenResponse>> *out,
                                  std::uint64_t *checks) {
    auto r = co_await service_->login(req, ctx);
    if (checks)
      *checks = service_->password_checks();
    out->emplace(std::move(r));
  }

  static pb::LoginRequest request(const std::string &slug,
                                  const std::string &email,
                                  const std::string &password) {
    pb::LoginRequest req;
    req.set_practice(slug);
    req.set_email(email);
    req.set_password(password);
    return req;
  }
};

TEST_F(LoginBurstTest, FortyConcurrentWrongPasswordsGetAtMostTheLimitOfChecks) {
  make_practice("burst");
  const auto before = service_->password_checks();
  std::vector<pb::LoginRequest> reqs;
  std::vector<std::string> addresses;
  for (int i = 0; i < 40; ++i) {
    reqs.push_back(request("burst", "admin@burst.example",
                           "wrong password " + std::to_string(i)));
    addresses.push_back("192.0.2." + std::to_string(i % 2 == 0 ? 10 : 11 + i));
  }
  auto results = login_all(reqs, addresses);
  int wrong = 0, backed_off = 0;
  for (const auto &r : results) {
    ASSERT_FALSE(r.ok());
    if (r.error().code == Code::kUnauthenticated)
      ++wrong;
    if (r.error().code == Code::kResourceExhausted) {
      ++backed_off;
      EXPECT_EQ(r.error().message,
                "too many failed sign-in attempts; try again later");
      EXPECT_GT(r.error().retry_after.count(), 0);
    }
  }
  // The fixture's login_backoff_after is 3 (production: 5).
  const auto checks = service_->password_checks() - before;
  EXPECT_LE(checks, 3u);
  EXPECT_EQ(static_cast<std::uint64_t>(wrong), checks);
  EXPECT_EQ(wrong + backed_off, 40);
  // Nothing stays reserved: once the lock ends, the right password works.
  EXPECT_TRUE(testing::wait_until(
      [&] { return login("burst", "admin@burst.example", kPassword).ok(); },
      10s));
}

TEST_F(LoginBurstTest, AnotherPracticesLoginIsNotQueuedBehindABurst) {
  make_practice("victim");
  make_practice("bystander");
  std::vector<pb::LoginRequest> reqs;
  std::vector<std::string> addresses;
  // One source sprays wrong passwords at 40 accounts (under its 4 x 3 failure
  // limit only while in flight), then a user of another practice signs in from
  // elsewhere.
  for (int i = 0; i < 40; ++i) {
    reqs.push_back(request("victim",
                           "user" + std::to_string(i) + "@victim.example",
                           "wrong password here"));
    addresses.push_back("198.51.100.66");
  }
  reqs.push_back(request("bystander", "admin@bystander.example", kPassword));
  addresses.push_back("203.0.113.50");
  const auto before = service_->password_checks();
  std::vector<std::uint64_t> checks_at_answer;
  auto results = login_all(reqs, addresses, &checks_at_answer);
  ASSERT_TRUE(results.back().ok()) << results.back().error().message;
  // Its own check, the source's HashSlots::kPerSource queued ahead of it, and a few
  // the pool may start before its answer is read on a busy machine (5 on CI's two
  // cores; 10 with two CPU hogs beside the test); without the per-source queue the
  // source's whole in-flight allowance (4 x 3 = 12) is ahead of it (13 measured).
  // The queue's order itself is checked exactly in HashSlotsTest below.
  EXPECT_LE(checks_at_answer.back() - before, 1u + HashSlots::kPerSource + 8u);
  for (std::size_t i = 0; i + 1 < results.size(); ++i)
    ASSERT_FALSE(results[i].ok());
}

// The per-source queue on its own: a source's third check waits for one of its
// first two to finish, while another source's goes straight through.
TEST(HashSlotsTest, ASourceHoldsAtMostItsShareAndOthersPassIt) {
  asio::io_context io;
  HashSlots slots;
  std::vector<std::string> got;
  std::vector<std::optional<HashSlots::Slot>> held;
  auto take = [&](std::string source, std::string name) -> asio::awaitable<void> {
    auto slot = co_await slots.acquire(source);
    got.push_back(name);
    held.emplace_back(std::move(slot));
  };
  for (const char* name : {"a1", "a2", "a3"}) asio::co_spawn(io, take("198.51.100.66", name), asio::detached);
  asio::co_spawn(io, take("203.0.113.50", "b1"), asio::detached);
  io.poll();
  EXPECT_EQ(got, (std::vector<std::string>{"a1", "a2", "b1"}));
  held.front().reset();  // a1's check is over: a3 gets its place
  io.poll();
  EXPECT_EQ(got, (std::vector<std::string>{"a1", "a2", "b1", "a3"}));
}

} // namespace
} // namespace alliance::identity
