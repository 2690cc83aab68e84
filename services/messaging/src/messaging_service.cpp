#include "messaging_service.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <set>

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/crypto/aead.hpp"
#include "alliance/crypto/encoding.hpp"
#include "alliance/crypto/message_seal.hpp"
#include "alliance/push/v1/push.pb.h"
#include "alliance/redis/client.hpp"
#include "alliance/redis/push.hpp"

namespace alliance::messaging {
namespace {

namespace idpb = ::alliance::identity::v1;

constexpr std::string_view kArchiveDevice = "archive";
constexpr std::size_t kWrappedKeySize = crypto::kWrappedKeySize;  // HPKE enc || AES-256-GCM(32-byte key) + tag
// What a sealed ciphertext adds around its content: nonce, signature, tag.
constexpr std::size_t kSealOverhead = crypto::kMessageNonceSize + crypto::kMessageSignatureSize + crypto::kAeadTagSize;
constexpr int kMaxKeys = 200;
constexpr int kDefaultNoticePeriodMinutes = 720;
constexpr std::string_view kTypeUrlPrefix = "type.googleapis.com/";  // as Any::PackFrom writes it

Error not_found() { return Error{Code::kNotFound, "conversation not found", "conversation_id"}; }

bool valid_message_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '_';
  });
}

bool plain_text(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char ch) {
    return (static_cast<unsigned char>(ch) < 0x20 && ch != '\n') || ch == 0x7f;
  });
}

bool is_participant(const ConversationRow& c, const rpc::v1::Caller& caller) {
  return caller.practice_id() == c.practice_id &&
         ((caller.role() == "client" && caller.user_id() == c.client_id) ||
          (caller.role() == "therapist" && caller.user_id() == c.therapist_id));
}

void fill(pb::Conversation& out, const ConversationRow& c) {
  out.set_id(c.id);
  out.set_practice_id(c.practice_id);
  out.set_client_id(c.client_id);
  out.set_therapist_id(c.therapist_id);
  out.set_created_unix_ms(c.created_ms);
  out.set_last_seq(c.last_seq);
  out.set_erased_unix_ms(c.erased_ms);
}

// Fills `out` from `m` with the keys `keep` accepts, without copying `m` first.
template <class Keep>
void fill_where(pb::Message& out, const StoredMessage& m, Keep keep) {
  out.set_conversation_id(m.conversation_id);
  out.set_seq(m.seq);
  out.set_message_id(m.message_id);
  // Every answer and push is made here: a system notice is the practice server's
  // and names no person or device, whatever a row says.
  if (m.kind != "system") {
    out.set_sender_user_id(m.sender_user_id);
    out.set_sender_device_id(m.sender_device_id);
  }
  out.set_ciphertext(m.ciphertext);
  for (const auto& k : m.keys) {
    if (!keep(k)) continue;
    auto* key = out.add_keys();
    key->set_device_id(k.device_id);
    key->set_wrapped_key(k.wrapped);
  }
  out.set_sent_unix_ms(m.sent_ms);
  out.set_kind(m.kind);
  out.set_system_text(m.system_text);
  out.set_expired(m.expired);
  out.set_format(m.format == 2 ? 2 : 1);
}

void fill(pb::Message& out, const StoredMessage& m) {
  fill_where(out, m, [](const StoredKey&) { return true; });
}

void fill(pb::Receipt& out, const ReceiptRow& r) {
  out.set_conversation_id(r.conversation_id);
  out.set_user_id(r.user_id);
  out.set_device_id(r.device_id);
  out.set_kind(r.kind);
  out.set_seq(r.seq);
  out.set_at_unix_ms(r.at_ms);
}

void fill(pb::ErasureRecord& out, const ErasureRow& r) {
  out.set_id(r.id);
  out.set_practice_id(r.practice_id);
  out.set_conversation_id(r.conversation_id);
  out.set_kind(r.kind);
  out.set_actor_user_id(r.actor_user_id);
  out.set_reason(r.reason);
  out.set_messages_affected(r.messages_affected);
  out.set_at_unix_ms(r.at_ms);
}

void fill(pb::MessagingPolicy& out, const PolicyRow& p) {
  out.set_practice_id(p.practice_id);
  out.set_crisis_text(p.crisis_text);
  out.set_notice_period_minutes(p.notice_period_minutes);
  out.set_retention_days(p.retention_days);
  out.set_updated_unix_ms(p.updated_ms);
}

std::string encode_windows(const std::vector<HoursWindow>& windows) {
  std::string out;
  for (const auto& w : windows) {
    if (!out.empty()) out += ';';
    out += std::to_string(w.weekday) + ',' + std::to_string(w.start_minute) + ',' + std::to_string(w.end_minute);
  }
  return out;
}

