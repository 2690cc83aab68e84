// End-to-end encrypted messaging through the public API with real processes:
// redis-server, identity, scheduling, messaging and the gateway, driven by the
// client SDK's Messenger exactly as an app would (keys generated and messages
// sealed and opened on the "devices", i.e. in this test process).
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "alliance/client/device.hpp"
#include "alliance/client/messenger.hpp"
#include "alliance/client/user_identity.hpp"
#include "alliance/client/wire.hpp"
#include "alliance/core/ids.hpp"
#include "alliance/crypto/x25519.hpp"
#include "messaging_support.hpp"
#include "system.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using client::Messenger;
using client::ReceivedMessage;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class Messaging : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { sys_ = new System(); }
  static void TearDownTestSuite() {
    delete sys_;
    sys_ = nullptr;
  }

  // A practice with an admin, a therapist, a client on the therapist's care team,
  // a second client, a front desk; and a second practice with its own therapist.
  void SetUp() override { make_practice(*sys_); }

  void make_practice(System& sys) {
    slug_ = "m" + new_id().substr(0, 12);
    sys.create_practice(slug_);
    admin_ = sys.login(slug_, "admin@" + slug_ + ".example");
    therapist_id_ = sys.create_user(slug_, email("kim"), "therapist");
    client_id_ = sys.create_user(slug_, email("jo"), "client");
    client2_id_ = sys.create_user(slug_, email("sam"), "client");
    desk_id_ = sys.create_user(slug_, email("desk"), "front_desk");
    auto link = admin_->post_json("/v1/care-team", json::value{{"client_id", client_id_}, {"therapist_id", therapist_id_}});
    ASSERT_TRUE(link) << link.error().message;
  }

  std::string email(const std::string& who) const { return who + "@" + slug_ + ".example"; }

  // Logs `who` in on a new session and registers that session's device.
  std::unique_ptr<Member> device(const std::string& who, const std::string& slug = "", System* sys = nullptr) {
    System& s = sys ? *sys : *sys_;
    std::string practice = slug.empty() ? slug_ : slug;
    auto m = std::make_unique<Member>();
    m->api = s.login(practice, who + "@" + practice + ".example");
    m->user_id = m->api->tokens().user_id;
    auto d = client::register_device(*m->api, who + "'s device");
    EXPECT_TRUE(d) << d.error().message;
    if (!d) return nullptr;
    m->messenger = std::make_unique<Messenger>(*m->api, std::move(*d));
    return m;
  }

  // Asks as `observer` (not the sender, whose cached list must stay stale) until the
  // conversation's devices include `device_id`, at most 10 s.
  static void wait_until_listed(Member& observer, const std::string& conv, const std::string& device_id) {
    auto list = observer.recipients_once(conv, [&](const client::VerifiedRecipients& r) {
      return std::any_of(r.devices.begin(), r.devices.end(), [&](const auto& d) { return d.id == device_id; });
    });
    ASSERT_TRUE(list) << list.error().message;
    ASSERT_TRUE(std::any_of(list->devices.begin(), list->devices.end(),
                            [&](const auto& d) { return d.id == device_id; }))
        << "device " << device_id << " never listed";
  }

  std::string open(Member& m) {
    auto c = m.messenger->open_conversation(client_id_, therapist_id_);
    EXPECT_TRUE(c) << c.error().message;
    return c ? c->id : "";
  }

  static std::int64_t send(Member& m, const std::string& conv, const std::string& text, std::string* id = nullptr) {
    return send_with(*m.messenger, conv, text, id);
  }
  static std::int64_t send_with(Messenger& messenger, const std::string& conv, const std::string& text,
                                std::string* id = nullptr) {
    auto r = messenger.send(conv, text);
    EXPECT_TRUE(r) << r.error().message;
    if (!r) return 0;
    if (id) *id = r->message_id;
    return r->seq;
  }

  static System* sys_;
  std::string slug_, therapist_id_, client_id_, client2_id_, desk_id_;
  std::unique_ptr<client::AllianceClient> admin_;
};

System* Messaging::sys_ = nullptr;

TEST_F(Messaging, ClientAndTherapistExchangeMessagesLiveBothWays) {
  // A client writes to their therapist and the therapist answers; each sees the
  // other's words arrive live on their open socket, decrypted on their device.
  auto jo = device("jo");
  auto kim = device("kim");
  jo->go_online();
  kim->go_online();
  std::string conv = open(*jo);
  ASSERT_EQ(open(*kim), conv) << "both participants get the same conversation";

  std::string id1, id2;
  EXPECT_EQ(send(*jo, conv, "I had a hard week.", &id1), 1);
  ASSERT_TRUE(kim->pump_until([&] { return kim->has(id1); }));
  EXPECT_EQ(kim->find(id1)->plaintext, "I had a hard week.");
  EXPECT_EQ(kim->find(id1)->sender_user_id, client_id_);
  EXPECT_EQ(kim->find(id1)->sender_device_id, jo->device_id());
  EXPECT_EQ(kim->find(id1)->seq, 1);

  EXPECT_EQ(send(*kim, conv, "Thank you for telling me. Let's talk Thursday.", &id2), 2);
  ASSERT_TRUE(jo->pump_until([&] { return jo->has(id2); }));
  EXPECT_EQ(jo->find(id2)->plaintext, "Thank you for telling me. Let's talk Thursday.");
  EXPECT_EQ(jo->find(id2)->sender_user_id, therapist_id_);
  EXPECT_TRUE(jo->find(id2)->readable());
}

