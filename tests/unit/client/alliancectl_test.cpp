// alliancectl's command line, session file and the failures it reports before
// (or without) reaching a gateway.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "cli.hpp"
#include "commands.hpp"
#include "process.hpp"
#include "session.hpp"

namespace alliance::ctl {
namespace {

using Args = std::vector<std::string>;

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}
const EnvLookup kHomeOnly = env_of({{"HOME", "/home/ada"}});

TEST(ParseArgs, LoginWithGlobalsAnywhereAndBothValueForms) {
  auto inv = parse_args(Args{"--gateway", "https://127.0.0.1:8443", "login", "--practice=riverside", "--email",
                             "ada@example.org", "--ca", "/tmp/ca.pem", "--json"},
                        kHomeOnly);
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_EQ(inv->command, "login");
  EXPECT_EQ(inv->gateway, "https://127.0.0.1:8443");
  EXPECT_EQ(inv->ca, "/tmp/ca.pem");
  EXPECT_TRUE(inv->json);
  EXPECT_EQ(inv->options.at("practice"), "riverside");
  EXPECT_EQ(inv->options.at("email"), "ada@example.org");
  EXPECT_EQ(inv->session, "/home/ada/.config/alliance/session.json");
}

TEST(ParseArgs, EnvironmentGivesDefaultsAndFlagsOverrideIt) {
  auto env = env_of({{"HOME", "/home/ada"},
                     {"ALLIANCE_GATEWAY", "https://10.0.0.1:443"},
                     {"ALLIANCE_CA", "/etc/alliance/ca.pem"},
                     {"ALLIANCE_SESSION", "/run/s.json"}});
  auto inv = parse_args(Args{"whoami"}, env);
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_EQ(inv->gateway, "https://10.0.0.1:443");
  EXPECT_EQ(inv->ca, "/etc/alliance/ca.pem");
  EXPECT_EQ(inv->session, "/run/s.json");
  auto flagged = parse_args(Args{"whoami", "--session", "/tmp/mine.json", "--gateway", "https://127.0.0.1:1"}, env);
  ASSERT_TRUE(flagged);
  EXPECT_EQ(flagged->session, "/tmp/mine.json");
  EXPECT_EQ(flagged->gateway, "https://127.0.0.1:1");
}

TEST(ParseArgs, TwoWordCommandsWithRequiredAndOptionalOptions) {
  auto create = parse_args(
      Args{"user", "create", "--role", "front_desk", "--email", "f@example.org", "--name", "Fran"}, kHomeOnly);
  ASSERT_TRUE(create) << create.error().message;
  EXPECT_EQ(create->command, "user create");
  EXPECT_EQ(create->options.at("role"), "front_desk");
  EXPECT_EQ(create->options.count("password-file"), 0u);

  auto list = parse_args(Args{"user", "list"}, kHomeOnly);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->command, "user list");
  EXPECT_TRUE(list->options.empty());

  auto team = parse_args(Args{"care-team", "add", "--client", "c1", "--therapist", "t1"}, kHomeOnly);
  ASSERT_TRUE(team);
  EXPECT_EQ(team->command, "care-team add");

  auto practice = parse_args(Args{"practice", "create", "--name", "Riverside Counselling", "--slug", "riverside",
                                  "--admin-email", "a@r.org", "--admin-name", "Ada", "--operator-token-file",
                                  "/tmp/op", "--admin-password-file", "/tmp/pw"},
                             kHomeOnly);
  ASSERT_TRUE(practice) << practice.error().message;
  EXPECT_EQ(practice->options.at("name"), "Riverside Counselling");
  EXPECT_EQ(practice->options.at("admin-password-file"), "/tmp/pw");
}

