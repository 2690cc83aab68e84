#pragma once
// MessagingServiceTest: the fixture the messaging service tests share.
// MessagingService built directly (no RPC) over a real SQLite file in a temp dir,
// a real redis-server (pushes, send rate) and an in-memory directory standing in
// for identity (users, care team, each user's devices and sessions, the practice
// archive key). "Now" is a variable the service's clock reads: Monday 2030-01-07
// 12:00Z, which is 07:00 in New York (UTC-5 in January), before any 09:00 opening.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "alliance/core/ids.hpp"
#include "alliance/push/v1/push.pb.h"
#include "alliance/redis/client.hpp"
#include "alliance/redis/push.hpp"
#include "alliance/redis/subscriber.hpp"
#include "io_test.hpp"
#include "messaging_directory.hpp"
#include "messaging_service.hpp"
#include "messaging_store.hpp"
#include "process.hpp"
#include "redis_login.hpp"
#include "redis_server.hpp"

namespace alliance::messaging {
namespace {

using namespace std::chrono_literals;
namespace idpb = ::alliance::identity::v1;

constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kHourMs = 60 * kMinuteMs;
constexpr std::int64_t kDayMs = 24 * kHourMs;

// Unix milliseconds of a UTC date and time.
inline std::int64_t utc_ms(int y, unsigned m, unsigned d, int hour, int minute = 0) {
  const std::chrono::sys_days day{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}};
  return std::chrono::duration_cast<std::chrono::milliseconds>(day.time_since_epoch()).count() +
         hour * kHourMs + minute * kMinuteMs;
}

// identity's facts, in memory: users, care-team pairs, each user's active and
// revoked devices (registered by one session each), each practice's archive key
// and users' identity keys.
class FakeDirectory final : public MessagingDirectory {
 public:
  void add_user(const std::string& id, const std::string& practice, const std::string& role) {
    users_[id] = UserFacts{id, practice, role};
  }
  void link(const std::string& client, const std::string& therapist) { team_.insert({client, therapist}); }
  // A device of `user` registered by `session`.
  void add_device(const std::string& user, const std::string& device_id, const std::string& session) {
    idpb::Device d;
    d.set_id(device_id);
    d.set_user_id(user);
    d.set_name(device_id);
    d.set_signing_public_key(random_bytes(32));
    d.set_agreement_public_key(random_bytes(32));
    d.set_agreement_key_signature(random_bytes(64));
    d.set_created_unix_ms(1);
    devices_[device_id] = d;
    sessions_[session] = device_id;
  }
  // The device stops being active; it is still listed by devices_with_inactive.
  void revoke_device(const std::string& device_id) {
    auto it = devices_.find(device_id);
    if (it == devices_.end()) return;
    it->second.set_revoked_unix_ms(2);
    inactive_[device_id] = it->second;
    devices_.erase(it);
  }
  void set_archive_key(const std::string& practice, std::string public_key) {
    idpb::ArchiveKey k;
    k.set_practice_id(practice);
    k.set_agreement_public_key(std::move(public_key));
    k.set_set_unix_ms(1);
    archive_[practice] = k;
  }

  void set_identity_key(const std::string& user, std::string public_key) {
    idpb::IdentityKey k;
    k.set_user_id(user);
    k.set_public_key(std::move(public_key));
    k.set_set_unix_ms(3);
    identity_keys_[user] = k;
  }

  // The active device ids of `user`, sorted.
  std::vector<std::string> devices_of(const std::string& user) const {
    std::vector<std::string> out;
    for (const auto& [id, d] : devices_)
      if (d.user_id() == user) out.push_back(id);
    return out;
  }
  bool has_archive_key(const std::string& practice) const { return archive_.count(practice) > 0; }

  asio::awaitable<Result<std::optional<UserFacts>>> find_user(std::string id) override {
    auto it = users_.find(id);
    if (it == users_.end()) co_return std::optional<UserFacts>();
    co_return std::optional<UserFacts>(it->second);
  }
  asio::awaitable<Result<bool>> on_care_team(std::string client, std::string therapist) override {
    co_return team_.count({client, therapist}) > 0;
  }
  asio::awaitable<Result<SharedDevices>> active_devices(std::string practice, std::vector<std::string> user_ids,
                                                        std::string session_id) override {
    co_return std::make_shared<const ActiveDevices>(list(practice, user_ids, session_id));
  }
  asio::awaitable<Result<SharedDevices>> devices_with_inactive(std::string practice,
                                                               std::vector<std::string> user_ids) override {
    auto out = list(practice, user_ids, "");
    for (const auto& [id, d] : inactive_) {
      auto owner = users_.find(d.user_id());
      if (owner == users_.end() || owner->second.practice_id != practice) continue;
      if (std::find(user_ids.begin(), user_ids.end(), d.user_id()) != user_ids.end()) out.devices.push_back(d);
    }
    co_return std::make_shared<const ActiveDevices>(std::move(out));
  }