TEST_F(Messaging, ServicesOnOneHostCanTalkOverUnixSockets) {
  // The same exchange on a system whose services reach each other only through
  // Unix-domain sockets (listen_unix, unix:PATH), as scripts/run starts them: the
  // gateway -> identity, messaging and scheduling, messaging -> identity.
  SystemOptions options;
  options.rpc_over_unix = true;
  System local(options);
  make_practice(local);
  auto jo = device("jo", slug_, &local);
  auto kim = device("kim", slug_, &local);
  ASSERT_TRUE(jo && kim);
  jo->go_online();
  kim->go_online();
  auto conv = jo->messenger->open_conversation(client_id_, therapist_id_);
  ASSERT_TRUE(conv) << conv.error().message;
  std::string id;
  EXPECT_EQ(send(*jo, conv->id, "Over the local socket.", &id), 1);
  ASSERT_TRUE(kim->pump_until([&] { return kim->has(id); }));
  EXPECT_EQ(kim->find(id)->plaintext, "Over the local socket.");
  for (const char* service : {"identity", "messaging", "scheduling", "reminders0"}) {
    struct stat st {};
    auto path = local.dir() / (std::string(service) + ".sock");
    ASSERT_EQ(::lstat(path.c_str(), &st), 0) << path;
    EXPECT_TRUE(S_ISSOCK(st.st_mode)) << path;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
  }
}

TEST_F(Messaging, ReceiptsAndTypingReachTheOtherParticipant) {
  // The therapist's device acknowledges delivery and the therapist reads the
  // message and types: the client sees a delivered receipt, a read receipt and
  // the typing indicator live, and the receipts list holds both cursors.
  auto jo = device("jo");
  auto kim = device("kim");
  jo->go_online();
  kim->go_online();
  std::string conv = open(*jo);
  std::string id;
  std::int64_t seq = send(*jo, conv, "Are we still on for Thursday?", &id);
  ASSERT_TRUE(kim->pump_until([&] { return kim->has(id); }));
  ASSERT_TRUE(jo->pump_until([&] {
    for (const auto& r : jo->receipts) {
      if (r.kind == "delivered" && r.seq == seq && r.device_id == kim->device_id()) return true;
    }
    return false;
  })) << "no delivered receipt";
  auto read = kim->messenger->mark_read(conv, seq);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->seq, seq);
  ASSERT_TRUE(kim->messenger->set_typing(conv, true));
  ASSERT_TRUE(jo->pump_until([&] {
    bool got_read = false, got_typing = false;
    for (const auto& r : jo->receipts) got_read |= r.kind == "read" && r.seq == seq && r.user_id == therapist_id_;
    for (const auto& t : jo->typing) got_typing |= t.typing && t.user_id == therapist_id_ && t.conversation_id == conv;
    return got_read && got_typing;
  })) << "no read receipt or typing indicator";

  auto list = jo->messenger->receipts(conv);
  ASSERT_TRUE(list) << list.error().message;
  bool delivered = false, was_read = false;
  for (const auto& r : *list) {
    delivered |= r.kind == "delivered" && r.device_id == kim->device_id() && r.seq == seq;
    was_read |= r.kind == "read" && r.user_id == therapist_id_ && r.seq == seq;
  }
  EXPECT_TRUE(delivered);
  EXPECT_TRUE(was_read);

  // The therapist's receipts change the conversation's metadata, so the client's access
  // log shows them; typing is never stored, and is not recorded either.
  std::set<std::string> audited;
  ASSERT_TRUE(wait_until(
      [&] {
        audited.clear();
        auto log = jo->api->get_json("/v1/me/access-log?limit=200");
        if (!log) return false;
        if (const auto* entries = log->as_object().if_contains("entries"))
          for (const auto& e : entries->as_array())
            if (e.at("object_id").as_string() == conv && e.at("actor_role").as_string() == "therapist")
              audited.insert(std::string(e.at("action").as_string()));
        return audited.count("receipt.delivered") && audited.count("receipt.read");
      },
      10s))
      << "the therapist's receipts never reached the client's access log";
  EXPECT_FALSE(audited.count("conversation.typing"));
}