std::vector<HoursWindow> decode_windows(std::string_view text) {
  std::vector<HoursWindow> out;
  while (!text.empty()) {
    auto end = text.find(';');
    auto item = text.substr(0, end);
    HoursWindow w;
    if (std::sscanf(std::string(item).c_str(), "%d,%d,%d", &w.weekday, &w.start_minute, &w.end_minute) == 3)
      out.push_back(w);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
  return out;
}

void fill(pb::MessagingHours& out, const HoursRow& row, const WeeklyHours& hours) {
  out.set_therapist_id(row.therapist_id);
  out.set_time_zone(hours.time_zone);
  for (const auto& w : hours.windows) {
    auto* pw = out.add_windows();
    pw->set_weekday(w.weekday);
    pw->set_start(format_hhmm(w.start_minute));
    pw->set_end(format_hhmm(w.end_minute));
  }
  out.set_expected_reply_hours(hours.expected_reply_hours);
  out.set_updated_unix_ms(row.updated_ms);
}

// The request's sealed format: 0 (unset) and 1 are format 1.
int format_of(const pb::SendMessageRequest& req) { return req.format() == 0 ? 1 : req.format(); }

// What decides "same message" for a retry: everything the client sealed and sent.
// The format enters only when it is 2, so format 1 hashes stay what they were
// before formats were recorded and a retry of such a message still matches.
std::string content_hash(const pb::SendMessageRequest& req) {
  std::vector<std::pair<std::string_view, std::string_view>> keys;
  keys.reserve(static_cast<std::size_t>(req.keys_size()));
  for (const auto& k : req.keys()) keys.emplace_back(k.device_id(), k.wrapped_key());
  std::sort(keys.begin(), keys.end());
  // Each part as "<length>:<bytes>", hashed as it goes (the ciphertext is not copied).
  crypto::Sha256 h;
  auto add = [&h](std::string_view part) {
    char length[24];
    auto [end, ec] = std::to_chars(length, length + sizeof length - 1, part.size());
    (void)ec;  // 20 digits always fit
    *end++ = ':';
    h.update(std::string_view(length, static_cast<std::size_t>(end - length))).update(part);
  };
  add(req.sender_device_id());
  add(req.ciphertext());
  for (const auto& [device, wrapped] : keys) {
    add(device);
    add(wrapped);
  }
  if (format_of(req) != 1) add("format " + std::to_string(format_of(req)));
  return h.finish();
}

Status validate_send(const pb::SendMessageRequest& req, std::size_t max_ciphertext) {
  if (req.conversation_id().empty()) return invalid_argument("conversation_id", "conversation_id: required");
  if (!valid_message_id(req.message_id()))
    return invalid_argument("message_id", "message_id: must be 1 to 64 of A-Z a-z 0-9 - _");
  if (req.sender_device_id().empty()) return invalid_argument("sender_device_id", "sender_device_id: required");
  const int format = format_of(req);
  if (format != 1 && format != 2) return invalid_argument("format", "format: must be 1 or 2 (0 = 1)");
  // Format 2 pads its content to buckets up to 64 KiB: the limit bounds the content,
  // so a message that fit in format 1 still fits in its bucket.
  const std::size_t most = format == 2 ? max_ciphertext + kSealOverhead : max_ciphertext;
  const std::size_t least = format == 2 ? crypto::kMinMessageCiphertextSizeV2 : crypto::kMinMessageCiphertextSize;
  if (req.ciphertext().size() > most)
    return invalid_argument("ciphertext", "ciphertext: message is too large (at most " + std::to_string(most) +
                                              " bytes in format " + std::to_string(format) + ")");
  if (req.ciphertext().size() < least)
    return invalid_argument("ciphertext", "ciphertext: too short to be a sealed message in format " +
                                              std::to_string(format));
  if (req.keys_size() == 0) return invalid_argument("keys", "keys: at least one wrapped key is required");
  if (req.keys_size() > kMaxKeys) return invalid_argument("keys", "keys: at most 200 wrapped keys");
  std::set<std::string_view> seen;
  for (int i = 0; i < req.keys_size(); ++i) {
    const auto& k = req.keys(i);
    const std::string field = "keys[" + std::to_string(i) + "]";
    if (k.device_id().empty() || k.device_id().size() > 64)
      return invalid_argument(field + ".device_id", field + ".device_id: must be 1 to 64 characters");
    if (k.wrapped_key().size() != kWrappedKeySize)
      return invalid_argument(field + ".wrapped_key", field + ".wrapped_key: must be 80 bytes");
    if (!seen.insert(k.device_id()).second)
      return invalid_argument(field + ".device_id", field + ".device_id: listed twice");
  }
  return {};
}

pb::ListRecipientsResponse recipients_of(const ActiveDevices& devices) {
  pb::ListRecipientsResponse out;
  for (const auto& d : devices.devices) *out.add_devices() = d;
  if (devices.archive_key) *out.mutable_archive_key() = *devices.archive_key;
  for (const auto& k : devices.identity_keys) *out.add_identity_keys() = k;
  return out;
}

}  // namespace

MessagingService::MessagingService(asio::any_io_executor ex, MessagingStore& store, MessagingDirectory& directory,
                                   redis::Client* redis, MessagingOptions options)
    : ex_(std::move(ex)),
      store_(store), directory_(directory), redis_(redis), options_(std::move(options)) {}

std::int64_t MessagingService::now_ms() const { return options_.now_ms ? options_.now_ms() : now_unix_ms(); }

