// alliancectl's command line, session file (with the user's identity key, trust store
// and integrity state) and the failures it reports before (or without) reaching a
// gateway, and what the identity and message commands print.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <functional>
#include <sstream>

#include "alliance/client/wire.hpp"
#include "alliance/crypto/identity_keys.hpp"
#include "alliance/crypto/message_seal.hpp"
#include "cli.hpp"
#include "commands.hpp"
#include "identity_commands.hpp"
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
// Each command line is refused as a usage error naming `field`, with `says` in its message.
struct UsageCase {
  Args args;
  std::string field;
  std::string says;
};
void expect_usage_errors(const std::vector<UsageCase>& cases) {
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

TEST(ParseArgs, UsageErrorsNameWhatIsWrong) {
  expect_usage_errors({
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
  });
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

// What the session file holds, for the tests below.
std::string file_text(const std::filesystem::path& p) {
  std::stringstream ss;
  ss << std::ifstream(p).rdbuf();
  return ss.str();
}

client::Device device_of(const std::string& user) {
  client::Device d;
  d.id = "dev1";
  d.user_id = user;
  d.name = "laptop";
  d.keys = crypto::generate_device_keys();
  return d;
}

// Kim's identity key pinned and verified, and a practice key fingerprint pinned at intake.
client::TrustStore kims_trust(const std::string& kim_key) {
  client::TrustStore trust;
  EXPECT_TRUE(trust.accept_identity("u-kim", kim_key));
  EXPECT_TRUE(trust.mark_verified("u-kim", kim_key));
  EXPECT_TRUE(trust.pin_practice_fingerprint("p1", crypto::key_fingerprint(std::string(32, 'p'))));
  return trust;
}

// A conversation in which this device sent one format 2 message (counter 1).
client::ConversationIntegrity one_sent(const std::string& conversation) {
  client::ConversationIntegrity integrity(conversation, client::ReaderStart::kFromFirstMessage);
  crypto::MessageHeaderV2 header;
  header.sender_user_id = "u1";
  header.counter = 1;
  header.sent_unix_ms = 1'700'000'000'000;
  header.recipient_device_ids = {"dev1", "dev-kim"};
  EXPECT_TRUE(integrity.record_own(1, "m1", "dev1", header, std::string(32, 'h')));
  return integrity;
}

class SessionFile : public ::testing::Test {
 protected:
  alliance::testing::TempDir dir_;
  std::filesystem::path path() const { return dir_.path() / "cfg" / "alliance" / "session.json"; }

  // Runs alliancectl with this session file (its gateway is the session's).
  int run_ctl(const Args& args, std::string* out_text = nullptr, std::string* err_text = nullptr) {
    Args all = {"--session", path().string()};
    all.insert(all.end(), args.begin(), args.end());
    auto inv = parse_args(all, kHomeOnly);
    EXPECT_TRUE(inv) << inv.error().message;
    if (!inv) return -1;
    std::ostringstream out, err;
    int code = run(*inv, out, err);
    if (out_text) *out_text = out.str();
    if (err_text) *err_text = err.str();
    return code;
  }
  // Logged in with a device; nothing listens at the gateway: commands fail after loading the session.
  static Session logged_in() {
    Session s;
    s.gateway = "https://127.0.0.1:1";
    s.tokens = client::Tokens{"access", "refresh", 900, "u1", "p1", "client"};
    s.device = device_of("u1");
    return s;
  }
  // ... holding the user's identity key, Kim's verified key and conversation c1's state.
  static Session with_identity() {
    Session s = logged_in();
    s.identity = client::UserIdentity{"u1", crypto::generate_identity_key()};
    s.trust = kims_trust(crypto::generate_identity_key().public_key);
    s.integrity.emplace("c1", one_sent("c1"));
    return s;
  }
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

TEST_F(SessionFile, KeepsTheIdentityKeyTrustAndIntegrityOwnerOnly) {
  const Session s = with_identity();
  const std::string kim_key = s.trust.identity("u-kim")->public_key;
  ASSERT_TRUE(save_session(path(), s));

  struct stat st {};
  ASSERT_EQ(::stat(path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the file holds the identity key";
  const auto text = file_text(path());
  EXPECT_NE(text.find(client::base64_encode(s.identity->key.private_seed)), std::string::npos) << "base64";
  EXPECT_NE(text.find("identity key"), std::string::npos) << "the comment says it holds the identity key";

  auto back = load_session(path());
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_TRUE(back->identity.has_value());
  EXPECT_EQ(back->identity->user_id, "u1");
  EXPECT_EQ(back->identity->key.private_seed, s.identity->key.private_seed);
  EXPECT_EQ(back->identity->key.public_key, s.identity->key.public_key);
  EXPECT_EQ(back->trust.identity_status("u-kim"), client::IdentityStatus::kVerified);
  ASSERT_NE(back->trust.identity("u-kim"), nullptr);
  EXPECT_EQ(back->trust.identity("u-kim")->public_key, kim_key);
  EXPECT_EQ(back->trust.practice_fingerprint("p1"), crypto::key_fingerprint(std::string(32, 'p')));
  ASSERT_EQ(back->integrity.size(), 1u);
  const auto& integrity = back->integrity.at("c1");
  EXPECT_EQ(integrity.next_counter("dev1"), 2u) << "the next message goes on from counter 1";
  EXPECT_EQ(integrity.last_hash(), std::string(32, 'h'));
  EXPECT_EQ(integrity.reader_start(), client::ReaderStart::kFromFirstMessage);
  EXPECT_EQ(integrity.to_json(), s.integrity.at("c1").to_json());
}

TEST_F(SessionFile, OldFilesWithoutThemLoadAndStayWithout) {
  // A file as alliancectl wrote it before identity keys: a device and pins only.
  const client::Device d = device_of("u1");
  const client::PeerDevice kim = peer("dev-kim", "u-kim");
  auto b64 = [](const std::string& s) { return client::base64_encode(s); };
  std::filesystem::create_directories(path().parent_path());
  std::ofstream(path()) << R"({"comment":"alliancectl session","gateway":"https://127.0.0.1:1","access_token":"a",)"
                        << R"("user_id":"u1","device":{"id":"dev1","user_id":"u1","name":"laptop","signing_private":")"
                        << b64(d.keys.signing_private) << R"(","signing_public":")" << b64(d.keys.signing_public)
                        << R"(","agreement_private":")" << b64(d.keys.agreement_private)
                        << R"(","agreement_public":")" << b64(d.keys.agreement_public)
                        << R"(","agreement_signature":")" << b64(d.keys.agreement_signature)
                        << R"("},"cursors":{"c1":3},"pins":)"
                        << boost::json::serialize(client::peer_devices_to_json({kim})) << "}";
  auto old = load_session(path());
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_FALSE(old->identity.has_value());
  EXPECT_EQ(old->trust.to_json(), client::TrustStore().to_json());
  EXPECT_TRUE(old->integrity.empty());
  ASSERT_TRUE(old->device.has_value());
  EXPECT_EQ(old->device->keys.signing_private, d.keys.signing_private);
  ASSERT_EQ(old->pins.size(), 1u);
  EXPECT_EQ(old->cursors.at("c1"), 3);

  // Saved again (and after a command on it), it gains none of them: a device without
  // the identity key sends format 1 and keeps no trust store or integrity state.
  ASSERT_TRUE(save_session(path(), *old));
  EXPECT_EQ(run_ctl({"message", "sync", "--conversation", "c1"}), 1) << "the gateway is unreachable";
  const auto text = file_text(path());
  for (const char* key : {"\"identity\"", "\"trust\"", "\"integrity\""}) {
    EXPECT_EQ(text.find(key), std::string::npos) << key << " in " << text;
  }
  auto again = load_session(path());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->pins.size(), 1u);
  EXPECT_EQ(again->cursors.at("c1"), 3);
}

TEST_F(SessionFile, EachCommandLoadsTheStateIntoItsMessengerAndSavesIt) {
  const Session s = with_identity();
  ASSERT_TRUE(save_session(path(), s));
  ASSERT_EQ(s.trust.identity("u1"), nullptr) << "the user's own key is not pinned yet";

  std::string out, err;
  EXPECT_EQ(run_ctl({"message", "sync", "--conversation", "c1"}, &out, &err), 1) << "the gateway is unreachable";
  auto after = load_session(path());
  ASSERT_TRUE(after) << after.error().message;
  // What the Messenger held was saved: the user's own key pinned by it, Kim's verified
  // pin loaded from the file (a fresh trust store would have lost it) ...
  ASSERT_NE(after->trust.identity("u1"), nullptr) << "the Messenger's trust store was not saved";
  EXPECT_EQ(after->trust.identity("u1")->public_key, s.identity->key.public_key);
  EXPECT_EQ(after->trust.identity_status("u-kim"), client::IdentityStatus::kVerified);
  // ... and the conversation's integrity state, which a Messenger that had not loaded
  // it would have handed back empty.
  ASSERT_EQ(after->integrity.count("c1"), 1u);
  EXPECT_EQ(after->integrity.at("c1").to_json(), s.integrity.at("c1").to_json());
  ASSERT_TRUE(after->identity.has_value());
  EXPECT_EQ(after->identity->key.private_seed, s.identity->key.private_seed);
}

TEST_F(SessionFile, DamagedIdentityTrustOrIntegrityIsReportedNotUsed) {
  ASSERT_TRUE(save_session(path(), with_identity()));
  auto good = boost::json::parse(file_text(path())).as_object();

  struct Case {
    std::string name;
    std::function<void(boost::json::object&)> damage;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"another public key",
       [](auto& o) {
         o["identity"].as_object()["public_key"] =
             client::base64_encode(crypto::generate_identity_key().public_key);
       },
       "identity.public_key is not the public key of identity.private_seed"},
      {"short seed",
       [](auto& o) { o["identity"].as_object()["private_seed"] = client::base64_encode(std::string(31, 's')); },
       "identity.private_seed"},
      {"no user", [](auto& o) { o["identity"].as_object().erase("user_id"); }, "\"identity\" has no user_id"},
      {"trust version", [](auto& o) { o["trust"].as_object()["version"] = 99; }, "\"trust\""},
      {"trust key",
       [](auto& o) { o["trust"].as_object()["identities"].as_array()[0].as_object()["public_key"] = "%%"; },
       "\"trust\""},
      {"integrity under another id",
       [](auto& o) {
         auto state = o["integrity"].as_object()["c1"];
         o["integrity"].as_object()["c2"] = state;
       },
       "\"integrity.c2\" is the state of conversation c1"},
      {"integrity not an object", [](auto& o) { o["integrity"] = boost::json::array{}; }, "\"integrity\""},
  };
  for (const auto& c : cases) {
    auto o = good;
    c.damage(o);
    std::ofstream(path(), std::ios::trunc) << boost::json::serialize(o);
    auto damaged = load_session(path());
    ASSERT_FALSE(damaged) << c.name;
    EXPECT_EQ(damaged.error().field, "session") << c.name;
    EXPECT_NE(damaged.error().message.find(c.says), std::string::npos) << c.name << ": " << damaged.error().message;
  }
}

