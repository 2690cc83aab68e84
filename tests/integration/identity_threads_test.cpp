// identity running two I/O threads (config threads = 2) behind a two-thread gateway:
// clients logging in and asking GET /v1/me at the same time each get their own
// answer, and wrong passwords made meanwhile are refused without touching anyone else.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <thread>

#include "system.hpp"

namespace alliance::testing {
namespace {

constexpr int kUsers = 8;
constexpr int kMeEach = 25;

std::string text_at(const boost::json::value& v, std::string_view object, std::string_view key) {
  const auto* o = v.as_object().if_contains(object);
  if (!o || !o->is_object()) return {};
  const auto* s = o->as_object().if_contains(key);
  return s && s->is_string() ? std::string(s->as_string()) : std::string();
}

// What went wrong for one client ("" = nothing).
std::string log_in_and_ask_who_i_am(System& sys, const std::string& email, const std::string& user_id) {
  client::AllianceClient c(sys.endpoint());
  auto wrong = c.login("riverside", email, "not the password at all");
  if (wrong) return "a wrong password was accepted";
  if (wrong.error().code != Code::kUnauthenticated) return "wrong password: " + wrong.error().message;
  auto tokens = c.login("riverside", email, System::kPassword);
  if (!tokens) return "login: " + tokens.error().message;
  for (int k = 0; k < kMeEach; ++k) {
    auto me = c.get_json("/v1/me");
    if (!me) return "GET /v1/me: " + me.error().message;
    if (text_at(*me, "user", "id") != user_id || text_at(*me, "user", "email") != email)
      return "GET /v1/me answered for someone else: " + boost::json::serialize(*me);
  }
  return {};
}

TEST(IdentityThreads, ParallelLoginsAndMeEachGetTheirOwnAnswer) {
  System sys;  // identity runs two I/O threads in every test (system.cpp)
  sys.create_practice("riverside");
  std::vector<std::string> emails, ids;
  for (int i = 0; i < kUsers; ++i) {
    emails.push_back("client" + std::to_string(i) + "@example.org");
    ids.push_back(sys.create_user("riverside", emails.back(), "client"));
  }
  std::vector<std::string> failures(kUsers);
  std::vector<std::thread> clients;
  for (int i = 0; i < kUsers; ++i)
    clients.emplace_back([&, i] { failures[i] = log_in_and_ask_who_i_am(sys, emails[i], ids[i]); });
  for (auto& t : clients) t.join();
  for (int i = 0; i < kUsers; ++i) EXPECT_EQ(failures[i], "") << emails[i];
  // Nobody was locked out by the others' wrong passwords: each logs in again at once.
  for (int i = 0; i < kUsers; ++i) EXPECT_NO_THROW(sys.login("riverside", emails[i])) << emails[i];
}

}  // namespace
}  // namespace alliance::testing