asio::awaitable<Result<ConversationRow>> MessagingService::participant_conversation(const std::string& id,
                                                                                    const Ctx& ctx,
                                                                                    std::string_view action) {
  if (id.empty()) co_return invalid_argument("conversation_id", "conversation_id: required");
  if (auto it = conversations_.find(id); it != conversations_.end()) {
    if (!is_participant(it->second, ctx.caller)) co_return audit_refusal(ctx, action, "conversation", id, not_found());
    co_return it->second;
  }
  auto found = co_await store_.find_conversation(id);
  if (!found) co_return found.error();
  if (!*found || !is_participant(**found, ctx.caller))
    co_return audit_refusal(ctx, action, "conversation", id, not_found());
  conversations_.emplace(id, **found);
  co_return **found;
}

void MessagingService::audit_event(const Ctx& ctx, audit::AuditSender::Event e) {
  if (audit_ && !ctx.caller.user_id().empty()) audit_->record(ctx, e);
}

void MessagingService::audit_conversation(const Ctx& ctx, std::string_view action, const ConversationRow& c) {
  audit_event(ctx, {.action = action, .object_type = "conversation", .object_id = c.id, .subject_user_id = c.client_id});
}

Error MessagingService::audit_refusal(const Ctx& ctx, std::string_view action, std::string_view object_type,
                                      std::string_view object_id, Error e) {
  if (audit_ && !ctx.caller.user_id().empty())
    audit_->record_refusal(ctx, {.action = action, .object_type = object_type, .object_id = object_id}, e);
  return e;
}

asio::awaitable<Result<std::optional<WeeklyHours>>> MessagingService::hours_of(const std::string& therapist_id) {
  if (auto it = hours_.find(therapist_id); it != hours_.end()) co_return it->second;
  auto row = co_await store_.find_hours(therapist_id);
  if (!row) co_return row.error();
  std::optional<WeeklyHours> hours;
  if (*row) hours = WeeklyHours{(*row)->time_zone, decode_windows((*row)->windows), (*row)->expected_reply_hours};
  hours_.emplace(therapist_id, hours);
  co_return hours;
}

asio::awaitable<Result<PolicyRow>> MessagingService::policy_of(const std::string& practice_id) {
  if (auto it = policies_.find(practice_id); it != policies_.end()) co_return it->second;
  auto row = co_await store_.find_policy(practice_id);
  if (!row) co_return row.error();
  PolicyRow policy = *row ? **row : PolicyRow{practice_id, "", kDefaultNoticePeriodMinutes, 0, 0};
  policies_.emplace(practice_id, policy);
  co_return policy;
}

asio::awaitable<Status> MessagingService::check_send_rate(const std::string& user_id) {
  if (!redis_ || options_.send_rate_per_minute <= 0) co_return Status{};
  const auto now = now_ms();
  const auto minute = now / 60000;
  std::string key = "messaging:rate:" + user_id + ":" + std::to_string(minute);
  std::vector<std::vector<std::string>> commands{{"INCR", key}, {"EXPIRE", key, "120"}};
  auto replies = co_await redis_->pipeline(std::move(commands));
  // Redis is a cache here: when it is down, sending still works (unlimited).
  if (!replies || replies->empty() || (*replies)[0].type != redis::Reply::Type::kInteger) co_return Status{};
  if ((*replies)[0].integer > options_.send_rate_per_minute) {
    Error e{Code::kResourceExhausted, "too many messages; wait a moment", "conversation_id"};
    e.retry_after = std::chrono::milliseconds((minute + 1) * 60000 - now);
    co_return e;
  }
  co_return Status{};
}

void MessagingService::push(std::string user_id, std::string_view type, const google::protobuf::Message& body) {
  std::vector<Push> one;
  one.push_back({std::move(user_id), type, body.GetDescriptor()->full_name(), body.SerializeAsString()});
  push_all(std::move(one));
}

void MessagingService::push_all(std::vector<Push> pushes) {
  if (!redis_ || pushes.empty()) return;
  // One pipelined write for all of them: one round trip instead of one per push.
  std::vector<std::vector<std::string>> commands;
  commands.reserve(pushes.size());
  for (auto& p : pushes) {
    auto frame = redis::push_frame(new_unique_id(), p.type, now_ms());
    // What Any::PackFrom would make, from the bytes already serialized.
    std::string type_url(kTypeUrlPrefix);
    type_url += p.body_type;
    frame.mutable_body()->set_type_url(std::move(type_url));
    frame.mutable_body()->set_value(std::move(p.body));
    std::vector<std::string> command;
    command.reserve(3);
    command.emplace_back("PUBLISH");
    command.push_back(redis::push_channel(p.user_id));
    command.push_back(frame.SerializeAsString());
    commands.push_back(std::move(command));
  }
  auto* redis = redis_;
  auto send = [redis, commands = std::move(commands)]() mutable -> asio::awaitable<void> {
    auto s = co_await redis->pipeline(std::move(commands));
    if (!s) log::warn("push failed", {{"reason", s.error().message}});
  };
  asio::co_spawn(ex_, std::move(send), [](std::exception_ptr e) {
    if (e) log::error("push task failed");
  });
}

// ------------------------------------------------------------------ conversations

