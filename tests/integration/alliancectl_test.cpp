// The admin CLI bootstraps a practice through the public API of real processes.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <fstream>
#include <regex>
#include <sstream>

#include "alliance/client/device.hpp"
#include "alliance/client/user_identity.hpp"
#include "alliance/client/wire.hpp"
#include "alliance/crypto/identity_keys.hpp"
#include "system.hpp"

namespace alliance::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

class AllianceCtl : public ::testing::Test {
 protected:
  void SetUp() override {
    sys_ = std::make_unique<System>();
    pw_ = sys_->dir() / "pw";
    std::ofstream(pw_) << System::kPassword;
  }
  CommandOutput ctl(std::vector<std::string> args) { return ctl_as("session.json", std::move(args)); }
  // The same CLI with another session file (another person at another machine).
  CommandOutput ctl_as(const std::string& session, std::vector<std::string> args) {
    std::vector<std::string> all = {"--gateway", "https://127.0.0.1:" + std::to_string(sys_->gateway_port()),
                                    "--ca", dev_certs().ca().string(), "--session", (sys_->dir() / session).string()};
    all.insert(all.end(), args.begin(), args.end());
    return run_command(binary("tools/alliancectl/alliancectl"), all, 20s);
  }
  // ctl_as with stdout and stderr together: errors are checked too.
  CommandOutput run_merged(const std::string& session, std::vector<std::string> args) {
    std::vector<std::string> all = {"-c", "exec \"$0\" \"$@\" 2>&1", binary("tools/alliancectl/alliancectl").string(),
                                    "--gateway", "https://127.0.0.1:" + std::to_string(sys_->gateway_port()),
                                    "--ca", dev_certs().ca().string(), "--session", (sys_->dir() / session).string()};
    all.insert(all.end(), args.begin(), args.end());
    return run_command("/bin/sh", all, 20s);
  }
  // An admin sets a new archive key of `practice_id`, signed by `practice_key`.
  static void set_archive_key(client::AllianceClient& admin, const std::string& practice_id,
                              const crypto::IdentityKeyPair& practice_key) {
    const std::string archive_public = crypto::generate_device_keys().agreement_public;
    const std::int64_t issued = 1'764'000'000'000;
    auto signature = crypto::sign_archive_key(practice_key.private_seed,
                                              crypto::ArchiveKeyStatement{practice_id, archive_public, issued});
    ASSERT_TRUE(signature);
    auto r = admin.put_json("/v1/practice/archive-key",
                            json::value{{"agreement_public_key", client::base64_encode(archive_public)},
                                        {"practice_public_key", client::base64_encode(practice_key.public_key)},
                                        {"archive_key_signature", client::base64_encode(*signature)},
                                        {"issued_unix_ms", std::to_string(issued)}});
    ASSERT_TRUE(r) << r.error().message;
  }
  static std::string file_text(const std::filesystem::path& p) {
    std::stringstream ss;
    ss << std::ifstream(p).rdbuf();
    return ss.str();
  }
  static std::string id_after(const std::string& out, const std::string& marker) {
    auto at = out.find(marker);
    if (at == std::string::npos) return {};
    auto id = out.find(" id ", at);
    return out.substr(id + 4, 32);
  }
  std::unique_ptr<System> sys_;
  std::filesystem::path pw_;
};

TEST_F(AllianceCtl, AdminBootstrapsPracticeUsersAndCareTeam) {
  auto created = ctl({"practice", "create", "--name", "Oak Counselling", "--slug", "oak", "--admin-email",
                      "admin@oak.example", "--admin-name", "Olive", "--operator-token-file",
                      dev_certs().operator_token_file().string(), "--admin-password-file", pw_.string()});
  ASSERT_EQ(created.exit_code, 0) << created.out;
  ASSERT_EQ(ctl({"login", "--practice", "oak", "--email", "admin@oak.example", "--password-file", pw_.string()})
                .exit_code,
            0);
  auto therapist = ctl({"user", "create", "--role", "therapist", "--email", "t@oak.example", "--name", "Tess",
                        "--password-file", pw_.string()});
  auto client = ctl({"user", "create", "--role", "client", "--email", "c@oak.example", "--name", "Cleo",
                     "--password-file", pw_.string()});
  ASSERT_EQ(therapist.exit_code, 0) << therapist.out;
  ASSERT_EQ(client.exit_code, 0) << client.out;
  auto therapist_id = id_after(therapist.out, "created therapist");
  auto client_id = id_after(client.out, "created client");
  ASSERT_EQ(therapist_id.size(), 32u) << therapist.out;
  ASSERT_EQ(client_id.size(), 32u) << client.out;

  auto link = ctl({"care-team", "add", "--client", client_id, "--therapist", therapist_id});
  ASSERT_EQ(link.exit_code, 0) << link.out;
  auto list = ctl({"user", "list"});
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("t@oak.example"), std::string::npos);
  EXPECT_NE(list.out.find("c@oak.example"), std::string::npos);

  // What the CLI did is real: the client can log in and sees their therapist.
  auto cleo = sys_->login("oak", "c@oak.example");
  auto team = cleo->get_json("/v1/care-team");
  ASSERT_TRUE(team);
  EXPECT_EQ(team->at("links").as_array()[0].at("therapist_id").as_string(), therapist_id);
}