TEST_F(Messaging, EveryDeviceOfAMultiDeviceUserGetsEveryMessage) {
  // The therapist is signed in on a laptop and a phone, the client on two devices:
  // every message reaches every device of both (the sender's other device too).
  auto jo = device("jo");
  auto jo_tablet = device("jo");
  auto kim_laptop = device("kim");
  auto kim_phone = device("kim");
  ASSERT_NE(kim_laptop->device_id(), kim_phone->device_id());
  for (auto* m : {jo.get(), jo_tablet.get(), kim_laptop.get(), kim_phone.get()}) m->go_online();
  std::string conv = open(*jo);

  std::vector<std::string> ids(3);
  send(*jo, conv, "first from the phone", &ids[0]);
  send(*jo_tablet, conv, "second from the tablet", &ids[1]);
  send(*kim_phone, conv, "third from the therapist's phone", &ids[2]);
  const std::vector<std::string> texts = {"first from the phone", "second from the tablet",
                                          "third from the therapist's phone"};
  for (auto* m : {jo.get(), jo_tablet.get(), kim_laptop.get(), kim_phone.get()}) {
    ASSERT_TRUE(m->pump_until([&] { return m->has(ids[0]) && m->has(ids[1]) && m->has(ids[2]); }))
        << "device " << m->device_id() << " got " << m->inbox.size() << " messages";
    for (std::size_t i = 0; i < ids.size(); ++i) {
      EXPECT_EQ(m->find(ids[i])->plaintext, texts[i]) << m->device_id();
      EXPECT_EQ(m->find(ids[i])->seq, static_cast<std::int64_t>(i + 1));
    }
  }
}

TEST_F(Messaging, AnOfflineDeviceSyncsEverythingInOrderOnReconnect) {
  // The therapist's phone is offline while the client sends five messages; when
  // it reconnects, a sync brings all five in order, and live delivery resumes.
  auto jo = device("jo");
  auto kim = device("kim");
  std::string conv = open(*jo);
  kim->go_online();
  std::string first;
  send(*jo, conv, "message 1", &first);
  ASSERT_TRUE(kim->pump_until([&] { return kim->has(first); }));
  kim->socket->close();
  kim->socket.reset();

  std::vector<std::string> ids(5);
  for (int i = 0; i < 5; ++i) send(*jo, conv, "offline message " + std::to_string(i + 2), &ids[i]);

  kim->go_online();
  auto synced = kim->messenger->sync(conv);
  ASSERT_TRUE(synced) << synced.error().message;
  ASSERT_EQ(synced->size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ((*synced)[i].seq, i + 2);
    EXPECT_EQ((*synced)[i].message_id, ids[i]);
    EXPECT_EQ((*synced)[i].plaintext, "offline message " + std::to_string(i + 2));
  }
  EXPECT_EQ(kim->messenger->last_seq(conv), 6);
  // Nothing new: a second sync is empty.
  auto again = kim->messenger->sync(conv);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty());

  std::string live;
  send(*jo, conv, "back online", &live);
  ASSERT_TRUE(kim->pump_until([&] { return kim->has(live); }));
  EXPECT_EQ(kim->find(live)->seq, 7);
}

TEST_F(Messaging, AFreshDeviceSyncsTheWholeHistoryItWasWrappedFor) {
  // A device that never synced pulls the conversation from the start; a gap in
  // pushes (the device missed seq 1) is filled by a sync before the new message.
  auto jo = device("jo");
  auto kim = device("kim");
  std::string conv = open(*jo);
  std::string a, b;
  send(*jo, conv, "before the therapist was online", &a);
  kim->go_online();
  send(*jo, conv, "after", &b);
  ASSERT_TRUE(kim->pump_until([&] { return kim->has(a) && kim->has(b); }));
  ASSERT_EQ(kim->inbox.size(), 2u);
  EXPECT_EQ(kim->inbox[0].message_id, a);
  EXPECT_EQ(kim->inbox[0].plaintext, "before the therapist was online");
  EXPECT_EQ(kim->inbox[1].message_id, b);
}

TEST_F(Messaging, AStaleDeviceListIsRefusedThenReWrappedAndAccepted) {
  // The client has cached the therapist's devices when the therapist signs in on
  // a new device: the next send is refused as stale, the SDK re-wraps the content
  // key for the list the server returned, and the new device can read it.
  auto jo = device("jo");
  auto kim = device("kim");
  std::string conv = open(*jo);
  send(*jo, conv, "cached the recipients now");
  auto kim_new = device("kim");
  // Messaging learns of a new device from identity's announcement over Redis (a send
  // that races it is accepted on the list it had): wait until it lists the device.
  wait_until_listed(*kim, conv, kim_new->device_id());

  auto stale = jo->messenger->seal(conv, "this one needs a re-wrap");
  ASSERT_TRUE(stale) << stale.error().message;
  auto refused = jo->messenger->send_sealed(*stale);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kFailedPrecondition) << refused.error().message;
  EXPECT_EQ(refused.error().field, "keys");
  EXPECT_NE(refused.error().detail.find(kim_new->device_id()), std::string::npos)
      << "the refusal lists the current devices: " << refused.error().detail;

  auto sent = jo->messenger->send_request(*stale);
  ASSERT_TRUE(sent) << sent.error().message;
  EXPECT_EQ(sent->seq, 2);
  bool wrapped_for_new = false;
  for (const auto& k : stale->keys) wrapped_for_new |= k.device_id == kim_new->device_id();
  EXPECT_TRUE(wrapped_for_new);

  auto synced = kim_new->messenger->sync(conv);
  ASSERT_TRUE(synced) << synced.error().message;
  const ReceivedMessage* got = nullptr;
  for (const auto& m : *synced) {
    if (m.message_id == stale->message_id) got = &m;
  }
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->plaintext, "this one needs a re-wrap");
  // The message sent before the device existed was never wrapped for it.
  for (const auto& m : *synced) {
    if (m.seq == 1) {
      EXPECT_FALSE(m.readable()) << "read a message sealed before the device existed";
    }
  }

  // And the plain send() does all of it in one call after yet another new device.
  auto kim_third = device("kim");
  wait_until_listed(*kim, conv, kim_third->device_id());
  std::string id;
  EXPECT_EQ(send(*jo, conv, "third device too", &id), 3);
  auto third = kim_third->messenger->sync(conv);
  ASSERT_TRUE(third);
  ASSERT_FALSE(third->empty());
  EXPECT_EQ(third->back().message_id, id);
  EXPECT_EQ(third->back().plaintext, "third device too");
}