asio::awaitable<Result<pb::ConversationResponse>> MessagingService::open_conversation(
    const pb::OpenConversationRequest& req, const Ctx& ctx) {
  const auto& caller = ctx.caller;
  if (req.client_id().empty()) co_return invalid_argument("client_id", "client_id: required");
  if (req.therapist_id().empty()) co_return invalid_argument("therapist_id", "therapist_id: required");
  const bool is_self = (caller.role() == "client" && caller.user_id() == req.client_id()) ||
                       (caller.role() == "therapist" && caller.user_id() == req.therapist_id());
  if (!is_self)
    co_return audit_refusal(ctx, "conversation.open", "conversation", "",
                            Error{Code::kPermissionDenied, "only the client or the therapist may open their conversation", ""});
  const std::string& peer_id = caller.role() == "client" ? req.therapist_id() : req.client_id();
  const std::string peer_field = caller.role() == "client" ? "therapist_id" : "client_id";
  auto peer = co_await directory_.find_user(peer_id);
  if (!peer) co_return peer.error();
  const std::string want_role = caller.role() == "client" ? "therapist" : "client";
  if (!*peer || (*peer)->practice_id != caller.practice_id() || (*peer)->role != want_role)
    co_return Error{Code::kNotFound, peer_field + ": no such " + want_role, peer_field};
  auto member = co_await directory_.on_care_team(req.client_id(), req.therapist_id());
  if (!member) co_return member.error();
  if (!*member)
    co_return Error{Code::kFailedPrecondition, "the client and therapist are not on the same care team", peer_field};
  ConversationRow candidate{new_id(), caller.practice_id(), req.client_id(), req.therapist_id(), now_ms(), 0, 0};
  auto row = co_await store_.open_conversation(std::move(candidate));
  if (!row) co_return row.error();
  audit_conversation(ctx, "conversation.open", *row);
  pb::ConversationResponse out;
  fill(*out.mutable_conversation(), *row);
  co_return out;
}

asio::awaitable<Result<pb::ListConversationsResponse>> MessagingService::list_conversations(
    const pb::ListConversationsRequest&, const Ctx& ctx) {
  const auto& caller = ctx.caller;
  std::string user_filter;
  if (caller.role() == "client" || caller.role() == "therapist") {
    user_filter = caller.user_id();
  } else if (caller.role() != "admin") {
    co_return audit_refusal(ctx, "conversation.list", "conversation", "",
                            Error{Code::kPermissionDenied, "messages are only for the client and their therapist", ""});
  }
  auto rows = co_await store_.list_conversations(caller.practice_id(), user_filter);
  if (!rows) co_return rows.error();
  pb::ListConversationsResponse out;
  for (const auto& r : *rows) {
    fill(*out.add_conversations(), r);
    audit_conversation(ctx, "conversation.list", r);
  }
  co_return out;
}

asio::awaitable<Result<pb::ConversationResponse>> MessagingService::get_conversation(
    const pb::GetConversationRequest& req, const Ctx& ctx) {
  auto conv = co_await participant_conversation(req.conversation_id(), ctx, "conversation.read");
  if (!conv) co_return conv.error();
  auto fresh = co_await store_.find_conversation(conv->id);
  if (!fresh) co_return fresh.error();
  if (!*fresh) co_return not_found();
  auto receipts = co_await store_.receipts(conv->id);
  if (!receipts) co_return receipts.error();
  audit_conversation(ctx, "conversation.read", *conv);
  pb::ConversationResponse out;
  fill(*out.mutable_conversation(), **fresh);
  for (const auto& r : *receipts) {
    if (r.kind != "read") continue;
    if (r.user_id == ctx.caller.user_id()) {
      out.mutable_conversation()->set_read_seq(r.seq);
    } else {
      out.mutable_conversation()->set_peer_read_seq(r.seq);
    }
  }
  co_return out;
}

asio::awaitable<Result<pb::ListRecipientsResponse>> MessagingService::list_recipients(
    const pb::ListRecipientsRequest& req, const Ctx& ctx) {
  auto conv = co_await participant_conversation(req.conversation_id(), ctx, "conversation.devices");
  if (!conv) co_return conv.error();
  std::vector<std::string> users{conv->client_id, conv->therapist_id};
  // Inactive devices come from their own lookup (and cache entry): the send path
  // below asks only for active ones, so it never wraps for or accepts an inactive one.
  Result<SharedDevices> devices = SharedDevices{};
  if (req.include_inactive()) {
    devices = co_await directory_.devices_with_inactive(conv->practice_id, std::move(users));
  } else {
    devices = co_await directory_.active_devices(conv->practice_id, std::move(users), "");
  }
  if (!devices) co_return devices.error();
  audit_conversation(ctx, "conversation.devices", *conv);
  co_return recipients_of(**devices);
}

// ------------------------------------------------------------------ messages