TEST_F(SessionFile, ApprovingAndVerifyingNeedTheIdentityKeyAndSaySoBeforeAnyRequest) {
  ASSERT_TRUE(save_session(path(), logged_in()));  // a device, no identity key (awaiting approval)
  for (const Args& a : {Args{"device", "approve", "--id", "dev2", "--code", "123456"},
                        Args{"conversation", "verify", "--id", "c1"},
                        Args{"conversation", "accept-identity", "--id", "c1", "--unverify"}}) {
    std::string out, err;
    EXPECT_EQ(run_ctl(a, &out, &err), 1) << a[1];
    EXPECT_NE(err.find("this device holds no identity key: run 'alliancectl device identity'"), std::string::npos)
        << err;
    EXPECT_NE(err.find("(field: identity)"), std::string::npos) << err;
    EXPECT_TRUE(out.empty()) << out;
  }
  Session no_device = logged_in();
  no_device.device.reset();
  ASSERT_TRUE(save_session(path(), no_device));
  for (const Args& a : {Args{"device", "identity"}, Args{"device", "approve", "--id", "d", "--code", "000000"},
                        Args{"conversation", "verify", "--id", "c1"}}) {
    std::string err;
    EXPECT_EQ(run_ctl(a, nullptr, &err), 1) << a[1];
    EXPECT_NE(err.find("run 'alliancectl device register' first (field: device)"), std::string::npos) << err;
  }
}