 private:
  ActiveDevices list(const std::string& practice, const std::vector<std::string>& user_ids,
                     const std::string& session_id) const {
    ActiveDevices out;
    for (const auto& [id, d] : devices_) {
      auto owner = users_.find(d.user_id());
      if (owner == users_.end() || owner->second.practice_id != practice) continue;
      if (std::find(user_ids.begin(), user_ids.end(), d.user_id()) != user_ids.end()) out.devices.push_back(d);
    }
    if (auto it = archive_.find(practice); it != archive_.end()) out.archive_key = it->second;
    for (const auto& [user, key] : identity_keys_) {
      auto owner = users_.find(user);
      if (owner == users_.end() || owner->second.practice_id != practice) continue;
      if (std::find(user_ids.begin(), user_ids.end(), user) != user_ids.end()) out.identity_keys.push_back(key);
    }
    if (auto it = sessions_.find(session_id); !session_id.empty() && it != sessions_.end() &&
                                              devices_.count(it->second)) {
      out.session_device_id = it->second;
    }
    return out;
  }

  std::map<std::string, UserFacts> users_;
  std::set<std::pair<std::string, std::string>> team_;
  std::map<std::string, idpb::Device> devices_;   // active
  std::map<std::string, idpb::Device> inactive_;  // revoked
  std::map<std::string, std::string> sessions_;  // session id -> device id
  std::map<std::string, idpb::ArchiveKey> archive_;
  std::map<std::string, idpb::IdentityKey> identity_keys_;  // by user
};

class MessagingServiceTest : public testing::IoTest {
 protected:
  static void SetUpTestSuite() { redis_server_ = new testing::RedisServer(); }
  static void TearDownTestSuite() {
    delete redis_server_;
    redis_server_ = nullptr;
  }

  void SetUp() override {
    now_ = utc_ms(2030, 1, 7, 12);
    db_path_ = dir_.path() / "messaging.db";
    auto store = MessagingStore::open(db_path_);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    auto ro = testing::redis_login(*redis_server_, "admin");
    redis_ = std::make_unique<redis::Client>(io_.get_executor(), ro);
    redis_->start();
    ASSERT_TRUE(run(redis_->wait_connected(2s)));
    std::vector<std::string> flush{"FLUSHDB"};
    ASSERT_TRUE(run(redis_->command(std::move(flush))).ok());  // no send-rate counters from earlier tests
    MessagingOptions options;
    options.send_rate_per_minute = 0;  // the rate-limit test turns it on
    build_service(options);

    directory_.add_user(kAdmin, kPractice, "admin");
    directory_.add_user(kDesk, kPractice, "front_desk");
    directory_.add_user(kTherapist, kPractice, "therapist");
    directory_.add_user(kTherapist2, kPractice, "therapist");
    directory_.add_user(kClient, kPractice, "client");
    directory_.add_user(kClient2, kPractice, "client");
    directory_.add_user(kOtherAdmin, kOtherPractice, "admin");
    directory_.add_user(kOtherTherapist, kOtherPractice, "therapist");
    directory_.link(kClient, kTherapist);
    directory_.link(kClient2, kTherapist2);
    directory_.add_device(kClient, "dev-client-phone", "sess-client");
    directory_.add_device(kClient, "dev-client-laptop", "sess-client-laptop");
    directory_.add_device(kTherapist, "dev-therapist", "sess-therapist");
    directory_.add_device(kClient2, "dev-client2", "sess-client2");
    directory_.add_device(kTherapist2, "dev-therapist2", "sess-therapist2");
    directory_.add_device(kOtherTherapist, "dev-other-therapist", "sess-other-therapist");
    directory_.add_device(kAdmin, "dev-admin", "sess-admin");
    directory_.add_device(kDesk, "dev-desk", "sess-desk");
  }

  void TearDown() override {
    io_.poll();  // pushes still queued
    if (push_sub_) push_sub_->stop();
    push_sub_.reset();
    service_.reset();
    if (redis_) redis_->stop();
    io_.poll();
    store_.reset();
  }