asio::awaitable<Result<pb::SendMessageResponse>> MessagingService::send_message(const pb::SendMessageRequest& req,
                                                                                const Ctx& ctx) {
  const auto& caller = ctx.caller;
  if (auto valid = validate_send(req, options_.max_ciphertext_bytes); !valid) co_return valid.error();
  auto conv = co_await participant_conversation(req.conversation_id(), ctx, "message.send");
  if (!conv) co_return conv.error();
  const std::string hash = content_hash(req);

  // The common path costs one store round trip (the append, which also answers an
  // identical retry). Only before refusing does a send ask whether it is a retry of
  // an accepted message, which is answered whatever changed since.
  const std::vector<std::string> users{conv->client_id, conv->therapist_id};
  auto devices = co_await directory_.active_devices(conv->practice_id, users, caller.session_id());
  if (!devices) co_return devices.error();
  // Sorted device ids, compared as sets (validate_send refused repeats in the keys).
  std::vector<std::string_view> have;
  have.reserve(static_cast<std::size_t>(req.keys_size()));
  for (const auto& k : req.keys()) have.push_back(k.device_id());
  std::sort(have.begin(), have.end());
  auto wanted = [](const ActiveDevices& current) {
    std::vector<std::string_view> want;
    want.reserve(current.devices.size() + 1);
    for (const auto& d : current.devices) want.push_back(d.id());
    if (current.archive_key) want.push_back(kArchiveDevice);
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    return want;
  };
  if (wanted(**devices) != have) {
    // The list may be a cached one that outlived a device change (an approval, a
    // revocation) whose announcement was missed: refuse only on identity's answer.
    devices = co_await directory_.current_active_devices(conv->practice_id, users, caller.session_id());
    if (!devices) co_return devices.error();
  }
  std::optional<Error> refusal;
  const ActiveDevices& recipients = **devices;
  if (recipients.session_device_id.empty() || recipients.session_device_id != req.sender_device_id()) {
    refusal = Error{Code::kPermissionDenied, "sender_device_id: not the device registered by this session",
                    "sender_device_id"};
  } else if (wanted(recipients) != have) {
    pb::SendMessageResponse detail;
    *detail.mutable_recipients() = recipients_of(recipients);
    refusal = Error{Code::kFailedPrecondition,
                    "keys: the recipients' devices changed; wrap the key for the current list", "keys"};
    refusal->detail = detail.SerializeAsString();
  } else if (auto rate = co_await check_send_rate(caller.user_id()); !rate) {
    // Counted only for sends that pass the device checks.
    refusal = rate.error();
  }
  if (refusal) {
    auto retry = co_await answer_retry(conv->id, req.message_id(), hash, caller.user_id());
    if (!retry) co_return retry.error();
    if (*retry) co_return std::move(**retry);
    co_return std::move(*refusal);
  }

  StoredMessage message;
  message.conversation_id = conv->id;
  message.message_id = req.message_id();
  message.sender_user_id = caller.user_id();
  message.sender_device_id = req.sender_device_id();
  message.kind = "user";
  message.format = format_of(req);
  message.ciphertext = req.ciphertext();
  message.content_hash = hash;
  message.sent_ms = now_ms();
  for (const auto& k : req.keys()) message.keys.push_back({k.device_id(), k.wrapped_key()});

  std::optional<NoticeRequest> notice;
  if (caller.role() == "client") {
    auto hours = co_await hours_of(conv->therapist_id);
    if (!hours) co_return hours.error();
    const TimePoint at{std::chrono::milliseconds(message.sent_ms)};
    if (*hours && !within_hours(**hours, at)) {
      auto policy = co_await policy_of(conv->practice_id);
      if (!policy) co_return policy.error();
      notice = NoticeRequest{"notice-" + new_id(), after_hours_notice(**hours, at, policy->crisis_text),
                             std::int64_t{policy->notice_period_minutes} * 60000};
    }
  }

  auto appended = co_await store_.append(std::move(message), std::move(notice));
  if (!appended) co_return appended.error();
  if (auto it = conversations_.find(conv->id); it != conversations_.end())
    it->second.last_seq = std::max(it->second.last_seq, appended->notice ? appended->notice->seq : appended->message.seq);

  pb::SendMessageResponse out;
  // Without keys: the sender has them.
  fill_where(*out.mutable_message(), appended->message, [](const StoredKey&) { return false; });
  if (!appended->replayed) {
    // Each participant's push carries only their own devices' keys (the archive's
    // goes to neither).
    auto owned_by = [&recipients](const StoredKey& k, const std::string& user) {
      return std::any_of(recipients.devices.begin(), recipients.devices.end(),
                         [&](const idpb::Device& d) { return d.id() == k.device_id && d.user_id() == user; });
    };
    const std::array<std::string, 2> participants = {conv->client_id, conv->therapist_id};
    const std::string_view body_type = pb::Message::descriptor()->full_name();
    // The answer's message (without keys) is serialized once; each participant's body
    // is that followed by their keys, which the wire format reads as one message (fields may
    // come in any order; repeated ones are appended).
    const std::string shared_bytes = out.message().SerializeAsString();
    std::string notice_bytes;
    if (appended->notice) {
      pb::Message notice_body;
      fill(notice_body, *appended->notice);
      notice_bytes = notice_body.SerializeAsString();
    }
    std::vector<Push> pushes;
    pushes.reserve(4);
    for (const auto& participant : participants) {
      pb::Message keys_only;
      for (const auto& k : appended->message.keys) {
        if (!owned_by(k, participant)) continue;
        auto* key = keys_only.add_keys();
        key->set_device_id(k.device_id);
        key->set_wrapped_key(k.wrapped);
      }
      std::string body;
      body.reserve(shared_bytes.size() + keys_only.ByteSizeLong());
      body = shared_bytes;
      keys_only.AppendToString(&body);
      pushes.push_back({participant, "message.new", body_type, std::move(body)});
      if (appended->notice) pushes.push_back({participant, "message.new", body_type, notice_bytes});
    }
    push_all(std::move(pushes));
  }
  audit_conversation(ctx, "message.send", *conv);
  co_return out;
}