// A client and her therapist, each with their own session file, register devices
// with the CLI; the client opens their conversation and sends a message; the
// therapist's sync prints the same text, decrypted on their side, and a second
// sync prints nothing new.
TEST_F(AllianceCtl, AdminDeactivatesRenamesChangesTheRoleOfAndResetsThePasswordOfAUser) {
  // An admin manages a therapist who leaves and comes back with alliancectl; the
  // therapist's own alliancectl session ends and they cannot sign in meanwhile.
  auto practice = ctl({"practice", "create", "--name", "Pine", "--slug", "pine", "--admin-email", "admin@pine.example",
                       "--admin-name", "Pat", "--operator-token-file", dev_certs().operator_token_file().string(),
                       "--admin-password-file", pw_.string()});
  ASSERT_EQ(practice.exit_code, 0) << practice.out;
  const auto admin = id_after(practice.out, "admin Pat");
  ASSERT_EQ(ctl({"login", "--practice", "pine", "--email", "admin@pine.example", "--password-file", pw_.string()})
                .exit_code,
            0);
  auto created = ctl({"user", "create", "--role", "therapist", "--email", "tess@pine.example", "--name", "Tess",
                      "--password-file", pw_.string()});
  ASSERT_EQ(created.exit_code, 0) << created.out;
  const auto tess = id_after(created.out, "created therapist");
  auto tess_login = [&] {
    return ctl_as("tess.json", {"login", "--practice", "pine", "--email", "tess@pine.example", "--password-file",
                                pw_.string()});
  };
  ASSERT_EQ(tess_login().exit_code, 0);

  auto off = ctl({"user", "deactivate", "--user", tess});
  ASSERT_EQ(off.exit_code, 0) << off.out;
  EXPECT_EQ(off.out, "deactivated therapist Tess <tess@pine.example> (id " + tess +
                         "); 1 session ended (their sockets closed); deactivated\n");
  EXPECT_NE(ctl_as("tess.json", {"whoami"}).exit_code, 0);
  auto refused = tess_login();
  EXPECT_NE(refused.exit_code, 0);
  auto listed = ctl({"user", "list", "--role", "therapist"});
  EXPECT_NE(listed.out.find("deactivated"), std::string::npos) << listed.out;

  ASSERT_EQ(ctl({"user", "reactivate", "--user", tess}).exit_code, 0);
  auto renamed = ctl({"user", "update", "--user", tess, "--name", "Dr Tess Lund"});
  EXPECT_EQ(renamed.out, "updated therapist Dr Tess Lund <tess@pine.example> (id " + tess + ")\n");
  auto role = ctl({"user", "set-role", "--user", tess, "--role", "front_desk"});
  EXPECT_EQ(role.out, "role set: front_desk Dr Tess Lund <tess@pine.example> (id " + tess + ")\n");
  auto last_admin = ctl({"user", "set-role", "--user", admin, "--role", "client"});
  EXPECT_NE(last_admin.exit_code, 0);

  auto reset = ctl({"user", "reset-password", "--user", tess});
  ASSERT_EQ(reset.exit_code, 0) << reset.out;
  EXPECT_NE(reset.out.find("reset token (shown once"), std::string::npos) << reset.out;
  auto old_password = tess_login();
  EXPECT_NE(old_password.exit_code, 0);
}