TEST_F(Messaging, ARetryWithTheSameBodyIsIdempotentAndAConflictingOneIsRefused) {
  // A phone that lost the answer sends the identical request again and gets the
  // same seq, with the message stored once; reusing the id for other content is
  // refused as a conflict on message_id.
  auto jo = device("jo");
  auto kim = device("kim");
  std::string conv = open(*jo);
  auto req = jo->messenger->seal(conv, "sent twice, stored once");
  ASSERT_TRUE(req) << req.error().message;
  auto first = jo->messenger->send_sealed(*req);
  ASSERT_TRUE(first) << first.error().message;
  auto second = jo->messenger->send_sealed(*req);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(first->seq, second->seq);

  auto other = jo->messenger->seal(conv, "different words, same id", req->message_id);
  ASSERT_TRUE(other);
  auto conflict = jo->messenger->send_sealed(*other);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, Code::kAlreadyExists) << conflict.error().message;
  EXPECT_EQ(conflict.error().field, "message_id");

  std::string next_id;
  EXPECT_EQ(send(*jo, conv, "the next one", &next_id), first->seq + 1);
  auto synced = kim->messenger->sync(conv);
  ASSERT_TRUE(synced) << synced.error().message;
  ASSERT_EQ(synced->size(), 2u);
  EXPECT_EQ((*synced)[0].message_id, req->message_id);
  EXPECT_EQ((*synced)[0].plaintext, "sent twice, stored once");
  EXPECT_EQ((*synced)[1].message_id, next_id);
}

TEST_F(Messaging, APracticeArchiveKeyGetsEveryNewMessage) {
  // The practice registers an archive key for its records: every message sent
  // afterwards is wrapped for it too, and the archive's private key opens it.
  auto archive = crypto::x25519_generate();
  json::value body = {{"agreement_public_key", client::base64_encode(archive.public_key)}};
  auto set = admin_->call_json("PUT", "/v1/practice/archive-key", &body);
  ASSERT_TRUE(set) << set.error().message;

  auto jo = device("jo");
  auto kim = device("kim");
  std::string conv = open(*jo);
  auto req = jo->messenger->seal(conv, "kept for the record");
  ASSERT_TRUE(req) << req.error().message;
  auto sent = jo->messenger->send_request(*req);
  ASSERT_TRUE(sent) << sent.error().message;
  const crypto::WrappedKey* for_archive = nullptr;
  for (const auto& k : req->keys) {
    if (k.device_id == "archive") for_archive = &k;
  }
  ASSERT_NE(for_archive, nullptr) << "not wrapped for the archive";
  auto opened = crypto::open_message({conv, req->message_id, jo->device_id()}, req->ciphertext,
                                     for_archive->wrapped_key, "archive", archive.private_key,
                                     jo->messenger->device().keys.signing_public);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(*opened, "kept for the record");

  // The therapist still reads it; a message missing the archive's key is refused as stale.
  auto synced = kim->messenger->sync(conv);
  ASSERT_TRUE(synced) << synced.error().message;
  ASSERT_EQ(synced->size(), 1u);
  EXPECT_EQ((*synced)[0].plaintext, "kept for the record");
  auto partial = jo->messenger->seal(conv, "without the archive");
  ASSERT_TRUE(partial);
  std::erase_if(partial->keys, [](const crypto::WrappedKey& k) { return k.device_id == "archive"; });
  auto refused = jo->messenger->send_sealed(*partial);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "keys") << refused.error().message;
}