asio::awaitable<Result<std::optional<pb::SendMessageResponse>>> MessagingService::answer_retry(
    const std::string& conversation_id, const std::string& message_id, const std::string& hash,
    const std::string& user_id) {
  auto existing = co_await store_.find_message(conversation_id, message_id);
  if (!existing) co_return existing.error();
  if (!*existing) co_return std::optional<pb::SendMessageResponse>();
  if ((*existing)->content_hash != hash || (*existing)->sender_user_id != user_id)
    co_return Error{Code::kAlreadyExists, "message_id: already used for a different message", "message_id"};
  pb::SendMessageResponse out;
  fill(*out.mutable_message(), **existing);
  co_return std::optional<pb::SendMessageResponse>(std::move(out));
}

asio::awaitable<Result<pb::SyncMessagesResponse>> MessagingService::sync_messages(const pb::SyncMessagesRequest& req,
                                                                                  const Ctx& ctx) {
  if (req.device_id().empty()) co_return invalid_argument("device_id", "device_id: required");
  if (req.after_seq() < 0) co_return invalid_argument("after_seq", "after_seq: must not be negative");
  int limit = req.limit() == 0 ? 100 : req.limit();
  if (limit < 1 || limit > 500) co_return invalid_argument("limit", "limit: must be 1 to 500");
  auto conv = co_await participant_conversation(req.conversation_id(), ctx, "message.sync");
  if (!conv) co_return conv.error();
  std::vector<std::string> users{ctx.caller.user_id()};
  auto devices = co_await directory_.active_devices(conv->practice_id, std::move(users), ctx.caller.session_id());
  if (!devices) co_return devices.error();
  if ((*devices)->session_device_id != req.device_id())
    co_return Error{Code::kPermissionDenied, "device_id: not the device registered by this session", "device_id"};
  auto messages = co_await store_.messages_after(conv->id, req.device_id(), req.after_seq(), limit);
  if (!messages) co_return messages.error();
  auto fresh = co_await store_.find_conversation(conv->id);
  if (!fresh) co_return fresh.error();
  audit_conversation(ctx, "message.sync", *conv);
  pb::SyncMessagesResponse out;
  for (const auto& m : *messages) fill(*out.add_messages(), m);
  out.set_last_seq(*fresh ? (*fresh)->last_seq : 0);
  co_return out;
}

// ------------------------------------------------------------------ receipts, typing

asio::awaitable<Result<pb::ReceiptResponse>> MessagingService::ack_delivered(const pb::AckDeliveredRequest& req,
                                                                             const Ctx& ctx) {
  if (req.device_id().empty()) co_return invalid_argument("device_id", "device_id: required");
  if (req.seq() < 1) co_return invalid_argument("seq", "seq: must be at least 1");
  auto conv = co_await participant_conversation(req.conversation_id(), ctx, "receipt.delivered");
  if (!conv) co_return conv.error();
  auto fresh = co_await store_.find_conversation(conv->id);
  if (!fresh) co_return fresh.error();
  if (!*fresh || req.seq() > (*fresh)->last_seq)
    co_return invalid_argument("seq", "seq: beyond the conversation's last message");
  std::vector<std::string> users{ctx.caller.user_id()};
  auto devices = co_await directory_.active_devices(conv->practice_id, std::move(users), ctx.caller.session_id());
  if (!devices) co_return devices.error();
  if ((*devices)->session_device_id != req.device_id())
    co_return Error{Code::kPermissionDenied, "device_id: not the device registered by this session", "device_id"};
  ReceiptRow receipt{conv->id, ctx.caller.user_id(), req.device_id(), "delivered", req.seq(), now_ms()};
  auto row = co_await store_.ack_delivered(std::move(receipt));
  if (!row) co_return row.error();
  audit_conversation(ctx, "receipt.delivered", *conv);
  pb::ReceiptResponse out;
  fill(*out.mutable_receipt(), *row);
  const auto& peer = ctx.caller.user_id() == conv->client_id ? conv->therapist_id : conv->client_id;
  push(peer, "receipt.delivered", out.receipt());
  co_return out;
}

asio::awaitable<Result<pb::ReceiptResponse>> MessagingService::mark_read(const pb::MarkReadRequest& req,
                                                                         const Ctx& ctx) {
  if (req.seq() < 1) co_return invalid_argument("seq", "seq: must be at least 1");
  auto conv = co_await participant_conversation(req.conversation_id(), ctx, "receipt.read");
  if (!conv) co_return conv.error();
  auto fresh = co_await store_.find_conversation(conv->id);
  if (!fresh) co_return fresh.error();
  if (!*fresh || req.seq() > (*fresh)->last_seq)
    co_return invalid_argument("seq", "seq: beyond the conversation's last message");
  ReceiptRow receipt{conv->id, ctx.caller.user_id(), "", "read", req.seq(), now_ms()};
  auto row = co_await store_.mark_read(std::move(receipt));
  if (!row) co_return row.error();
  audit_conversation(ctx, "receipt.read", *conv);
  pb::ReceiptResponse out;
  fill(*out.mutable_receipt(), *row);
  const auto& peer = ctx.caller.user_id() == conv->client_id ? conv->therapist_id : conv->client_id;
  push(peer, "receipt.read", out.receipt());
  co_return out;
}