  // (Re)builds the service over the same store, directory and Redis; the clock reads now_.
  void build_service(MessagingOptions options) { service_ = service_over(directory_, std::move(options)); }
  // Another service over the same store and Redis that asks `directory` (a cache in
  // front of directory_, say), which must outlive it; the clock reads now_.
  std::unique_ptr<MessagingService> service_over(MessagingDirectory& directory,
                                                 MessagingOptions options = {.send_rate_per_minute = 0}) {
    options.now_ms = [this] { return now_; };
    return std::make_unique<MessagingService>(io_.get_executor(), *store_, directory, redis_.get(), options);
  }

  // Closes the store and opens the same file again (migrations run), as a restart
  // would, with the service rebuilt over it.
  void reopen_store() {
    service_.reset();
    store_.reset();
    auto reopened = MessagingStore::open(db_path_);
    ASSERT_TRUE(reopened.ok()) << reopened.error().message;
    store_ = std::move(*reopened);
    build_service(MessagingOptions{.send_rate_per_minute = 0});
  }

  // A call as the gateway forwards it.
  static net::CallContext as(const std::string& user, const std::string& role, const std::string& session = "",
                             const std::string& practice = kPractice) {
    net::CallContext ctx;
    ctx.caller.set_user_id(user);
    ctx.caller.set_practice_id(practice);
    ctx.caller.set_role(role);
    ctx.caller.set_session_id(session);
    ctx.peer_name = "gateway";
    return ctx;
  }
  static net::CallContext client() { return as(kClient, "client", "sess-client"); }
  static net::CallContext therapist() { return as(kTherapist, "therapist", "sess-therapist"); }
  static net::CallContext admin() { return as(kAdmin, "admin", "sess-admin"); }

  // The conversation of kClient and kTherapist (or the given pair), opened by the client.
  std::string open(const std::string& client_id = kClient, const std::string& therapist_id = kTherapist,
                   const std::string& session = "sess-client") {
    pb::OpenConversationRequest req;
    req.set_client_id(client_id);
    req.set_therapist_id(therapist_id);
    auto r = run(service_->open_conversation(req, as(client_id, "client", session)));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r->conversation().id() : "";
  }

  // Every device a message in the conversation of (client, therapist) must be
  // wrapped for right now, plus "archive" if the practice has an archive key.
  std::vector<std::string> recipients(const std::string& client_id = kClient,
                                      const std::string& therapist_id = kTherapist) const {
    auto out = directory_.devices_of(client_id);
    for (auto& d : directory_.devices_of(therapist_id)) out.push_back(d);
    if (directory_.has_archive_key(kPractice)) out.push_back("archive");
    return out;
  }

  // A sealed-looking send: `ciphertext` (random 200 bytes if empty) and one
  // distinct random 80-byte wrapped key per device in `devices`.
  static pb::SendMessageRequest sealed(const std::string& conversation_id, const std::string& message_id,
                                       const std::string& sender_device, const std::vector<std::string>& devices,
                                       std::string ciphertext = "") {
    pb::SendMessageRequest req;
    req.set_conversation_id(conversation_id);
    req.set_message_id(message_id);
    req.set_sender_device_id(sender_device);
    req.set_ciphertext(ciphertext.empty() ? random_bytes(200) : std::move(ciphertext));
    for (const auto& d : devices) {
      auto* k = req.add_keys();
      k->set_device_id(d);
      k->set_wrapped_key(random_bytes(80));
    }
    return req;
  }

  // The wrapped key `req` carries for `device` ("" if none).
  static std::string key_for(const pb::SendMessageRequest& req, const std::string& device) {
    for (const auto& k : req.keys())
      if (k.device_id() == device) return k.wrapped_key();
    return "";
  }

  Result<pb::SendMessageResponse> send(const net::CallContext& who, const pb::SendMessageRequest& req) {
    return run(service_->send_message(req, who));
  }
  // The client (phone) sends a fresh message to every current recipient.
  Result<pb::SendMessageResponse> client_says(const std::string& conversation_id, const std::string& message_id) {
    return send(client(), sealed(conversation_id, message_id, "dev-client-phone", recipients()));
  }
  Result<pb::SendMessageResponse> therapist_says(const std::string& conversation_id, const std::string& message_id) {
    return send(therapist(), sealed(conversation_id, message_id, "dev-therapist", recipients()));
  }

