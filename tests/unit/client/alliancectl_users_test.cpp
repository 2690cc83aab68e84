// alliancectl's commands for people who change and leave: their command lines and
// exactly what an admin reads after each change.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "cli.hpp"
#include "user_commands.hpp"

namespace alliance::ctl {
namespace {

using Args = std::vector<std::string>;

Result<Invocation> parse(Args args) {
  return parse_args(args, [](const std::string& k) -> std::optional<std::string> {
    if (k == "HOME") return std::string("/home/ada");
    return std::nullopt;
  });
}

TEST(UserCommands, ParseWithTheUserAndWhatChanges) {
  for (const char* verb : {"deactivate", "reactivate", "reset-password"}) {
    auto inv = parse(Args{"user", verb, "--user", "u1"});
    ASSERT_TRUE(inv) << verb << ": " << inv.error().message;
    EXPECT_EQ(inv->command, std::string("user ") + verb);
    EXPECT_EQ(inv->options.at("user"), "u1");
    auto missing = parse(Args{"user", verb});
    ASSERT_FALSE(missing) << verb;
    EXPECT_EQ(missing.error().field, "user");
  }
  auto role = parse(Args{"user", "set-role", "--user", "u1", "--role", "front_desk"});
  ASSERT_TRUE(role) << role.error().message;
  EXPECT_EQ(role->options.at("role"), "front_desk");
  auto bad_role = parse(Args{"user", "set-role", "--user", "u1", "--role", "owner"});
  ASSERT_FALSE(bad_role);
  EXPECT_EQ(bad_role.error().field, "role");
  auto update = parse(Args{"user", "update", "--user", "u1", "--email", "kim@example.org"});
  ASSERT_TRUE(update) << update.error().message;
  EXPECT_EQ(update->options.at("email"), "kim@example.org");
  EXPECT_EQ(update->options.count("name"), 0u);
  const std::string text = usage();
  for (const char* line : {"user deactivate --user USER_ID", "user reactivate --user USER_ID",
                           "user set-role --user USER_ID --role R", "user update --user USER_ID [--name NAME] [--email E]",
                           "user reset-password --user USER_ID"})
    EXPECT_NE(text.find(line), std::string::npos) << line;
}

TEST(UserCommands, SayWhatChangedHowManySessionsEndedAndEscapeNames) {
  auto deactivated = boost::json::parse(
      R"({"user":{"id":"u1","role":"therapist","display_name":"Kim","email":"kim@example.org",)"
      R"("deactivated_unix_ms":"1700000000000"},"sessions_ended":2})");
  EXPECT_EQ(user_change_line("deactivated", deactivated),
            "deactivated therapist Kim <kim@example.org> (id u1); 2 sessions ended (their sockets closed); "
            "deactivated\n");
  auto one = boost::json::parse(
      R"({"user":{"id":"u1","role":"front_desk","display_name":"Kim","email":"kim@example.org"},"sessions_ended":1})");
  EXPECT_EQ(user_change_line("role set:", one),
            "role set: front_desk Kim <kim@example.org> (id u1); 1 session ended (their sockets closed)\n");
  // A name is someone else's text: a terminal escape in it is shown, not obeyed.
  auto hostile = boost::json::parse(
      R"({"user":{"id":"u2","role":"client","display_name":"Eve\u001b[2J","email":"eve@example.org"}})");
  EXPECT_EQ(user_change_line("updated", hostile), "updated client Eve\\x1b[2J <eve@example.org> (id u2)\n");
}

}  // namespace
}  // namespace alliance::ctl