asio::awaitable<Result<pb::ListReceiptsResponse>> MessagingService::list_receipts(const pb::ListReceiptsRequest& req,
                                                                                  const Ctx& ctx) {
  auto conv = co_await participant_conversation(req.conversation_id(), ctx, "receipt.list");
  if (!conv) co_return conv.error();
  auto rows = co_await store_.receipts(conv->id);
  if (!rows) co_return rows.error();
  audit_conversation(ctx, "receipt.list", *conv);
  pb::ListReceiptsResponse out;
  for (const auto& r : *rows) fill(*out.add_receipts(), r);
  co_return out;
}

asio::awaitable<Result<pb::TypingResponse>> MessagingService::set_typing(const pb::TypingRequest& req,
                                                                         const Ctx& ctx) {
  auto conv = co_await participant_conversation(req.conversation_id(), ctx, "conversation.typing");
  if (!conv) co_return conv.error();
  pb::Typing body;
  body.set_conversation_id(conv->id);
  body.set_user_id(ctx.caller.user_id());
  body.set_typing(req.typing());
  const auto& peer = ctx.caller.user_id() == conv->client_id ? conv->therapist_id : conv->client_id;
  // Live only and never stored, so not audited either: a record per keystroke burst
  // would say nothing the conversation's own reads and sends do not (refusals are).
  push(peer, "typing", body);
  co_return pb::TypingResponse{};
}

// ------------------------------------------------------------------ boundaries

asio::awaitable<Result<pb::MessagingHoursResponse>> MessagingService::set_messaging_hours(
    const pb::SetMessagingHoursRequest& req, const Ctx& ctx) {
  const auto& caller = ctx.caller;
  if (req.therapist_id().empty()) co_return invalid_argument("therapist_id", "therapist_id: required");
  const bool self = caller.role() == "therapist" && caller.user_id() == req.therapist_id();
  if (!self && caller.role() != "admin")
    co_return audit_refusal(ctx, "messaging_hours.change", "therapist", req.therapist_id(),
                            Error{Code::kPermissionDenied, "only the therapist or an admin may set messaging hours", ""});
  auto therapist = co_await directory_.find_user(req.therapist_id());
  if (!therapist) co_return therapist.error();
  if (!*therapist || (*therapist)->practice_id != caller.practice_id() || (*therapist)->role != "therapist")
    co_return Error{Code::kNotFound, "therapist_id: no such therapist", "therapist_id"};
  std::vector<std::tuple<int, std::string, std::string>> windows;
  for (const auto& w : req.windows()) windows.emplace_back(w.weekday(), w.start(), w.end());
  auto hours = parse_weekly_hours(req.time_zone(), windows, req.expected_reply_hours());
  if (!hours) co_return hours.error();
  HoursRow row{req.therapist_id(), caller.practice_id(), hours->time_zone, encode_windows(hours->windows),
               hours->expected_reply_hours, now_ms()};
  auto saved = co_await store_.set_hours(row);
  if (!saved) co_return saved.error();
  hours_[req.therapist_id()] = *hours;
  audit_event(ctx, {.action = "messaging_hours.change", .object_type = "therapist", .object_id = req.therapist_id()});
  pb::MessagingHoursResponse out;
  fill(*out.mutable_hours(), *saved, *hours);
  co_return out;
}

asio::awaitable<Result<pb::MessagingHoursResponse>> MessagingService::get_messaging_hours(
    const pb::GetMessagingHoursRequest& req, const Ctx& ctx) {
  if (req.therapist_id().empty()) co_return invalid_argument("therapist_id", "therapist_id: required");
  auto row = co_await store_.find_hours(req.therapist_id());
  if (!row) co_return row.error();
  pb::MessagingHoursResponse out;
  if (!*row || (*row)->practice_id != ctx.caller.practice_id()) {
    // Unknown, not set, or another practice's: all look the same.
    auto therapist = co_await directory_.find_user(req.therapist_id());
    if (!therapist) co_return therapist.error();
    if (!*therapist || (*therapist)->practice_id != ctx.caller.practice_id() || (*therapist)->role != "therapist")
      co_return Error{Code::kNotFound, "therapist_id: no such therapist", "therapist_id"};
    co_return out;
  }
  WeeklyHours hours{(*row)->time_zone, decode_windows((*row)->windows), (*row)->expected_reply_hours};
  fill(*out.mutable_hours(), **row, hours);
  co_return out;
}

