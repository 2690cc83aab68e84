#pragma once
// What the scheduling service tests share: identity's facts in memory, and a
// fixture base that drives coroutines on its own io_context from the test thread.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "alliance/core/asio.hpp"
#include "alliance/net/rpc_server.hpp"
#include "scheduling_model.hpp"
#include "user_directory.hpp"

namespace alliance::scheduling {
namespace {

using namespace std::chrono_literals;

// identity's facts, in memory.
class FakeDirectory final : public UserDirectory {
 public:
  void add(const std::string& id, const std::string& practice, Role role) { users_[id] = {id, practice, role}; }
  void link(const std::string& client, const std::string& therapist) { team_.insert({client, therapist}); }

  asio::awaitable<Result<std::optional<UserFacts>>> find_user(std::string id) override {
    auto it = users_.find(id);
    if (it == users_.end()) co_return std::optional<UserFacts>();
    co_return std::optional<UserFacts>(it->second);
  }
  asio::awaitable<Result<bool>> on_care_team(std::string client, std::string therapist) override {
    co_return team_.contains({client, therapist});
  }

 private:
  std::map<std::string, UserFacts> users_;
  std::set<std::pair<std::string, std::string>> team_;
};

inline Instant at(const char* rfc3339) { return *parse_instant(rfc3339, "t"); }

// Owns the io_context; derived fixtures declare what runs on it (destroyed first).
class IoTest : public ::testing::Test {
 protected:
  template <class T>
  T run(asio::awaitable<T> a) {
    std::optional<T> out;
    bool done = false;
    std::exception_ptr ep;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(a)); },
        [&](std::exception_ptr e) {
          ep = e;
          done = true;
        });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done && std::chrono::steady_clock::now() < deadline) io_.run_one_for(50ms);
    if (ep) std::rethrow_exception(ep);
    if (!done) throw std::runtime_error("operation did not finish within 10 s");
    return std::move(*out);
  }

  bool pump_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred() && std::chrono::steady_clock::now() < deadline) io_.run_one_for(20ms);
    return pred();
  }

  // A call as the gateway forwards it for `user`.
  static net::CallContext as(const std::string& user, Role role, const std::string& practice = "practice-1") {
    net::CallContext ctx;
    ctx.caller.set_user_id(user);
    ctx.caller.set_practice_id(practice);
    ctx.caller.set_role(std::string(role_name(role)));
    ctx.peer_name = "gateway";
    return ctx;
  }

  asio::io_context io_;
};

}  // namespace
}  // namespace alliance::scheduling