  Result<pb::SyncMessagesResponse> sync(const net::CallContext& who, const std::string& conversation_id,
                                        const std::string& device, std::int64_t after_seq = 0, int limit = 500) {
    pb::SyncMessagesRequest req;
    req.set_conversation_id(conversation_id);
    req.set_device_id(device);
    req.set_after_seq(after_seq);
    req.set_limit(limit);
    return run(service_->sync_messages(req, who));
  }
  // Everything in the conversation as the therapist's device sees it.
  std::vector<pb::Message> messages(const std::string& conversation_id) {
    auto r = sync(therapist(), conversation_id, "dev-therapist");
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r.ok()) return {};
    return {r->messages().begin(), r->messages().end()};
  }

  void set_policy(const std::string& crisis_text, int notice_period_minutes, int retention_days) {
    pb::SetMessagingPolicyRequest req;
    req.set_crisis_text(crisis_text);
    req.set_notice_period_minutes(notice_period_minutes);
    req.set_retention_days(retention_days);
    auto r = run(service_->set_messaging_policy(req, admin()));
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  // Monday to Friday 09:00-17:00 New York.
  void set_office_hours(const std::string& therapist_id = kTherapist) {
    pb::SetMessagingHoursRequest req;
    req.set_therapist_id(therapist_id);
    req.set_time_zone("America/New_York");
    req.set_expected_reply_hours(24);
    for (int d = 1; d <= 5; ++d) {
      auto* w = req.add_windows();
      w->set_weekday(d);
      w->set_start("09:00");
      w->set_end("17:00");
    }
    auto r = run(service_->set_messaging_hours(req, as(therapist_id, "therapist")));
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  // From now on, records every push frame to `users` through a real Redis
  // subscriber; frames_ fills while the io_context runs (run, pump_until).
  void record_pushes(const std::vector<std::string>& users) {
    std::map<std::string, std::string> user_of;  // channel -> user
    for (const auto& u : users) user_of[redis::push_channel(u)] = u;
    push_sub_ = std::make_unique<redis::Subscriber>(
        io_.get_executor(), testing::redis_login(*redis_server_, "admin"),
        [this, user_of](std::string_view channel, std::string_view payload) {
          alliance::push::v1::PushFrame f;
          EXPECT_TRUE(f.ParseFromString(std::string(payload)));
          frames_[user_of.at(std::string(channel))].push_back(std::move(f));
        });
    push_sub_->start();
    for (const auto& [channel, user] : user_of) push_sub_->subscribe(channel);
    for (const auto& [channel, user] : user_of) ASSERT_TRUE(run(push_sub_->wait_subscribed(channel, 3s))) << channel;
  }
  // How many frames of `type` `user` has been pushed so far.
  std::size_t pushed(const std::string& user, const std::string& type) {
    return std::count_if(frames_[user].begin(), frames_[user].end(), [&](const auto& f) { return f.type() == type; });
  }
  // The "message.new" bodies pushed to `user`, in order.
  std::vector<pb::Message> pushed_messages(const std::string& user) {
    std::vector<pb::Message> out;
    for (const auto& f : frames_[user]) {
      if (f.type() != "message.new") continue;
      EXPECT_FALSE(f.id().empty());
      EXPECT_TRUE(f.body().UnpackTo(&out.emplace_back()));
    }
    return out;
  }

  std::vector<pb::ErasureRecord> erasures() {
    auto r = run(service_->list_erasures(pb::ListErasuresRequest{}, admin()));
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r.ok()) return {};
    return {r->records().begin(), r->records().end()};
  }

  static constexpr const char* kPractice = "practice-1";
  static constexpr const char* kOtherPractice = "practice-2";
  static constexpr const char* kAdmin = "admin-1";
  static constexpr const char* kDesk = "desk-1";
  static constexpr const char* kTherapist = "therapist-1";
  static constexpr const char* kTherapist2 = "therapist-2";
  static constexpr const char* kClient = "client-1";
  static constexpr const char* kClient2 = "client-2";
  static constexpr const char* kOtherAdmin = "admin-9";
  static constexpr const char* kOtherTherapist = "therapist-9";

  static inline testing::RedisServer* redis_server_ = nullptr;
  testing::TempDir dir_;
  std::filesystem::path db_path_;
  std::int64_t now_ = 0;
  FakeDirectory directory_;
  std::unique_ptr<MessagingStore> store_;
  std::unique_ptr<redis::Client> redis_;
  std::unique_ptr<MessagingService> service_;
  std::unique_ptr<redis::Subscriber> push_sub_;
  std::map<std::string, std::vector<alliance::push::v1::PushFrame>> frames_;  // by user
};

}  // namespace
}  // namespace alliance::messaging