asio::awaitable<Result<pb::MessagingPolicyResponse>> MessagingService::set_messaging_policy(
    const pb::SetMessagingPolicyRequest& req, const Ctx& ctx) {
  if (ctx.caller.role() != "admin")
    co_return audit_refusal(ctx, "messaging_policy.change", "practice", ctx.caller.practice_id(),
                            Error{Code::kPermissionDenied, "only an admin may set the messaging policy", ""});
  if (req.crisis_text().size() > 1000) co_return invalid_argument("crisis_text", "crisis_text: at most 1000 characters");
  if (!plain_text(req.crisis_text()))
    co_return invalid_argument("crisis_text", "crisis_text: must not contain control characters");
  int period = req.notice_period_minutes() == 0 ? kDefaultNoticePeriodMinutes : req.notice_period_minutes();
  if (period < 1 || period > 43200)
    co_return invalid_argument("notice_period_minutes", "notice_period_minutes: must be 1 to 43200 (0 = 720)");
  if (req.retention_days() < 0 || req.retention_days() > 3650)
    co_return invalid_argument("retention_days", "retention_days: must be 0 (keep) to 3650");
  PolicyRow row{ctx.caller.practice_id(), req.crisis_text(), period, req.retention_days(), now_ms()};
  auto saved = co_await store_.set_policy(row);
  if (!saved) co_return saved.error();
  policies_[row.practice_id] = *saved;
  audit_event(ctx, {.action = "messaging_policy.change", .object_type = "practice", .object_id = row.practice_id});
  pb::MessagingPolicyResponse out;
  fill(*out.mutable_policy(), *saved);
  co_return out;
}

asio::awaitable<Result<pb::MessagingPolicyResponse>> MessagingService::get_messaging_policy(
    const pb::GetMessagingPolicyRequest&, const Ctx& ctx) {
  auto policy = co_await policy_of(ctx.caller.practice_id());
  if (!policy) co_return policy.error();
  pb::MessagingPolicyResponse out;
  fill(*out.mutable_policy(), *policy);
  co_return out;
}

// ------------------------------------------------------------------ retention, erasure

asio::awaitable<Result<pb::EraseConversationResponse>> MessagingService::erase_conversation(
    const pb::EraseConversationRequest& req, const Ctx& ctx) {
  if (req.conversation_id().empty()) co_return invalid_argument("conversation_id", "conversation_id: required");
  if (ctx.caller.role() != "admin")
    co_return audit_refusal(ctx, "conversation.erase", "conversation", req.conversation_id(), not_found());
  if (req.reason().empty() || req.reason().size() > 500)
    co_return invalid_argument("reason", "reason: 1 to 500 characters");
  if (!plain_text(req.reason())) co_return invalid_argument("reason", "reason: must not contain control characters");
  if (auto s = store::validate_idempotency_key(req.idempotency_key(), true); !s) co_return s.error();
  auto conv = co_await store_.find_conversation(req.conversation_id());
  if (!conv) co_return conv.error();
  if (!*conv || (*conv)->practice_id != ctx.caller.practice_id())
    co_return audit_refusal(ctx, "conversation.erase", "conversation", req.conversation_id(), not_found());
  ErasureRow record{new_id(), (*conv)->practice_id, (*conv)->id, "erasure", ctx.caller.user_id(), req.reason(), 0,
                    now_ms()};
  store::IdempotentWrite key{ctx.caller.user_id(), req.idempotency_key(),
                             store::request_digest("erase_conversation", req)};
  auto saved = co_await store_.erase_conversation(std::move(record), std::move(key));
  if (!saved) co_return saved.error();
  audit_conversation(ctx, "conversation.erase", **conv);
  if (!saved->replayed)
    log::info("conversation erased", {{"conversation_id", saved->record.conversation_id},
                                      {"messages", saved->record.messages_affected}});
  pb::EraseConversationResponse out;
  fill(*out.mutable_record(), saved->record);
  out.set_replayed(saved->replayed);
  co_return out;
}

asio::awaitable<Result<pb::ListErasuresResponse>> MessagingService::list_erasures(const pb::ListErasuresRequest&,
                                                                                  const Ctx& ctx) {
  if (ctx.caller.role() != "admin")
    co_return audit_refusal(ctx, "erasure.list", "practice", ctx.caller.practice_id(),
                            Error{Code::kPermissionDenied, "only an admin may see erasure records", ""});
  auto rows = co_await store_.list_erasures(ctx.caller.practice_id());
  if (!rows) co_return rows.error();
  audit_event(ctx, {.action = "erasure.list", .object_type = "practice", .object_id = ctx.caller.practice_id()});
  pb::ListErasuresResponse out;
  for (const auto& r : *rows) fill(*out.add_records(), r);
  co_return out;
}

asio::awaitable<Result<std::int64_t>> MessagingService::sweep_retention() {
  auto policies = co_await store_.list_policies();
  if (!policies) co_return policies.error();
  std::int64_t total = 0;
  for (const auto& p : *policies) {
    if (p.retention_days <= 0) continue;
    const auto now = now_ms();
    const auto cutoff = now - std::int64_t{p.retention_days} * 86'400'000;
    auto record = co_await store_.apply_retention(p.practice_id, cutoff, now);
    if (!record) co_return record.error();
    if (*record) {
      total += (*record)->messages_affected;
      log::info("retention expired messages",
                {{"practice_id", p.practice_id}, {"messages", (*record)->messages_affected}});
    }
  }
  co_return total;
}

}  // namespace alliance::messaging
