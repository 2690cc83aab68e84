// alliancectl's command line, session file and the failures it reports before
// (or without) reaching a gateway.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "alliance/client/wire.hpp"
#include "alliance/crypto/message_seal.hpp"
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
      {{"messaging"}, "command", "'messaging' needs a subcommand"},
      {{"messaging", "hours"}, "command", "'messaging hours' needs a subcommand"},
      {{"messaging", "hours", "delete"}, "command", "unknown command 'messaging hours delete'"},
      {{"device", "revoke"}, "id", "--id is required"},
      {{"device", "revoke", "--id", "a", "--id", "b"}, "id", "given twice"},
      {{"conversation", "open", "--client", "c"}, "therapist", "--therapist is required"},
      {{"message", "send", "--conversation", "c"}, "text", "exactly one of --text-file"},
      {{"message", "send", "--conversation", "c", "--text", "hi", "--text-file", "/tmp/m"}, "text", "exactly one"},
      {{"message", "send", "--text", "hi"}, "conversation", "--conversation is required"},
      {{"message", "read", "--conversation", "c", "--seq", "three"}, "seq", "must be a whole number"},
      {{"message", "read", "--conversation", "c", "--seq", "-1"}, "seq", "must be a whole number"},
      {{"message", "sync", "--conversation", "c", "--seq", "1"}, "seq", "unknown option --seq"},
      {{"messaging", "hours", "set", "--therapist", "t", "--time-zone", "Europe/Paris"},
       "window",
       "--window is required"},
      {{"messaging", "hours", "set", "--therapist", "t", "--time-zone", "Z", "--window", "1 09:00 17:00", "--window",
        "7 09:00 17:00"},
       "window", "weekday must be 0 (Sunday) to 6"},
      {{"messaging", "hours", "set", "--therapist", "t", "--time-zone", "Z", "--window", "1 17:00 09:00"}, "window",
       "must be after start"},
      {{"messaging", "hours", "set", "--therapist", "t", "--time-zone", "Z", "--window", "1 9:00 17:00"}, "window",
       "start must be HH:MM"},
      {{"messaging", "hours", "set", "--therapist", "t", "--time-zone", "Z", "--window", "1 09:00 17:00",
        "--expected-reply-hours", "a day"},
       "expected-reply-hours", "must be a whole number"},
      {{"messaging", "policy", "set"}, "command", "give at least one of"},
      {{"messaging", "policy", "set", "--retention-days", "30d"}, "retention-days", "must be a whole number"},
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

TEST(ParseArgs, MessagingCommandsOfTwoAndThreeWords) {
  auto reg = parse_args(Args{"device", "register"}, kHomeOnly);
  ASSERT_TRUE(reg) << reg.error().message;
  EXPECT_EQ(reg->command, "device register");

  auto send = parse_args(Args{"message", "send", "--conversation", "c1", "--text", "-"}, kHomeOnly);
  ASSERT_TRUE(send) << send.error().message;
  EXPECT_EQ(send->command, "message send");
  EXPECT_EQ(send->options.at("text"), "-") << "a lone '-' is a value (stdin), not an option";

  auto from_file = parse_args(Args{"message", "send", "--conversation", "c1", "--text-file", "/tmp/m.txt"}, kHomeOnly);
  ASSERT_TRUE(from_file) << from_file.error().message;
  EXPECT_EQ(from_file->options.at("text-file"), "/tmp/m.txt");

  auto hours = parse_args(Args{"messaging", "hours", "set", "--therapist", "t1", "--time-zone", "America/New_York",
                               "--window", "1 09:00 17:00", "--window=wed 12:00 20:00", "--expected-reply-hours", "24"},
                          kHomeOnly);
  ASSERT_TRUE(hours) << hours.error().message;
  EXPECT_EQ(hours->command, "messaging hours set");
  EXPECT_EQ(hours->lists.at("window"), (std::vector<std::string>{"1 09:00 17:00", "wed 12:00 20:00"}));
  EXPECT_EQ(hours->options.count("window"), 0u);
  EXPECT_EQ(hours->options.at("expected-reply-hours"), "24");

  auto policy = parse_args(Args{"messaging", "policy", "set", "--retention-days", "365"}, kHomeOnly);
  ASSERT_TRUE(policy) << policy.error().message;
  EXPECT_EQ(policy->command, "messaging policy set");
  auto erasures = parse_args(Args{"messaging", "erasures"}, kHomeOnly);
  ASSERT_TRUE(erasures) << erasures.error().message;
}