TEST_F(Messaging, OutsidersCanNeitherReadNorSend) {
  // The front desk, another client of the practice and a therapist of another
  // practice get "not found" for the conversation, its messages and its devices,
  // and cannot post into it.
  auto jo = device("jo");
  std::string conv = open(*jo);
  std::string id;
  send(*jo, conv, "only for my therapist", &id);

  std::string other_slug = "o" + new_id().substr(0, 12);
  sys_->create_practice(other_slug);
  std::string other_therapist = sys_->create_user(other_slug, "lee@" + other_slug + ".example", "therapist");
  ASSERT_FALSE(other_therapist.empty());

  std::vector<std::pair<std::string, std::unique_ptr<Member>>> outsiders;
  outsiders.emplace_back("front desk", device("desk"));
  outsiders.emplace_back("another client", device("sam"));
  outsiders.emplace_back("another practice's therapist", device("lee", other_slug));
  for (auto& [who, m] : outsiders) {
    ASSERT_TRUE(m) << who;
    auto got = m->messenger->conversation(conv);
    ASSERT_FALSE(got) << who;
    EXPECT_EQ(got.error().code, Code::kNotFound) << who;
    auto synced = m->messenger->sync(conv);
    ASSERT_FALSE(synced) << who << " read " << synced->size() << " messages";
    EXPECT_EQ(synced.error().code, Code::kNotFound) << who;
    auto devices = m->messenger->recipients(conv, true);
    ASSERT_FALSE(devices) << who;
    EXPECT_EQ(devices.error().code, Code::kNotFound) << who;
    auto listed = m->messenger->conversations();
    if (listed) {
      for (const auto& c : *listed) EXPECT_NE(c.id, conv) << who;
    }

    // A hand-sealed message for the outsider's own device: the server must refuse it.
    client::SealedRequest req;
    req.conversation_id = conv;
    req.message_id = client::new_message_id();
    req.sender_device_id = m->device_id();
    auto sealed = crypto::seal_message({conv, req.message_id, req.sender_device_id}, "intrusion",
                                       m->messenger->device().keys.signing_private,
                                       {{m->device_id(), m->messenger->device().keys.agreement_public}});
    ASSERT_TRUE(sealed);
    req.ciphertext = sealed->ciphertext;
    req.keys = sealed->keys;
    auto posted = m->messenger->send_sealed(req);
    ASSERT_FALSE(posted) << who << " could post";
    EXPECT_EQ(posted.error().code, Code::kNotFound) << who << ": " << posted.error().message;
    auto typing = m->messenger->set_typing(conv, true);
    EXPECT_FALSE(typing) << who;
  }
  // The real participant still sees exactly one message.
  auto kim = device("kim");
  auto synced = kim->messenger->sync(conv);
  ASSERT_TRUE(synced) << synced.error().message;
  ASSERT_EQ(synced->size(), 1u);
  EXPECT_EQ((*synced)[0].message_id, id);
}

// The first "message.new" frame read raw from `socket` whose body `wanted` accepts,
// as the gateway rendered it (the SDK would interpret it); nullopt after 10 s.
std::optional<json::value> next_message_push(client::WebSocket& socket,
                                             const std::function<bool(const json::value&)>& wanted) {
  std::optional<json::value> found;
  wait_until(
      [&] {
        auto text = socket.read_text(100ms);
        if (!text) return false;
        json::value v = json::parse(*text);
        if (v.at("type").as_string() != "message.new" || !wanted(v.at("body"))) return false;
        found = std::move(v);
        return true;
      },
      10s);
  return found;
}

// Today's weekday in UTC, 0 = Sunday.
int utc_weekday_today() {
  auto days = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  return static_cast<int>(std::chrono::weekday(days).c_encoding());
}

// The practice's crisis text and a one-hour notice period; the therapist's
// messaging hours a single minute on another weekday, so it is after hours now.
void close_messaging_hours(client::AllianceClient& admin, Member& therapist, const std::string& therapist_id) {
  json::value policy = {{"crisis_text", "If you are in crisis, call 988."}, {"notice_period_minutes", 60}};
  auto set_policy = admin.call_json("PUT", "/v1/messaging/policy", &policy);
  ASSERT_TRUE(set_policy) << set_policy.error().message;
  json::value hours = {
      {"time_zone", "UTC"},
      {"windows", json::array{json::value{{"weekday", (utc_weekday_today() + 3) % 7}, {"start", "09:00"}, {"end", "09:01"}}}},
      {"expected_reply_hours", 24}};
  auto set_hours = therapist.api->call_json("PUT", "/v1/therapists/" + therapist_id + "/messaging-hours", &hours);
  ASSERT_TRUE(set_hours) << set_hours.error().message;
}

TEST_F(Messaging, AnAfterHoursNoticeAppearsOncePerPeriod) {
  // The therapist's messaging hours are a single minute on another weekday, so it
  // is after hours now: two client messages in a row bring exactly one system
  // notice from the practice, flagged as such, seen by both participants.
  auto jo = device("jo");
  auto kim = device("kim");
  close_messaging_hours(*admin_, *kim, therapist_id_);

  std::string conv = open(*jo);
  std::string a, b;
  send(*jo, conv, "Are you around tonight?", &a);
  send(*jo, conv, "Never mind, it can wait.", &b);

  for (auto* m : {jo.get(), kim.get()}) {
    auto synced = m->messenger->sync(conv);
    ASSERT_TRUE(synced) << synced.error().message;
    int notices = 0, user = 0;
    for (const auto& msg : *synced) {
      if (msg.is_system()) {
        ++notices;
        EXPECT_FALSE(msg.system_text.empty());
        EXPECT_NE(msg.system_text.find("988"), std::string::npos) << msg.system_text;
        EXPECT_TRUE(msg.sender_user_id.empty()) << "a notice is never from a person";
        EXPECT_TRUE(msg.plaintext.empty());
      } else {
        ++user;
        EXPECT_TRUE(msg.readable()) << msg.error;
      }
    }
    EXPECT_EQ(notices, 1) << "device " << m->device_id();
    EXPECT_EQ(user, 2);
    // Seqs stay gapless with the notice among them.
    for (std::size_t i = 0; i < synced->size(); ++i) EXPECT_EQ((*synced)[i].seq, static_cast<std::int64_t>(i + 1));
  }
}