TEST(ParseArgs, DeviceApprovalAndSafetyNumberCommands) {
  auto approve = parse_args(Args{"device", "approve", "--id", "dev2", "--code", "012345"}, kHomeOnly);
  ASSERT_TRUE(approve) << approve.error().message;
  EXPECT_EQ(approve->command, "device approve");
  EXPECT_EQ(approve->options.at("id"), "dev2");
  EXPECT_EQ(approve->options.at("code"), "012345") << "a leading zero is kept";
  for (const char* cmd : {"identity", "pending"}) {
    auto inv = parse_args(Args{"device", cmd}, kHomeOnly);
    ASSERT_TRUE(inv) << cmd << ": " << inv.error().message;
    EXPECT_EQ(inv->command, std::string("device ") + cmd);
  }

  // Flags take no value, wherever they stand: --qr does not swallow --id.
  auto verify = parse_args(Args{"conversation", "verify", "--qr", "--id", "c1", "--mark-verified"}, kHomeOnly);
  ASSERT_TRUE(verify) << verify.error().message;
  EXPECT_EQ(verify->command, "conversation verify");
  EXPECT_EQ(verify->options.at("id"), "c1");
  EXPECT_TRUE(verify->flag("qr"));
  EXPECT_TRUE(verify->flag("mark-verified"));
  auto plain = parse_args(Args{"conversation", "verify", "--id", "c1"}, kHomeOnly);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->flag("qr"));
  EXPECT_FALSE(plain->flag("mark-verified"));
  auto accept = parse_args(Args{"conversation", "accept-identity", "--unverify", "--id", "c1"}, kHomeOnly);
  ASSERT_TRUE(accept) << accept.error().message;
  EXPECT_TRUE(accept->flag("unverify"));
  EXPECT_EQ(accept->options.at("id"), "c1");
}