// Each bad command line is refused with the option or "command" it is about.
TEST(ParseArgs, UsageErrorsNameWhatIsWrong) {
  struct Case {
    Args args;
    std::string field;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{}, "command", "no command"},
      {{"frobnicate"}, "command", "unknown command 'frobnicate'"},
      {{"user"}, "command", "needs a subcommand"},
      {{"user", "delete"}, "command", "unknown command 'user delete'"},
      {{"whoami", "extra"}, "command", "unexpected argument 'extra'"},
      {{"login", "--practice", "p"}, "email", "--email is required"},
      {{"login", "--practice", "p", "--email", "e", "--password", "hunter2"}, "password", "unknown option --password"},
      {{"user", "create", "--role", "superuser", "--email", "e", "--name", "n"}, "role", "must be one of"},
      {{"user", "list", "--role", "wizard"}, "role", "must be one of"},
      {{"care-team", "list"}, "client", "--client is required"},
      {{"login", "--practice", "p", "--email"}, "email", "needs a value"},
      {{"login", "--email", "--practice", "p"}, "email", "needs a value"},
      {{"login", "--practice", "p", "--practice", "q", "--email", "e"}, "practice", "given twice"},
      {{"login", "--practice=", "--email", "e"}, "practice", "must not be empty"},
      {{"-x", "whoami"}, "-x", "unknown option -x"},
  };
  for (const auto& c : cases) {
    auto inv = parse_args(c.args, kHomeOnly);
    std::string line;
    for (const auto& a : c.args) line += a + " ";
    ASSERT_FALSE(inv) << "accepted: " << line;
    EXPECT_EQ(inv.error().code, Code::kInvalidArgument) << line;
    EXPECT_EQ(inv.error().field, c.field) << line;
    EXPECT_NE(inv.error().message.find(c.says), std::string::npos) << line << "-> " << inv.error().message;
  }
}

TEST(ParseArgs, HelpNeedsNoCommandAndSkipsOptionChecks) {
  for (const Args& a : {Args{"--help"}, Args{"-h"}, Args{"help"}, Args{"user", "create", "--help"}}) {
    auto inv = parse_args(a, kHomeOnly);
    ASSERT_TRUE(inv) << a.front() << ": " << inv.error().message;
    EXPECT_TRUE(inv->help);
  }
  std::ostringstream out, err;
  EXPECT_EQ(run(*parse_args(Args{"--help"}, kHomeOnly), out, err), 0);
  EXPECT_NE(out.str().find("care-team add --client USER_ID --therapist USER_ID"), std::string::npos);
  EXPECT_TRUE(err.str().empty());
}

TEST(ErrorLine, IsOneLineWithTheFieldWhenThereIsOne) {
  EXPECT_EQ(error_line(invalid_argument("email", "email: must be an email address")),
            "error: email: must be an email address (field: email)");
  EXPECT_EQ(error_line(make_error(Code::kNotFound, "no such user")), "error: no such user");
  Error limited{Code::kResourceExhausted, "too many attempts", "", std::chrono::milliseconds(2500)};
  EXPECT_EQ(error_line(limited), "error: too many attempts (retry after 3 s)");
}

class SessionFile : public ::testing::Test {
 protected:
  alliance::testing::TempDir dir_;
  std::filesystem::path path() const { return dir_.path() / "cfg" / "alliance" / "session.json"; }
};