TEST_F(Messaging, AnAfterHoursNoticeNamesNoSenderInTheJsonOfEveryPath) {
  // A client writes after hours. The notice the practice's server adds is read
  // as the gateway renders it, not through the SDK (which would hide what the
  // server said): in the therapist's live push and in both participants' sync,
  // it is kind "system" with empty sender_user_id and sender_device_id, so no
  // app can show it as written by the therapist (or anyone).
  auto jo = device("jo");
  auto kim = device("kim");
  close_messaging_hours(*admin_, *kim, therapist_id_);
  std::string conv = open(*jo);
  auto raw = kim->api->open_push_socket();
  ASSERT_TRUE(raw) << raw.error().message;

  std::string id;
  send(*jo, conv, "Are you around tonight?", &id);
  auto pushed = next_message_push(**raw, [](const json::value& body) { return body.at("kind").as_string() == "system"; });
  ASSERT_TRUE(pushed) << "no notice pushed";
  auto expect_no_sender = [](const json::value& m, const std::string& where) {
    EXPECT_EQ(m.at("kind").as_string(), "system") << where;
    EXPECT_EQ(m.at("sender_user_id").as_string(), "") << where;
    EXPECT_EQ(m.at("sender_device_id").as_string(), "") << where;
    EXPECT_EQ(m.at("ciphertext").as_string(), "") << where;
    EXPECT_TRUE(m.at("keys").as_array().empty()) << where;
  };
  expect_no_sender(pushed->at("body"), "push");

  for (auto* m : {jo.get(), kim.get()}) {
    auto synced = m->api->get_json("/v1/conversations/" + conv + "/messages?device_id=" + m->device_id());
    ASSERT_TRUE(synced) << synced.error().message;
    const auto& list = synced->at("messages").as_array();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].at("message_id").as_string(), id);
    EXPECT_EQ(list[0].at("sender_user_id").as_string(), client_id_);
    expect_no_sender(list[1], "sync by " + m->user_id);
  }
}

TEST_F(Messaging, TheDevicesAnswerCarriesTheIdentityKeyOfEachParticipantWhoHasOne) {
  // The client makes a user identity key on their device; the therapist has none.
  // The conversation's devices answer, as the gateway renders it, lists the
  // client's key as identity holds it, and still both participants' devices.
  auto jo = device("jo");
  auto kim = device("kim");
  std::string conv = open(*jo);
  auto setup = client::set_up_identity(*jo->api, jo->messenger->device(), now_unix_ms());
  ASSERT_TRUE(setup) << setup.error().message;
  ASSERT_TRUE(setup->identity) << "a first device holds the new key";

  auto answer = kim->api->get_json("/v1/conversations/" + conv + "/devices");
  ASSERT_TRUE(answer) << answer.error().message;
  auto recipients = client::recipients_from_json(*answer);
  ASSERT_TRUE(recipients) << recipients.error().message;
  ASSERT_EQ(recipients->identity_keys.size(), 1u);
  EXPECT_EQ(recipients->identity_keys[0].user_id, client_id_);
  EXPECT_EQ(recipients->identity_keys[0].public_key, setup->identity->key.public_key);
  EXPECT_GT(recipients->identity_keys[0].set_unix_ms, 0);
  std::set<std::string> listed;
  for (const auto& d : recipients->devices) listed.insert(d.id);
  EXPECT_EQ(listed, (std::set<std::string>{jo->device_id(), kim->device_id()}));
}

TEST_F(Messaging, ARevokedDeviceGetsNothingNew) {
  // The therapist revokes a lost phone from the laptop: the phone's socket closes,
  // its session is gone, and the next message carries no key for it.
  auto jo = device("jo");
  auto laptop = device("kim");
  auto phone = device("kim");
  std::string conv = open(*jo);
  send(*jo, conv, "before the phone was lost");
  phone->go_online();

  auto revoked = laptop->api->post_json("/v1/devices/" + phone->device_id() + "/revoke", json::object{});
  ASSERT_TRUE(revoked) << revoked.error().message;
  ASSERT_TRUE(phone->socket->wait_closed(5s)) << "the revoked device's socket stays open";
  auto after = phone->messenger->sync(conv);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, Code::kUnauthenticated) << after.error().message;

  // The laptop reads the raw push to see every key the message carries.
  auto raw = laptop->api->open_push_socket();
  ASSERT_TRUE(raw) << raw.error().message;
  std::string id;
  send(*jo, conv, "after the phone was revoked", &id);
  auto pushed = next_message_push(**raw, [&](const json::value& body) { return body.at("message_id").as_string() == id; });
  ASSERT_TRUE(pushed);
  bool for_laptop = false;
  for (const auto& k : pushed->at("body").at("keys").as_array()) {
    EXPECT_NE(k.at("device_id").as_string(), phone->device_id());
    for_laptop |= k.at("device_id").as_string() == laptop->device_id();
  }
  EXPECT_TRUE(for_laptop);
  auto list = jo->messenger->recipients(conv, true);
  ASSERT_TRUE(list) << list.error().message;
  for (const auto& d : list->devices) EXPECT_NE(d.id, phone->device_id());
}