TEST(ParseWindow, AcceptsNumbersNamesAndMidnightEnd) {
  auto w = parse_window("1 09:00 17:00");
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w->weekday, 1);
  EXPECT_EQ(w->start, "09:00");
  EXPECT_EQ(w->end, "17:00");
  auto sat = parse_window("  Sat  00:00   24:00 ");
  ASSERT_TRUE(sat) << sat.error().message;
  EXPECT_EQ(sat->weekday, 6);
  EXPECT_EQ(sat->end, "24:00");
  EXPECT_EQ(parse_window("sun 08:30 12:00")->weekday, 0);
  for (const char* bad : {"", "1", "1 09:00", "1 09:00 17:00 x", "-1 09:00 17:00", "10 09:00 17:00",
                          "monday 09:00 17:00", "1 24:00 24:00", "1 09:60 17:00", "1 09:00 17:5", "1 12:00 12:00",
                          "1 0900 1700", "1 ab:cd 17:00"}) {
    auto r = parse_window(bad);
    ASSERT_FALSE(r) << "accepted: '" << bad << "'";
    EXPECT_EQ(r.error().field, "window") << bad;
  }
}

TEST(TerminalSafe, EscapesControlsKeepsTextAndIndentsLines) {
  const std::string unicode = "See you Tuesday \xc3\xa0 10h \xf0\x9f\x99\x82";
  EXPECT_EQ(terminal_safe(unicode), unicode);
  EXPECT_EQ(terminal_safe("a\x1b[2Jb"), "a\\x1b[2Jb") << "no terminal escape reaches the screen";
  EXPECT_EQ(terminal_safe("x\ry\x7f"), "x\\x0dy\\x7f");
  EXPECT_EQ(terminal_safe("\xc2\x9b" "31m"), "\\u009b31m") << "C1 CSI";
  EXPECT_EQ(terminal_safe("line one\nline two", "  "), "line one\n  line two");
  EXPECT_EQ(terminal_safe("tab\tkept"), "tab\tkept");
  EXPECT_EQ(terminal_safe("trailing \xc2"), "trailing \xc2") << "a cut UTF-8 sequence is left as is";
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
  EXPECT_NE(out.str().find("message sync --conversation ID"), std::string::npos);
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

TEST_F(SessionFile, KeepsTheDeviceKeysAndCursorsOwnerOnlyAndSaysSo) {
  Session s;
  s.gateway = "https://127.0.0.1:8443";
  s.tokens = client::Tokens{"access", "refresh", 900, "u1", "p1", "client"};
  client::Device d;
  d.id = "dev1";
  d.user_id = "u1";
  d.name = "laptop";
  d.keys = crypto::generate_device_keys();
  s.device = d;
  s.cursors["conv-a"] = 7;
  s.cursors["conv-b"] = 0;
  ASSERT_TRUE(save_session(path(), s));

  struct stat st {};
  ASSERT_EQ(::stat(path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the file holds private keys";
  std::stringstream text;
  text << std::ifstream(path()).rdbuf();
  EXPECT_NE(text.str().find("\"comment\""), std::string::npos);
  EXPECT_NE(text.str().find("0600"), std::string::npos) << "the comment says the file is owner-only";
  EXPECT_NE(text.str().find(client::base64_encode(d.keys.agreement_private)), std::string::npos) << "base64";

  auto back = load_session(path());
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_TRUE(back->device.has_value());
  EXPECT_EQ(back->device->id, "dev1");
  EXPECT_EQ(back->device->user_id, "u1");
  EXPECT_EQ(back->device->name, "laptop");
  EXPECT_EQ(back->device->keys.signing_private, d.keys.signing_private);
  EXPECT_EQ(back->device->keys.signing_public, d.keys.signing_public);
  EXPECT_EQ(back->device->keys.agreement_private, d.keys.agreement_private);
  EXPECT_EQ(back->device->keys.agreement_public, d.keys.agreement_public);
  EXPECT_EQ(back->device->keys.agreement_signature, d.keys.agreement_signature);
  EXPECT_EQ(back->cursors, s.cursors);

  // A session without a device stays without one.
  Session plain;
  plain.tokens.access_token = "a";
  ASSERT_TRUE(save_session(path(), plain));
  EXPECT_FALSE(load_session(path())->device.has_value());
}

TEST_F(SessionFile, DamagedDeviceKeysAreReportedNotUsed) {
  std::filesystem::create_directories(path().parent_path());
  std::string good = client::base64_encode(std::string(32, 'k'));
  std::string sig = client::base64_encode(std::string(64, 's'));
  auto file = [&](const std::string& agreement_private) {
    return "{\"access_token\":\"a\",\"device\":{\"id\":\"d\",\"signing_private\":\"" + good +
           "\",\"signing_public\":\"" + good + "\",\"agreement_private\":\"" + agreement_private +
           "\",\"agreement_public\":\"" + good + "\",\"agreement_signature\":\"" + sig + "\"}}";
  };
  std::ofstream(path()) << file(good);
  ASSERT_TRUE(load_session(path())) << "well-formed";
  for (const std::string& bad : {std::string("not base64!"), client::base64_encode(std::string(31, 'k')),
                                 std::string()}) {
    std::ofstream(path(), std::ios::trunc) << file(bad);
    auto s = load_session(path());
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().field, "session");
    EXPECT_NE(s.error().message.find("device.agreement_private"), std::string::npos) << s.error().message;
  }
}

TEST_F(SessionFile, MessagingWithoutADeviceSaysHowToRegisterOne) {
  Session s;
  s.gateway = "https://127.0.0.1:1";
  s.tokens = client::Tokens{"access", "refresh", 900, "u1", "p1", "client"};
  ASSERT_TRUE(save_session(path(), s));
  auto text = dir_.path() / "msg.txt";
  std::ofstream(text) << "hello\n";
  for (const Args& a : {Args{"message", "send", "--conversation", "c1", "--text-file", text.string()},
                        Args{"message", "sync", "--conversation", "c1"}}) {
    std::ostringstream out, err;
    Args all = {"--session", path().string()};
    all.insert(all.end(), a.begin(), a.end());
    auto inv = parse_args(all, kHomeOnly);
    ASSERT_TRUE(inv) << inv.error().message;
    EXPECT_EQ(run(*inv, out, err), 1) << a[1];
    EXPECT_NE(err.str().find("run 'alliancectl device register' first (field: device)"), std::string::npos)
        << err.str();
    EXPECT_TRUE(out.str().empty());
  }
  // The text is read (and checked) before anything is sent.
  std::ofstream(text, std::ios::trunc) << "\n";
  std::ostringstream out, err;
  auto empty = parse_args(
      Args{"--session", path().string(), "message", "send", "--conversation", "c1", "--text-file", text.string()},
      kHomeOnly);
  ASSERT_TRUE(empty);
  EXPECT_EQ(run(*empty, out, err), 1);
  EXPECT_NE(err.str().find("the message is empty (field: text-file)"), std::string::npos) << err.str();
}

// A device's public part as the server lists it; `signed_ok` false gives an agreement
// key its signing key never signed.
client::PeerDevice peer(const std::string& id, const std::string& user, bool signed_ok = true) {
  auto keys = crypto::generate_device_keys();
  client::PeerDevice p;
  p.id = id;
  p.user_id = user;
  p.name = id + "'s device";
  p.signing_public = keys.signing_public;
  p.agreement_public = signed_ok ? keys.agreement_public : crypto::generate_device_keys().agreement_public;
  p.agreement_signature = keys.agreement_signature;
  return p;
}

TEST_F(SessionFile, KeepsPinnedDevicesAndEachCommandLoadsAndSavesThem) {
  Session s;
  s.gateway = "https://127.0.0.1:1";  // nothing listens: the command fails after loading its pins
  s.tokens = client::Tokens{"access", "refresh", 900, "u1", "p1", "client"};
  client::Device d;
  d.id = "dev1";
  d.user_id = "u1";
  d.name = "laptop";
  d.keys = crypto::generate_device_keys();
  s.device = d;
  auto kim = peer("dev-kim", "u-kim");
  kim.revoked_unix_ms = 1'700'000'000'000;  // an inactive device is kept to verify its old messages
  auto forged = peer("dev-forged", "u-kim", false);
  s.pins = {kim, forged};
  ASSERT_TRUE(save_session(path(), s));

  auto back = load_session(path());
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->pins.size(), 2u);
  EXPECT_EQ(back->pins[0].id, "dev-kim");
  EXPECT_EQ(back->pins[0].user_id, "u-kim");
  EXPECT_EQ(back->pins[0].signing_public, kim.signing_public);
  EXPECT_EQ(back->pins[0].agreement_public, kim.agreement_public);
  EXPECT_EQ(back->pins[0].agreement_signature, kim.agreement_signature);
  EXPECT_EQ(back->pins[0].revoked_unix_ms, kim.revoked_unix_ms);
  EXPECT_EQ(back->pins[1].id, "dev-forged");

  // A command with the device loads the pins into its Messenger and saves what the
  // Messenger holds afterwards: the pin that fails verification is gone, Kim's stays.
  std::ostringstream out, err;
  auto inv = parse_args(Args{"--session", path().string(), "message", "sync", "--conversation", "c1"}, kHomeOnly);
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_EQ(run(*inv, out, err), 1) << "the gateway is unreachable";
  auto after = load_session(path());
  ASSERT_TRUE(after) << after.error().message;
  ASSERT_EQ(after->pins.size(), 1u);
  EXPECT_EQ(after->pins[0].id, "dev-kim");
  EXPECT_EQ(after->pins[0].signing_public, kim.signing_public);
  EXPECT_EQ(after->tokens.access_token, "access") << "the rest of the session is kept";
  ASSERT_TRUE(after->device.has_value());
  EXPECT_EQ(after->device->keys.signing_private, d.keys.signing_private);

  // A pins entry that is not a list of devices is a damaged file, not an empty list.
  for (const std::string& bad : {std::string(R"("pins":{"id":"x"})"), std::string(R"("pins":[{"name":"no id"}])"),
                                 std::string(R"("pins":[{"id":"x","signing_public_key":"%%"}])")}) {
    std::ofstream(path(), std::ios::trunc) << "{\"access_token\":\"a\"," << bad << "}";
    auto damaged = load_session(path());
    ASSERT_FALSE(damaged) << bad;
    EXPECT_EQ(damaged.error().field, "session");
    EXPECT_NE(damaged.error().message.find("pins"), std::string::npos) << damaged.error().message;
  }
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