TEST(ParseArgs, DeviceApprovalAndSafetyNumberUsageErrorsNameTheOption) {
  expect_usage_errors({
      {{"device", "approve", "--code", "123456"}, "id", "--id is required for 'device approve'"},
      {{"device", "approve", "--id", "dev2"}, "code", "--code is required for 'device approve'"},
      {{"device", "approve", "--id", "dev2", "--code", "12345"}, "code", "6 digits the new device shows"},
      {{"device", "approve", "--id", "dev2", "--code", "12345a"}, "code", "not '12345a'"},
      {{"device", "approve", "--id", "dev2", "--code", "123 456"}, "code", "6 digits"},
      {{"device", "pending", "--id", "x"}, "id", "unknown option --id for 'device pending'"},
      {{"conversation", "verify"}, "id", "--id is required for 'conversation verify'"},
      {{"conversation", "verify", "--qr"}, "id", "--id is required"},
      {{"conversation", "verify", "--id", "c1", "--qr=yes"}, "qr", "--qr takes no value"},
      {{"conversation", "verify", "--id", "c1", "--unverify"}, "unverify",
       "unknown option --unverify for 'conversation verify'"},
      {{"conversation", "accept-identity"}, "id", "--id is required for 'conversation accept-identity'"},
      {{"conversation", "accept-identity", "--id", "c1", "--mark-verified"}, "mark-verified", "unknown option"},
      {{"message", "sync", "--conversation", "c1", "--qr"}, "qr", "unknown option --qr for 'message sync'"},
  });
}