TEST_F(Messaging, HistoryFromARevokedOrLoggedOutDeviceStillOpensOnAFreshMessenger) {
  // The therapist writes from a phone and from a tablet, then revokes the phone
  // and logs out of the tablet. The client's app restarts (a new Messenger with
  // the same device keys and id) and syncs from the start: both messages open and
  // verify, while neither inactive device is a recipient of anything new.
  auto jo = device("jo");
  auto laptop = device("kim");
  auto phone = device("kim");
  auto tablet = device("kim");
  std::string conv = open(*jo);
  std::string from_phone, from_tablet;
  send(*phone, conv, "sent from the phone", &from_phone);
  send(*tablet, conv, "sent from the tablet", &from_tablet);

  auto revoked = laptop->api->post_json("/v1/devices/" + phone->device_id() + "/revoke", json::object{});
  ASSERT_TRUE(revoked) << revoked.error().message;
  auto logged_out = tablet->api->logout();
  ASSERT_TRUE(logged_out) << logged_out.error().message;

  // The plain recipients list no longer has them; asked for, they are listed after
  // the active devices and marked.
  auto plain = jo->api->get_json("/v1/conversations/" + conv + "/devices");
  ASSERT_TRUE(plain) << plain.error().message;
  for (const auto& d : plain->at("devices").as_array()) {
    EXPECT_NE(d.at("id").as_string(), phone->device_id());
    EXPECT_NE(d.at("id").as_string(), tablet->device_id());
  }
  auto all = jo->api->get_json("/v1/conversations/" + conv + "/devices?include_inactive=true");
  ASSERT_TRUE(all) << all.error().message;
  std::set<std::string> inactive;
  bool inactive_seen = false;
  for (const auto& d : all->at("devices").as_array()) {
    const auto* stopped = d.as_object().if_contains("revoked_unix_ms");
    const bool is_inactive = stopped && stopped->is_string() && stopped->as_string() != "0";
    EXPECT_TRUE(is_inactive || !inactive_seen) << "an active device after an inactive one";
    inactive_seen |= is_inactive;
    if (is_inactive) inactive.insert(std::string(d.at("id").as_string()));
  }
  EXPECT_EQ(inactive, (std::set<std::string>{phone->device_id(), tablet->device_id()}));

  // The restarted app: same session, same device, nothing pinned yet.
  Messenger fresh(*jo->api, jo->messenger->device());
  auto history = fresh.sync(conv);
  ASSERT_TRUE(history) << history.error().message;
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].message_id, from_phone);
  EXPECT_EQ((*history)[0].sender_device_id, phone->device_id());
  EXPECT_TRUE((*history)[0].readable()) << (*history)[0].error;
  EXPECT_EQ((*history)[0].plaintext, "sent from the phone");
  EXPECT_EQ((*history)[1].message_id, from_tablet);
  EXPECT_TRUE((*history)[1].readable()) << (*history)[1].error;
  EXPECT_EQ((*history)[1].plaintext, "sent from the tablet");

  // What it sends next is wrapped for the active devices only, and the laptop reads it.
  auto list = fresh.recipients(conv);
  ASSERT_TRUE(list) << list.error().message;
  std::set<std::string> recipients;
  for (const auto& d : list->devices) recipients.insert(d.id);
  EXPECT_EQ(recipients, (std::set<std::string>{jo->device_id(), laptop->device_id()}));
  std::string reply;
  send_with(fresh, conv, "a reply after the restart", &reply);
  auto read = laptop->messenger->sync(conv);
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_FALSE(read->empty());
  EXPECT_EQ(read->back().message_id, reply);
  EXPECT_EQ(read->back().plaintext, "a reply after the restart");
}

TEST_F(Messaging, TheCanaryPhraseIsNowhereOnTheServerSide) {
  // A phrase sent both ways in messages is found in no database file (WAL
  // included), log or other file of the services, in no Redis key and not in
  // Redis's dump: the server only ever held ciphertext.
  const std::string canary = "canary-plaintext-" + new_id();
  auto jo = device("jo");
  auto kim = device("kim");
  kim->go_online();
  std::string conv = open(*jo);
  std::string id;
  send(*jo, conv, "my secret is " + canary, &id);
  ASSERT_TRUE(kim->pump_until([&] { return kim->has(id); }));
  ASSERT_NE(kim->find(id)->plaintext.find(canary), std::string::npos) << "the canary never made it across";
  send(*kim, conv, "I hear you: " + canary);

  ASSERT_EQ(sys_->redis().cli({"SAVE"}), "OK\n");
  std::string redis_dump = read_file(sys_->redis().dir() / "dump.rdb");
  ASSERT_FALSE(redis_dump.empty());
  std::string redis_keys = sys_->redis().cli({"--scan"});
  EXPECT_EQ(redis_dump.find(canary), std::string::npos) << "redis dump";
  EXPECT_EQ(redis_keys.find(canary), std::string::npos) << "redis keys";

  bool saw_message_id = false;
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(sys_->dir())) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::string text = read_file(entry.path());
    EXPECT_EQ(text.find(canary), std::string::npos) << entry.path();
    if (entry.path().filename().string().find("messaging") != std::string::npos &&
        text.find(id) != std::string::npos) {
      saw_message_id = true;
    }
  }
  EXPECT_GE(files, 4);
  // The search looked where the messages are: the message id is in messaging's files.
  EXPECT_TRUE(saw_message_id) << "no messaging file holds the message id";
  EXPECT_NE(sys_->messaging().log().find("\"msg\""), std::string::npos);
}