TEST_F(SessionFile, RoundTripsAndIsOwnerOnly) {
  Session s;
  s.gateway = "https://127.0.0.1:8443";
  s.ca_file = "/tmp/ca.pem";
  s.tokens = client::Tokens{"access", "refresh", 900, "u1", "p1", "admin"};
  ASSERT_TRUE(save_session(path(), s));

  struct stat st {};
  ASSERT_EQ(::stat(path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "session file holds tokens";
  ASSERT_EQ(::stat(path().parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u) << "a created folder is owner-only";

  auto back = load_session(path());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->gateway, s.gateway);
  EXPECT_EQ(back->ca_file, s.ca_file);
  EXPECT_EQ(back->tokens.access_token, "access");
  EXPECT_EQ(back->tokens.refresh_token, "refresh");
  EXPECT_EQ(back->tokens.expires_in, 900);
  EXPECT_EQ(back->tokens.user_id, "u1");
  EXPECT_EQ(back->tokens.practice_id, "p1");
  EXPECT_EQ(back->tokens.role, "admin");

  // Replacing keeps the mode and leaves no temp files behind.
  s.tokens.access_token = "access2";
  ASSERT_TRUE(save_session(path(), s));
  EXPECT_EQ(load_session(path())->tokens.access_token, "access2");
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(path().parent_path())) ++files;
  EXPECT_EQ(files, 1);

  ASSERT_TRUE(remove_session(path()));
  EXPECT_EQ(load_session(path()).error().code, Code::kNotFound);
  EXPECT_TRUE(remove_session(path())) << "removing twice is fine";
}

TEST_F(SessionFile, CorruptFileIsReportedNotIgnored) {
  std::filesystem::create_directories(path().parent_path());
  std::ofstream(path()) << "{not json";
  auto s = load_session(path());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().field, "session");

  std::ostringstream out, err;
  auto inv = parse_args(Args{"--session", path().string(), "whoami"}, kHomeOnly);
  ASSERT_TRUE(inv);
  EXPECT_EQ(run(*inv, out, err), 1);
  EXPECT_NE(err.str().find("is not valid JSON"), std::string::npos) << err.str();
}

TEST_F(SessionFile, CommandsNeedingASessionSayHowToGetOne) {
  std::ostringstream out, err;
  auto inv = parse_args(Args{"--session", path().string(), "--gateway", "https://127.0.0.1:1", "user", "list"},
                        kHomeOnly);
  ASSERT_TRUE(inv);
  EXPECT_EQ(run(*inv, out, err), 1);
  EXPECT_EQ(err.str(), "error: not logged in: run 'alliancectl login' first\n");
  EXPECT_TRUE(out.str().empty());
}

TEST_F(SessionFile, MissingOrPlainHttpGatewayIsAUsageError) {
  std::filesystem::create_directories(dir_.path());
  auto pw = dir_.path() / "pw";
  std::ofstream(pw) << "correct horse\n";
  {
    std::ostringstream out, err;
    auto inv = parse_args(
        Args{"--session", path().string(), "login", "--practice", "p", "--email", "e", "--password-file", pw.string()},
        kHomeOnly);
    ASSERT_TRUE(inv);
    EXPECT_EQ(run(*inv, out, err), 2);
    EXPECT_NE(err.str().find("(field: gateway)"), std::string::npos) << err.str();
    EXPECT_NE(err.str().find("usage:"), std::string::npos);
  }
  {
    std::ostringstream out, err;
    auto inv = parse_args(Args{"--session", path().string(), "--gateway", "http://127.0.0.1:8443", "login",
                               "--practice", "p", "--email", "e", "--password-file", pw.string()},
                          kHomeOnly);
    ASSERT_TRUE(inv);
    EXPECT_EQ(run(*inv, out, err), 2);
    EXPECT_NE(err.str().find("plain http is not supported"), std::string::npos) << err.str();
  }
  EXPECT_FALSE(std::filesystem::exists(path())) << "a failed login writes no session";
}

TEST_F(SessionFile, UnreadablePasswordFileNamesTheOption) {
  std::ostringstream out, err;
  auto inv = parse_args(Args{"--session", path().string(), "--gateway", "https://127.0.0.1:1", "login", "--practice",
                             "p", "--email", "e", "--password-file", (dir_.path() / "missing").string()},
                        kHomeOnly);
  ASSERT_TRUE(inv);
  EXPECT_EQ(run(*inv, out, err), 1);
  EXPECT_NE(err.str().find("(field: password-file)"), std::string::npos) << err.str();
}

}  // namespace
}  // namespace alliance::ctl
