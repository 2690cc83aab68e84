#pragma once
// What the scheduling service tests share: identity's facts in memory, and a
// fixture base (tests/support io_test.hpp) that drives coroutines from the test thread.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "alliance/core/asio.hpp"
#include "alliance/net/rpc_server.hpp"
#include "io_test.hpp"
#include "scheduling_model.hpp"
#include "user_directory.hpp"

namespace alliance::scheduling {
namespace {

using namespace std::chrono_literals;

// identity's facts, in memory.
class FakeDirectory final : public UserDirectory {
 public:
  void add(const std::string& id, const std::string& practice, Role role, const std::string& time_zone = "") {
    users_[id] = UserFacts{id, practice, role, time_zone};
  }
  void set_time_zone(const std::string& id, const std::string& time_zone) { users_.at(id).time_zone = time_zone; }
  void deactivate(const std::string& id) { users_.at(id).deactivated = true; }
  // The practice's policy, as identity reports it with each of its users.
  void let_therapists_book_any_client(const std::string& practice) {
    for (auto& [id, u] : users_)
      if (u.practice_id == practice) u.therapists_book_any_client = true;
  }
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

// The shared io_context driver, plus calls as the gateway forwards them.
class IoTest : public testing::IoTest {
 protected:
  // A call as the gateway forwards it for `user`.
  static net::CallContext as(const std::string& user, Role role, const std::string& practice = "practice-1") {
    net::CallContext ctx;
    ctx.caller.set_user_id(user);
    ctx.caller.set_practice_id(practice);
    ctx.caller.set_role(std::string(role_name(role)));
    ctx.peer_name = "gateway";
    return ctx;
  }
};

}  // namespace
}  // namespace alliance::scheduling