TEST(MessagingCrash, KillNineDuringAStreamOfSendsLosesAndDuplicatesNothing) {
  // The messaging service is killed with SIGKILL while a client keeps sending and
  // retrying each message with the same request until it is accepted; after the
  // restart every acknowledged message is there exactly once, seqs 1..N gapless.
  SystemOptions options;
  options.messaging_flags = {{"send_rate_per_minute", "0"}};  // the stream is faster than a person types
  System sys(options);
  std::string slug = "k" + new_id().substr(0, 12);
  sys.create_practice(slug);
  auto admin = sys.login(slug, "admin@" + slug + ".example");
  std::string therapist = sys.create_user(slug, "kim@" + slug + ".example", "therapist");
  std::string client_user = sys.create_user(slug, "jo@" + slug + ".example", "client");
  ASSERT_TRUE(admin->post_json("/v1/care-team", json::value{{"client_id", client_user}, {"therapist_id", therapist}}));

  auto make = [&](const std::string& who) {
    auto m = std::make_unique<Member>();
    m->api = sys.login(slug, who + "@" + slug + ".example");
    auto d = client::register_device(*m->api, who);
    EXPECT_TRUE(d) << d.error().message;
    m->messenger = std::make_unique<Messenger>(*m->api, std::move(*d));
    return m;
  };
  auto jo = make("jo");
  auto kim = make("kim");
  auto conv = jo->messenger->open_conversation(client_user, therapist);
  ASSERT_TRUE(conv) << conv.error().message;
  ASSERT_TRUE(jo->messenger->recipients(conv->id));
  jo->api->set_timeout(3s);

  constexpr int kMessages = 60;
  std::atomic<int> acked{0}, errors{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::map<std::string, std::int64_t> acked_seq;  // message id -> seq the server acknowledged
  std::string failure;
  std::thread sender([&] {
    for (int i = 0; i < kMessages && !failed; ++i) {
      auto req = jo->messenger->seal(conv->id, "stream message " + std::to_string(i));
      if (!req) {
        std::lock_guard lock(mu);
        failure = "seal: " + req.error().message;
        failed = true;
        return;
      }
      auto deadline = std::chrono::steady_clock::now() + 60s;
      for (;;) {
        auto sent = jo->messenger->send_request(*req);
        if (sent) {
          std::lock_guard lock(mu);
          acked_seq[req->message_id] = sent->seq;
          ++acked;
          break;
        }
        ++errors;
        if (sent.error().code == Code::kAlreadyExists || std::chrono::steady_clock::now() > deadline) {
          std::lock_guard lock(mu);
          failure = "message " + std::to_string(i) + ": " + sent.error().message;
          failed = true;
          return;
        }
        // Back off between retries as an app would (pacing, not a wait for some state).
        std::this_thread::sleep_for(20ms);
      }
    }
  });

  ASSERT_TRUE(wait_until([&] { return acked >= 10 || failed; }, 30s));
  sys.kill_messaging();
  EXPECT_TRUE(wait_until([&] { return errors > 0 || failed; }, 10s)) << "no send failed while messaging was down";
  sys.restart_messaging();
  sender.join();
  ASSERT_FALSE(failed) << failure;
  ASSERT_EQ(acked, kMessages);

  std::set<std::int64_t> seqs;
  for (const auto& [id, seq] : acked_seq) seqs.insert(seq);
  EXPECT_EQ(seqs.size(), acked_seq.size()) << "two messages acknowledged with one seq";

  auto synced = kim->messenger->sync(conv->id);
  ASSERT_TRUE(synced) << synced.error().message;
  std::map<std::string, int> seen;
  for (std::size_t i = 0; i < synced->size(); ++i) {
    const auto& m = (*synced)[i];
    EXPECT_EQ(m.seq, static_cast<std::int64_t>(i + 1)) << "seqs have a gap";
    EXPECT_TRUE(m.readable()) << m.error;
    ++seen[m.message_id];
    auto it = acked_seq.find(m.message_id);
    ASSERT_NE(it, acked_seq.end()) << "a message nobody acknowledged: " << m.message_id;
    EXPECT_EQ(it->second, m.seq) << "stored under another seq than acknowledged";
  }
  EXPECT_EQ(synced->size(), static_cast<std::size_t>(kMessages));
  for (const auto& [id, seq] : acked_seq) EXPECT_EQ(seen[id], 1) << id << " (seq " << seq << ")";
}

}  // namespace
}  // namespace alliance::testing