TEST(Usage, ListsTheIdentityCommands) {
  const std::string text = usage();
  for (const char* line : {"device identity", "device pending", "device approve --id DEVICE_ID --code CODE",
                           "conversation verify --id CONVERSATION_ID [--mark-verified] [--qr]",
                           "conversation accept-identity --id CONVERSATION_ID [--unverify]"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }
}

TEST(IdentityText, SaysWhereTheDeviceStandsAndHowToApproveIt) {
  EXPECT_EQ(identity_state_line(IdentityState::kFirstDevice, "d1", ""),
            "identity key ready (this is the user's first device)\n");
  EXPECT_EQ(identity_state_line(IdentityState::kReceived, "d1", ""),
            "identity key received: this device is approved\n");
  EXPECT_EQ(identity_state_line(IdentityState::kAwaitingApproval, "d1", "012345"),
            "this device awaits approval: on a device you already use, run `alliancectl device approve --id d1 "
            "--code 012345` after checking this code: 012345\n");
  EXPECT_EQ(identity_state_name(IdentityState::kAwaitingApproval), "awaiting_approval");

  using S = client::IdentityStatus;
  EXPECT_EQ(peer_status_word(S::kNew, false), "new");
  EXPECT_EQ(peer_status_word(S::kPinned, false), "new") << "pinned by this very command";
  EXPECT_EQ(peer_status_word(S::kPinned, true), "pinned");
  EXPECT_EQ(peer_status_word(S::kVerified, true), "verified");
  EXPECT_EQ(peer_status_word(S::kChanged, true), "CHANGED");
  EXPECT_EQ(peer_status_word(S::kVerifiedChanged, true), "CHANGED");
}

TEST(MessageLines, ShowIntegrityLinesUnderAMessageAndHideDuplicates) {
  const Reader ana{"u1", "dev1"};
  client::ReceivedMessage m;
  m.conversation_id = "c1";
  m.seq = 8;
  m.message_id = "m8";
  m.sender_user_id = "u-kim";
  m.sender_device_id = "dev-kim";
  m.sent_unix_ms = 1'764'124'680'000;  // 2025-11-26 02:38Z
  m.kind = "user";
  m.format = 2;
  m.plaintext = "See you Friday.";
  m.integrity = {"a message from device dev-kim is missing (counter 7)", "forged\x1b[2J line"};
  EXPECT_EQ(message_lines(m, ana),
            "#8 2025-11-26 02:38Z u-kim: See you Friday.\n"
            "    ! a message from device dev-kim is missing (counter 7)\n"
            "    ! forged\\x1b[2J line\n");
  EXPECT_EQ(message_lines(m, Reader{"u-kim", "dev-kim2"}, "conversation c1 ")
                .rfind("conversation c1 #8 2025-11-26 02:38Z you: See you Friday.\n", 0),
            0u);

  // A message seen before under its id: not shown again ...
  client::ReceivedMessage again = m;
  again.duplicate = true;
  again.plaintext.clear();
  again.integrity.clear();
  EXPECT_FALSE(shown(again, ana));
  EXPECT_EQ(message_lines(again, ana), "") << "a message shown before under its id is not shown again";
  // ... but a replay says so, without the message ...
  again.integrity = {"message m8 from device dev-kim was delivered again at seq 9"};
  EXPECT_TRUE(shown(again, ana));
  EXPECT_EQ(message_lines(again, ana), "    ! message m8 from device dev-kim was delivered again at seq 9\n");
  // ... and a plain redelivery prints nothing at all.
  client::ReceivedMessage redelivered = again;
  redelivered.integrity.clear();
  EXPECT_EQ(message_lines(redelivered, ana), "");

  client::ReceivedMessage refused = m;
  refused.plaintext.clear();
  refused.error = "signed after its device was revoked";
  refused.integrity = {"a message from device dev-kim was signed after its revocation"};
  EXPECT_EQ(message_lines(refused, ana),
            "#8 2025-11-26 02:38Z u-kim: [cannot open: signed after its device was revoked]\n"
            "    ! a message from device dev-kim was signed after its revocation\n");
}

}  // namespace
}  // namespace alliance::ctl