TEST_F(AllianceCtl, ClientAndTherapistExchangeAnEncryptedMessage) {
  ASSERT_EQ(ctl({"practice", "create", "--name", "Ash Therapy", "--slug", "ash", "--admin-email", "admin@ash.example",
                 "--admin-name", "Ash", "--operator-token-file", dev_certs().operator_token_file().string(),
                 "--admin-password-file", pw_.string()})
                .exit_code,
            0);
  ASSERT_EQ(ctl({"login", "--practice", "ash", "--email", "admin@ash.example", "--password-file", pw_.string()})
                .exit_code,
            0);
  auto therapist = ctl({"user", "create", "--role", "therapist", "--email", "kim@ash.example", "--name", "Dr Kim",
                        "--password-file", pw_.string()});
  auto client = ctl({"user", "create", "--role", "client", "--email", "ana@ash.example", "--name", "Ana",
                     "--password-file", pw_.string()});
  auto kim_id = id_after(therapist.out, "created therapist");
  auto ana_id = id_after(client.out, "created client");
  ASSERT_EQ(kim_id.size(), 32u) << therapist.out;
  ASSERT_EQ(ana_id.size(), 32u) << client.out;
  ASSERT_EQ(ctl({"care-team", "add", "--client", ana_id, "--therapist", kim_id}).exit_code, 0);

  // Sending before a device exists says what to do.
  ASSERT_EQ(ctl_as("ana.json", {"login", "--practice", "ash", "--email", "ana@ash.example", "--password-file",
                                pw_.string()})
                .exit_code,
            0);
  auto opened = ctl_as("ana.json", {"conversation", "open", "--client", ana_id, "--therapist", kim_id});
  ASSERT_EQ(opened.exit_code, 0) << opened.out;
  std::string conversation = opened.out.substr(0, opened.out.find('\n'));
  ASSERT_FALSE(conversation.empty());
  ASSERT_EQ(opened.out, conversation + "\n") << "only the id, for CONV=$(...)";

  auto message = sys_->dir() / "message.txt";
  const std::string text = "Could we move Thursday's session to Friday? \xe2\x80\x94 Ana";
  std::ofstream(message) << text << "\n";
  auto early = ctl_as("ana.json", {"message", "send", "--conversation", conversation, "--text-file", message.string()});
  EXPECT_EQ(early.exit_code, 1) << early.out;

  auto ana_device = ctl_as("ana.json", {"device", "register", "--name", "Ana's laptop"});
  ASSERT_EQ(ana_device.exit_code, 0) << ana_device.out;
  EXPECT_NE(ana_device.out.find("registered device "), std::string::npos) << ana_device.out;
  ASSERT_EQ(ctl_as("kim.json", {"login", "--practice", "ash", "--email", "kim@ash.example", "--password-file",
                                pw_.string()})
                .exit_code,
            0);
  auto kim_device = ctl_as("kim.json", {"device", "register"});
  ASSERT_EQ(kim_device.exit_code, 0) << kim_device.out;
  auto devices = ctl_as("kim.json", {"device", "list"});
  ASSERT_EQ(devices.exit_code, 0);
  EXPECT_NE(devices.out.find("* "), std::string::npos) << "this session's device is marked: " << devices.out;

  auto sent = ctl_as("ana.json", {"message", "send", "--conversation", conversation, "--text-file", message.string()});
  ASSERT_EQ(sent.exit_code, 0) << sent.out;
  EXPECT_EQ(sent.out.rfind("sent seq 1 message ", 0), 0u) << sent.out;

  auto first = ctl_as("kim.json", {"message", "sync", "--conversation", conversation});
  ASSERT_EQ(first.exit_code, 0) << first.out;
  EXPECT_EQ(first.out.rfind("#1 ", 0), 0u) << first.out;
  EXPECT_NE(first.out.find(ana_id + ": " + text + "\n"), std::string::npos) << first.out;
  auto second = ctl_as("kim.json", {"message", "sync", "--conversation", conversation});
  ASSERT_EQ(second.exit_code, 0) << second.out;
  EXPECT_EQ(second.out, "") << "the cursor in the session file holds: nothing new";

  // The sender's own device lists it in its place, text and all; read receipts go through.
  auto own = ctl_as("ana.json", {"message", "sync", "--conversation", conversation});
  EXPECT_EQ(own.out.rfind("#1 ", 0), 0u) << own.out;
  EXPECT_EQ(own.out.find("[sent from this device]"), std::string::npos) << own.out;
  EXPECT_NE(own.out.find(" you: "), std::string::npos) << own.out;
  EXPECT_EQ(ctl_as("kim.json", {"message", "read", "--conversation", conversation, "--seq", "1"}).out,
            "read up to seq 1\n");

  // The keys stay in owner-only files; the message text is in none of them.
  for (const char* name : {"ana.json", "kim.json"}) {
    struct stat st {};
    ASSERT_EQ(::stat((sys_->dir() / name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
    auto content = file_text(sys_->dir() / name);
    EXPECT_NE(content.find("\"agreement_private\""), std::string::npos) << name;
    EXPECT_EQ(content.find("Thursday"), std::string::npos) << name;
  }

  // A conversation that is not theirs: the server's refusal, exit 1.
  auto foreign = ctl_as("kim.json", {"message", "send", "--conversation", "0123456789abcdef0123456789abcdef",
                                     "--text-file", message.string()});
  EXPECT_EQ(foreign.exit_code, 1) << foreign.out;
}

// A client and her therapist register devices with the CLI, each their user's first
// device, so each makes the user's identity key. Both run `conversation verify` and
// read the same safety number; the client marks it verified and a message she sends
// reaches the therapist in format 2. Her second device waits for approval until her
// first approves it (a wrong code is refused) and then picks up the key. When the
// therapist's identity key is replaced, her verify is an error saying how to accept
// it, sending is refused with the SDK's reason, and she accepts only with --unverify.
TEST_F(AllianceCtl, SafetyNumbersDeviceApprovalAndAnIdentityChange) {
  const std::string practice_id = sys_->create_practice("fir");
  const std::string kim_id = sys_->create_user("fir", "kim@fir.example", "therapist");
  const std::string ana_id = sys_->create_user("fir", "ana@fir.example", "client");
  auto admin = sys_->login("fir", "admin@fir.example");
  ASSERT_TRUE(admin->post_json("/v1/care-team", json::value{{"client_id", ana_id}, {"therapist_id", kim_id}}));
  // The practice's archive key, signed by the practice key: verify shows it.
  const auto practice_key = crypto::generate_practice_key();
  set_archive_key(*admin, practice_id, practice_key);
  auto run = [&](const std::string& session, std::vector<std::string> args) { return run_merged(session, args); };
  auto login = [&](const std::string& session, const std::string& email) {
    auto r = run(session, {"login", "--practice", "fir", "--email", email, "--password-file", pw_.string()});
    EXPECT_EQ(r.exit_code, 0) << r.out;
  };
  // The 12 groups of 5 digits after "safety number: ".
  auto number_in = [](const std::string& out) {
    std::smatch m;
    static const std::regex kNumber("safety number: ((\\d{5} ){11}\\d{5})\n");
    return std::regex_search(out, m, kNumber) ? m[1].str() : std::string();
  };

  login("ana.json", "ana@fir.example");
  login("kim.json", "kim@fir.example");
  for (const char* session : {"ana.json", "kim.json"}) {
    auto reg = run(session, {"device", "register"});
    ASSERT_EQ(reg.exit_code, 0) << reg.out;
    EXPECT_NE(reg.out.find("identity key ready (this is the user's first device)\n"), std::string::npos) << reg.out;
    EXPECT_NE(file_text(sys_->dir() / session).find("\"private_seed\""), std::string::npos) << "kept in " << session;
  }
  auto opened = run("ana.json", {"conversation", "open", "--client", ana_id, "--therapist", kim_id});
  ASSERT_EQ(opened.exit_code, 0) << opened.out;
  const std::string conv = opened.out.substr(0, opened.out.find('\n'));

  auto ana_sees = run("ana.json", {"conversation", "verify", "--id", conv});
  auto kim_sees = run("kim.json", {"conversation", "verify", "--id", conv});
  ASSERT_EQ(ana_sees.exit_code, 0) << ana_sees.out;
  ASSERT_EQ(kim_sees.exit_code, 0) << kim_sees.out;
  const std::string number = number_in(ana_sees.out);
  ASSERT_FALSE(number.empty()) << ana_sees.out;
  EXPECT_EQ(number_in(kim_sees.out), number) << "both screens show the same 60 digits";
  EXPECT_NE(ana_sees.out.find("compare in person or by reading it aloud; both screens must show the same 60 digits"),
            std::string::npos);
  EXPECT_NE(ana_sees.out.find("identity key of " + kim_id + ": new"), std::string::npos) << ana_sees.out;
  EXPECT_NE(kim_sees.out.find("identity key of " + ana_id + ": new"), std::string::npos) << kim_sees.out;
  EXPECT_NE(ana_sees.out.find("messages in this conversation are also readable by Practice fir's record "
                              "archive\npractice key fingerprint: " +
                              crypto::key_fingerprint(practice_key.public_key) + "\n"),
            std::string::npos)
      << ana_sees.out;

  auto marked = run("ana.json", {"conversation", "verify", "--id", conv, "--mark-verified", "--qr"});
  ASSERT_EQ(marked.exit_code, 0) << marked.out;
  EXPECT_EQ(number_in(marked.out), number);
  EXPECT_NE(marked.out.find("identity key of " + kim_id + ": verified"), std::string::npos) << marked.out;
  std::string digits = number;
  digits.erase(std::remove(digits.begin(), digits.end(), ' '), digits.end());
  EXPECT_NE(marked.out.find("QR text: alliance-safety-v1:" + digits + "\n"), std::string::npos) << marked.out;

  auto text = sys_->dir() / "msg.txt";
  std::ofstream(text) << "Running ten minutes late.\n";
  auto sent = run("ana.json", {"message", "send", "--conversation", conv, "--text-file", text.string()});
  ASSERT_EQ(sent.exit_code, 0) << sent.out;
  auto synced = run("kim.json", {"--json", "message", "sync", "--conversation", conv});
  ASSERT_EQ(synced.exit_code, 0) << synced.out;
  auto messages = json::parse(synced.out).at("messages").as_array();
  ASSERT_EQ(messages.size(), 1u) << synced.out;
  EXPECT_EQ(messages[0].at("text").as_string(), "Running ten minutes late.");
  EXPECT_EQ(messages[0].at("format").as_int64(), 2) << "sent with the identity key: format 2";
  EXPECT_EQ(messages[0].as_object().count("integrity"), 0u) << synced.out;

  // Ana's second device: awaiting approval, with a code to compare.
  login("ana2.json", "ana@fir.example");
  auto second = run("ana2.json", {"device", "register", "--name", "Ana's phone"});
  ASSERT_EQ(second.exit_code, 0) << second.out;
  std::smatch awaiting;
  ASSERT_TRUE(std::regex_search(second.out, awaiting,
                                std::regex("this device awaits approval: on a device you already use, run "
                                           "`alliancectl device approve --id (\\w+) --code (\\d{6})` after checking "
                                           "this code: (\\d{6})\n")))
      << second.out;
  const std::string phone = awaiting[1], code = awaiting[2];
  EXPECT_EQ(awaiting[3].str(), code);
  auto pending = run("ana.json", {"device", "pending"});
  ASSERT_EQ(pending.exit_code, 0) << pending.out;
  EXPECT_NE(pending.out.find(phone), std::string::npos) << pending.out;
  EXPECT_NE(pending.out.find("Ana's phone"), std::string::npos) << pending.out;
  const std::string wrong = code == "000000" ? "000001" : "000000";
  auto refused = run("ana.json", {"device", "approve", "--id", phone, "--code", wrong});
  EXPECT_EQ(refused.exit_code, 1) << refused.out;
  EXPECT_NE(refused.out.find("(field: code)"), std::string::npos) << refused.out;
  EXPECT_NE(run("ana2.json", {"device", "identity"}).out.find("this device awaits approval"), std::string::npos)
      << "a refused approval approves nothing";
  auto approved = run("ana.json", {"device", "approve", "--id", phone, "--code", code});
  ASSERT_EQ(approved.exit_code, 0) << approved.out;
  EXPECT_EQ(run("ana.json", {"device", "pending"}).out, "no devices awaiting approval\n");
  auto received = run("ana2.json", {"device", "identity"});
  ASSERT_EQ(received.exit_code, 0) << received.out;
  EXPECT_EQ(received.out, "identity key received: this device is approved\n");
  auto from_phone = run("ana2.json", {"conversation", "verify", "--id", conv});
  ASSERT_EQ(from_phone.exit_code, 0) << from_phone.out;
  EXPECT_EQ(number_in(from_phone.out), number) << "the same user key on her second device";

  // Kim's identity key is replaced (a new device resets it): Ana verified the old one.
  auto kim_new = sys_->login("fir", "kim@fir.example");
  auto kim_phone = client::register_device(*kim_new, "Kim's new phone");
  ASSERT_TRUE(kim_phone) << kim_phone.error().message;
  client::UserIdentity fresh{kim_id, crypto::generate_identity_key()};
  const std::int64_t now = 1'765'000'000'000;
  auto certificate = crypto::sign_device_certificate(
      fresh.key.private_seed, crypto::DeviceCertificate{kim_id, kim_phone->id, kim_phone->keys.signing_public,
                                                        kim_phone->keys.agreement_public, now});
  ASSERT_TRUE(certificate);
  ASSERT_TRUE(kim_new->put_json("/v1/me/identity-key",
                                json::value{{"public_key", client::base64_encode(fresh.key.public_key)},
                                            {"certificate_signature", client::base64_encode(*certificate)},
                                            {"certificate_issued_unix_ms", std::to_string(now)},
                                            {"reset", true}}));

  auto changed = run("ana.json", {"conversation", "verify", "--id", conv});
  EXPECT_EQ(changed.exit_code, 1) << changed.out;
  EXPECT_NE(changed.out.find("identity key of " + kim_id + ": CHANGED (you had verified the old one in person)"),
            std::string::npos)
      << changed.out;
  EXPECT_NE(changed.out.find("error: " + kim_id + "'s identity key has CHANGED"), std::string::npos) << changed.out;
  EXPECT_NE(changed.out.find("`alliancectl conversation accept-identity --id " + conv + " --unverify`"),
            std::string::npos)
      << changed.out;
  const std::string new_number = [&] {
    std::smatch m;
    return std::regex_search(changed.out, m, std::regex("safety number with the new key: ((\\d{5} ){11}\\d{5})\n"))
               ? m[1].str()
               : std::string();
  }();
  EXPECT_FALSE(new_number.empty()) << changed.out;
  EXPECT_NE(new_number, number);

  auto blocked = run("ana.json", {"message", "send", "--conversation", conv, "--text-file", text.string()});
  EXPECT_EQ(blocked.exit_code, 1) << blocked.out;
  EXPECT_NE(blocked.out.find(": identity key changed; see why with `alliancectl conversation verify --id " + conv +
                             "` (field: recipients)"),
            std::string::npos)
      << blocked.out;

  auto not_yet = run("ana.json", {"conversation", "accept-identity", "--id", conv});
  EXPECT_EQ(not_yet.exit_code, 1) << not_yet.out;
  EXPECT_NE(not_yet.out.find("(field: unverify)"), std::string::npos) << not_yet.out;
  auto accepted = run("ana.json", {"conversation", "accept-identity", "--id", conv, "--unverify"});
  ASSERT_EQ(accepted.exit_code, 0) << accepted.out;
  EXPECT_NE(accepted.out.find("accepted the new identity key of " + kim_id), std::string::npos) << accepted.out;
  EXPECT_EQ(number_in(accepted.out), new_number) << accepted.out;
  auto after = run("ana.json", {"conversation", "verify", "--id", conv});
  ASSERT_EQ(after.exit_code, 0) << after.out;
  EXPECT_EQ(number_in(after.out), new_number);
  EXPECT_NE(after.out.find("identity key of " + kim_id + ": pinned"), std::string::npos) << after.out;
}

// The practice publishes its key's fingerprint at intake; a client pins it before any
// archive key is seen, a change is accepted only by naming the new fingerprint, and
// signing in again on the same machine keeps the user's identity key.
TEST_F(AllianceCtl, PracticeKeyPinnedAtIntakeAndASecondSignInKeepsTheIdentity) {
  const std::string practice_id = sys_->create_practice("elm");
  const std::string kim_id = sys_->create_user("elm", "kim@elm.example", "therapist");
  const std::string ana_id = sys_->create_user("elm", "ana@elm.example", "client");
  auto admin = sys_->login("elm", "admin@elm.example");
  ASSERT_TRUE(admin->post_json("/v1/care-team", json::value{{"client_id", ana_id}, {"therapist_id", kim_id}}));
  const auto practice_key = crypto::generate_practice_key();
  const auto other_key = crypto::generate_practice_key();
  set_archive_key(*admin, practice_id, practice_key);
  auto run = [&](const std::string& session, std::vector<std::string> args) { return run_merged(session, args); };
  const std::vector<std::string> ana_login = {"login", "--practice", "elm", "--email", "ana@elm.example",
                                              "--password-file", pw_.string()};
  ASSERT_EQ(run("ana.json", ana_login).exit_code, 0);
  ASSERT_EQ(run("kim.json", {"login", "--practice", "elm", "--email", "kim@elm.example", "--password-file",
                             pw_.string()})
                .exit_code,
            0);

  // At intake Ana's practice gave her a fingerprint (a printed sheet may show it in capitals).
  std::string printed = crypto::key_fingerprint(practice_key.public_key);
  std::transform(printed.begin(), printed.end(), printed.begin(), [](char c) { return std::toupper(c); });
  auto pinned = run("ana.json", {"practice", "trust-key", "--fingerprint", printed});
  ASSERT_EQ(pinned.exit_code, 0) << pinned.out;
  EXPECT_NE(pinned.out.find("pinned the practice key " + crypto::key_fingerprint(practice_key.public_key)),
            std::string::npos)
      << pinned.out;
  for (const char* session : {"ana.json", "kim.json"}) ASSERT_EQ(run(session, {"device", "register"}).exit_code, 0);
  auto opened = run("ana.json", {"conversation", "open", "--client", ana_id, "--therapist", kim_id});
  ASSERT_EQ(opened.exit_code, 0) << opened.out;
  const std::string conv = opened.out.substr(0, opened.out.find('\n'));
  ASSERT_EQ(run("ana.json", {"message", "send", "--conversation", conv, "--text", "first"}).exit_code, 0);

  // The server now offers an archive key under another practice key: Ana's app refuses it.
  set_archive_key(*admin, practice_id, other_key);
  auto refused = run("ana.json", {"message", "send", "--conversation", conv, "--text", "second"});
  EXPECT_EQ(refused.exit_code, 1) << refused.out;
  EXPECT_NE(refused.out.find("(field: recipients)"), std::string::npos) << refused.out;
  auto over = run("ana.json", {"practice", "trust-key", "--fingerprint", crypto::key_fingerprint(other_key.public_key)});
  EXPECT_EQ(over.exit_code, 1) << over.out;
  EXPECT_NE(over.out.find("add --replace"), std::string::npos) << over.out;
  auto wrong = run("ana.json", {"practice", "trust-key", "--replace", "--fingerprint",
                                crypto::key_fingerprint(crypto::generate_practice_key().public_key)});
  EXPECT_EQ(wrong.exit_code, 1) << wrong.out;
  EXPECT_NE(wrong.out.find("another fingerprint; do not accept it (field: fingerprint)"), std::string::npos)
      << wrong.out;
  EXPECT_EQ(run("ana.json", {"message", "send", "--conversation", conv, "--text", "second"}).exit_code, 1);
  // The practice confirms the change and its new fingerprint: Ana accepts that key.
  auto replaced = run("ana.json", {"practice", "trust-key", "--replace", "--fingerprint",
                                   crypto::key_fingerprint(other_key.public_key)});
  ASSERT_EQ(replaced.exit_code, 0) << replaced.out;
  ASSERT_EQ(run("ana.json", {"message", "send", "--conversation", conv, "--text", "second"}).exit_code, 0);

  // Ana signs in again on this machine: her identity key stays, the new session's
  // device is certified with it at once, and Kim sees no identity change.
  auto again = run("ana.json", ana_login);
  ASSERT_EQ(again.exit_code, 0) << again.out;
  EXPECT_NE(again.out.find("kept your identity key"), std::string::npos) << again.out;
  auto reg = run("ana.json", {"device", "register"});
  ASSERT_EQ(reg.exit_code, 0) << reg.out;
  EXPECT_NE(reg.out.find("identity key held: this device is approved\n"), std::string::npos) << reg.out;
  ASSERT_EQ(run("ana.json", {"message", "send", "--conversation", conv, "--text", "from the new session"}).exit_code,
            0);
  auto synced = run("kim.json", {"--json", "message", "sync", "--conversation", conv});
  ASSERT_EQ(synced.exit_code, 0) << synced.out;
  auto messages = json::parse(synced.out).at("messages").as_array();
  ASSERT_EQ(messages.size(), 3u) << synced.out;
  EXPECT_EQ(messages[2].at("text").as_string(), "from the new session") << synced.out;
  auto kim_sees = run("kim.json", {"conversation", "verify", "--id", conv});
  EXPECT_EQ(kim_sees.exit_code, 0) << kim_sees.out;
  EXPECT_EQ(kim_sees.out.find("CHANGED"), std::string::npos) << kim_sees.out;
  EXPECT_NE(kim_sees.out.find("messages in this conversation are also readable by Practice elm's record archive"),
            std::string::npos)
      << kim_sees.out;
}

TEST_F(AllianceCtl, BadInputExitsNonZeroNamingTheField) {
  ASSERT_EQ(ctl({"practice", "create", "--name", "Elm", "--slug", "elm", "--admin-email", "admin@elm.example",
                 "--admin-name", "E", "--operator-token-file", dev_certs().operator_token_file().string(),
                 "--admin-password-file", pw_.string()})
                .exit_code,
            0);
  ASSERT_EQ(ctl({"login", "--practice", "elm", "--email", "admin@elm.example", "--password-file", pw_.string()})
                .exit_code,
            0);
  auto bad = ctl({"user", "create", "--role", "client", "--email", "nope", "--name", "N", "--password-file",
                  pw_.string()});
  EXPECT_EQ(bad.exit_code, 1);
  auto wrong_operator = run_command(
      binary("tools/alliancectl/alliancectl"),
      {"--gateway", "https://127.0.0.1:" + std::to_string(sys_->gateway_port()), "--ca", dev_certs().ca().string(),
       "--session", (sys_->dir() / "s2.json").string(), "practice", "create", "--name", "X", "--slug", "xx",
       "--admin-email", "a@x.example", "--admin-name", "A", "--operator-token-file", pw_.string(),
       "--admin-password-file", pw_.string()},
      20s);
  EXPECT_EQ(wrong_operator.exit_code, 1);
}

TEST(GatewayBinary, BadConfigurationStopsItNamingTheKey) {
  // Every key valid but one: the message names exactly that key.
  TempDir dir;
  const auto& c = dev_certs();
  std::map<std::string, std::string> good = {
      {"listen", "127.0.0.1:0"},           {"metrics_listen", "127.0.0.1:0"}, {"tls_cert", c.public_cert().string()},
      {"tls_key", c.public_key().string()}, {"rpc_ca", c.ca().string()},
      {"rpc_cert", c.cert("gateway").string()}, {"rpc_key", c.key("gateway").string()}};
  struct Case {
    std::string key, value, expect;
  };
  for (const auto& bad : {Case{"tls_cert", "/nonexistent/cert.pem", "/nonexistent/cert.pem"},
                          Case{"listen", "not-an-address", "host:port"},
                          Case{"ws_idle_timeout", "soon", "duration"},
                          Case{"body_limitt", "10", "unknown key"}}) {
    auto flags = good;
    flags[bad.key] = bad.value;
    std::vector<std::string> args;
    for (auto& [k, v] : flags) {
      args.push_back("--" + k);
      args.push_back(v);
    }
    auto log = dir.path() / (bad.key + ".log");
    auto p = Process::start(Process::Options{binary("services/gateway/alliance-gateway"), args, {}, log, {}});
    ASSERT_TRUE(p.wait_exit(10s)) << bad.key;
    EXPECT_EQ(p.exit_code(), 1) << bad.key;
    EXPECT_NE(p.log().find("\"" + bad.key + "\""), std::string::npos) << p.log();
    EXPECT_NE(p.log().find(bad.expect), std::string::npos) << p.log();
  }
}

TEST(GatewayBinary, ShippedExampleConfigIsAccepted) {
  // deploy/config/gateway.conf sets every key; only machine-specific paths are overridden.
  TempDir dir;
  const auto& c = dev_certs();
  auto ready = dir.path() / "gw.ready";
  auto p = Process::start(Process::Options{
      binary("services/gateway/alliance-gateway"),
      {"--config", std::string(ALLIANCE_SOURCE_DIR) + "/deploy/config/gateway.conf", "--listen", "127.0.0.1:0",
       "--metrics_listen", "127.0.0.1:0", "--tls_cert", c.public_cert().string(), "--tls_key", c.public_key().string(), "--rpc_ca", c.ca().string(),
       "--rpc_cert", c.cert("gateway").string(), "--rpc_key", c.key("gateway").string(), "--ready_file",
       ready.string(), "--redis_password_file", RedisServer::password_file("gateway").string(), "--redis_ca_file",
       c.ca().string(), "--redis_cert_file", c.cert("gateway").string(), "--redis_key_file", c.key("gateway").string()},
      {},
      dir.path() / "gw.log",
      {}});
  EXPECT_NO_THROW(wait_for_ready_file(ready, 10s, &p)) << p.log();
}

}  // namespace
}  // namespace alliance::testing
