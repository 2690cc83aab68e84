#include "alliance/client/messenger.hpp"

#include <boost/json/parse.hpp>

#include "alliance/core/ids.hpp"
#include "alliance/crypto/encoding.hpp"
#include "alliance/crypto/random.hpp"
#include "alliance/crypto/wipe.hpp"

namespace alliance::client {

namespace json = boost::json;

namespace {

constexpr int kMaxRewraps = 3;
constexpr int kSyncPageSize = 100;
constexpr std::string_view kArchiveDeviceId = "archive";

Error malformed(std::string_view what, const Error& e) {
  return make_error(Code::kInternal, std::string(what) + ": " + e.message);
}

// Sending refuses while any device (or the archive key) failed verification.
Status refuse_rejected(const VerifiedRecipients& list) {
  if (list.rejected.empty()) return {};
  if (list.reasons.empty()) {
    return Error{Code::kFailedPrecondition,
                 "recipients: device " + list.rejected.front() + " has keys that fail verification", "recipients"};
  }
  return Error{Code::kFailedPrecondition, "recipients: " + list.rejected.front() + ": " + list.reasons.front(),
               "recipients"};
}

const json::value* member(const json::value& v, std::string_view key) {
  if (!v.is_object()) return nullptr;
  return json_field::find(v.as_object(), key);
}

}  // namespace

json::value SealedRequest::body() const {
  json::array wrapped;
  for (const auto& k : keys) {
    wrapped.push_back(json::object{{"device_id", k.device_id}, {"wrapped_key", base64_encode(k.wrapped_key)}});
  }
  json::object out;
  out["conversation_id"] = conversation_id;
  out["message_id"] = message_id;
  out["sender_device_id"] = sender_device_id;
  out["ciphertext"] = base64_encode(ciphertext);
  out["keys"] = std::move(wrapped);
  if (format != 1) out["format"] = format;
  return out;
}

std::vector<crypto::Recipient> VerifiedRecipients::crypto_recipients() const {
  std::vector<crypto::Recipient> out;
  out.reserve(devices.size() + 1);
  for (const auto& d : devices) out.push_back(crypto::Recipient{d.id, d.agreement_public});
  if (!archive_public.empty()) out.push_back(crypto::Recipient{std::string(kArchiveDeviceId), archive_public});
  return out;
}

std::string new_message_id() {
  // The time in ms as 6 big-endian bytes in hex (ascending as text; good to the year
  // 10889), then 80 random bits.
  auto ms = static_cast<std::uint64_t>(now_unix_ms());
  std::string time(6, '\0');
  for (int i = 5; i >= 0; --i, ms >>= 8) time[static_cast<std::size_t>(i)] = static_cast<char>(ms & 0xff);
  return to_hex(time) + crypto::base64url_encode(crypto::random_bytes(10));
}

ReceivedMessage envelope_of(const WireMessage& m) {
  ReceivedMessage out;
  out.conversation_id = m.conversation_id;
  out.seq = m.seq;
  out.message_id = m.message_id;
  out.sender_user_id = m.sender_user_id;
  out.sender_device_id = m.sender_device_id;
  out.sent_unix_ms = m.sent_unix_ms;
  out.kind = m.kind.empty() ? "user" : m.kind;
  out.expired = m.expired;
  out.format = m.format;
  return out;
}

ReceivedMessage open_wire_message(const WireMessage& m, const Device& me, const PeerDevice* sender) {
  ReceivedMessage out = envelope_of(m);
  if (out.kind == "system") {
    // Written by the practice's server, never by a person: whatever sender the
    // server names is dropped, so nothing can show it as someone's message.
    out.sender_user_id.clear();
    out.sender_device_id.clear();
    out.system_text = m.system_text;
    return out;
  }
  if (out.kind != "user") {
    out.error = "unknown message kind";
    return out;
  }
  if (m.expired) return out;
  if (!sender) {
    out.error = "unknown sender device";
    return out;
  }
  if (sender->user_id != m.sender_user_id) {
    out.error = "the sender device belongs to another user";
    return out;
  }
  const WireKey* mine = nullptr;
  for (const auto& k : m.keys) {
    if (k.device_id == me.id) mine = &k;
  }
  if (!mine) {
    out.error = "no key for this device";
    return out;
  }
  crypto::MessageContext ctx{m.conversation_id, m.message_id, m.sender_device_id};
  auto plain = crypto::open_message(ctx, m.ciphertext, mine->wrapped_key, me.id, me.keys.agreement_private,
                                    sender->signing_public);
  if (!plain) {
    out.error = plain.error().message;
    return out;
  }
  out.plaintext = std::move(*plain);
  return out;
}

Messenger::Messenger(AllianceClient& client, Device device) : client_(client), device_(std::move(device)) {
  // Our own keys need no server round trip to be trusted.
  PeerDevice self;
  self.id = device_.id;
  self.user_id = device_.user_id;
  self.name = device_.name;
  self.signing_public = device_.keys.signing_public;
  self.agreement_public = device_.keys.agreement_public;
  self.agreement_signature = device_.keys.agreement_signature;
  known_devices_.emplace(self.id, std::move(self));
}

std::string Messenger::conversation_path(std::string_view conversation_id) const {
  return "/v1/conversations/" + url_encode(conversation_id);
}

Result<Conversation> Messenger::open_conversation(std::string_view client_id, std::string_view therapist_id) {
  json::value body = json::object{{"client_id", client_id}, {"therapist_id", therapist_id}};
  auto r = client_.post_json("/v1/conversations", body);
  if (!r) return std::move(r).error();
  const json::value* c = member(*r, "conversation");
  if (!c) return make_error(Code::kInternal, "open conversation: the answer holds no conversation");
  auto conv = conversation_from_json(*c);
  if (!conv) return malformed("open conversation", conv.error());
  return conv;
}

Result<Conversation> Messenger::conversation(std::string_view conversation_id) {
  auto r = client_.get_json(conversation_path(conversation_id));
  if (!r) return std::move(r).error();
  const json::value* c = member(*r, "conversation");
  if (!c) return make_error(Code::kInternal, "get conversation: the answer holds no conversation");
  auto conv = conversation_from_json(*c);
  if (!conv) return malformed("get conversation", conv.error());
  return conv;
}

Result<std::vector<Conversation>> Messenger::conversations() {
  auto r = client_.get_json("/v1/conversations");
  if (!r) return std::move(r).error();
  std::vector<Conversation> out;
  const json::value* list = member(*r, "conversations");
  if (!list || list->is_null()) return out;
  if (!list->is_array()) return make_error(Code::kInternal, "list conversations: conversations is not an array");
  for (const auto& c : list->as_array()) {
    auto conv = conversation_from_json(c);
    if (!conv) return malformed("list conversations", conv.error());
    out.push_back(std::move(*conv));
  }
  return out;
}

VerifiedRecipients verify_recipients(const Recipients& recipients, KnownDevices& known) {
  VerifiedRecipients out;
  out.archive_public = recipients.archive_public;
  for (const auto& d : recipients.devices) {
    bool signed_ok = crypto::verify_device_keys(d.signing_public, d.agreement_public, d.agreement_signature);
    auto seen = known.find(d.id);
    // A device id keeps the keys it was first seen with: a server swapping in a key
    // of its own under a known id is refused, not trusted.
    bool same_keys = seen == known.end() || (seen->second.signing_public == d.signing_public &&
                                             seen->second.agreement_public == d.agreement_public &&
                                             seen->second.user_id == d.user_id);
    if (!signed_ok || !same_keys || d.id == kArchiveDeviceId) {
      out.rejected.push_back(d.id);
      continue;
    }
    if (seen == known.end()) known.emplace(d.id, d);
    out.devices.push_back(d);
  }
  return out;
}

VerifiedRecipients Messenger::verify(std::string_view conversation_id, const Recipients& recipients) {
  remember_devices(recipients);
  if (identity_) {
    // Inactive devices are checked and pinned too (to verify what they sent), never wrapped for.
    VerifiedRecipients out = verify_certified(conversation_id, recipients);
    recipients_.insert_or_assign(std::string(conversation_id), out);
    return out;
  }
  // A device marked inactive is never wrapped for, whatever list it came in.
  Recipients active;
  active.archive_public = recipients.archive_public;
  for (const auto& d : recipients.devices)
    if (d.revoked_unix_ms == 0) active.devices.push_back(d);
  VerifiedRecipients out = verify_recipients(active, known_devices_);
  recipients_.insert_or_assign(std::string(conversation_id), out);
  return out;
}

void Messenger::learn_devices(std::string_view conversation_id) {
  auto r = client_.get_json(conversation_path(conversation_id) + "/devices?include_inactive=true");
  if (!r && r.error().code == Code::kInvalidArgument) {
    // A server from before include_inactive: at least the active devices.
    (void)recipients(conversation_id, true);
    return;
  }
  if (!r) return;
  auto parsed = recipients_from_json(*r);
  if (!parsed) return;
  devices_listed_at_.insert_or_assign(std::string(conversation_id), std::chrono::steady_clock::now());
  // The active ones are the conversation's recipients now; the inactive ones are
  // checked and pinned the same way, to verify what they sent before they stopped.
  verify(conversation_id, *parsed);
  if (identity_) return;
  Recipients inactive;
  for (auto& d : parsed->devices)
    if (d.revoked_unix_ms != 0) inactive.devices.push_back(std::move(d));
  (void)verify_recipients(inactive, known_devices_);
}

Result<VerifiedRecipients> Messenger::recipients(std::string_view conversation_id, bool refresh) {
  if (!refresh) {
    if (auto it = recipients_.find(conversation_id); it != recipients_.end()) return it->second;
  }
  auto r = client_.get_json(conversation_path(conversation_id) + "/devices");
  if (!r) return std::move(r).error();
  auto parsed = recipients_from_json(*r);
  if (!parsed) return malformed("list recipients", parsed.error());
  return verify(conversation_id, *parsed);
}

Result<SealedRequest> Messenger::seal(std::string_view conversation_id, std::string_view plaintext,
                                      std::optional<std::string> message_id) {
  auto list = recipients(conversation_id);
  if (!list) return std::move(list).error();
  // A cached refusal is looked at again (the user may have accepted a change since), and
  // so is a participant without an identity key (who may have set one up since).
  if (!list->rejected.empty() || !list->unverified_users.empty()) list = recipients(conversation_id, true);
  if (!list) return std::move(list).error();
  if (auto refused = refuse_rejected(*list); !refused) return std::move(refused).error();
  SealedRequest req;
  req.conversation_id = std::string(conversation_id);
  req.message_id = message_id ? std::move(*message_id) : new_message_id();
  req.sender_device_id = device_.id;
  if (identity_ && list->unverified_users.empty()) {
    req.plaintext = std::string(plaintext);
    return seal_v2(std::move(req), *list);
  }
  crypto::MessageContext ctx{req.conversation_id, req.message_id, req.sender_device_id};
  auto sealed = crypto::seal_message(ctx, plaintext, device_.keys.signing_private, list->crypto_recipients());
  if (!sealed) return std::move(sealed).error();
  req.ciphertext = std::move(sealed->ciphertext);
  req.content_key = std::move(sealed->content_key);
  req.keys = std::move(sealed->keys);
  return req;
}

Result<SentMessage> Messenger::send_sealed(const SealedRequest& request) {
  auto r = client_.post_json(conversation_path(request.conversation_id) + "/messages", request.body());
  if (!r) return std::move(r).error();
  const json::value* m = member(*r, "message");
  if (!m) return make_error(Code::kInternal, "send: the answer holds no message");
  auto msg = wire_message_from_json(*m);
  if (!msg) return malformed("send", msg.error());
  if (msg->message_id != request.message_id || msg->conversation_id != request.conversation_id) {
    return make_error(Code::kInternal, "send: the answer is about another message");
  }
  return SentMessage{msg->seq, msg->message_id};
}

Result<SentMessage> Messenger::send_request(SealedRequest& request) {
  for (int attempt = 0;; ++attempt) {
    auto sent = send_sealed(request);
    if (sent && request.format == 2) {
      // Our own message is part of the history the next one chains to.
      (void)integrity(request.conversation_id)
          .record_own(sent->seq, request.message_id, device_.id, request.header, request.message_hash);
    }
    if (sent) return sent;
    const Error& e = sent.error();
    bool stale = e.code == Code::kFailedPrecondition && e.field == "keys";
    if (!stale || attempt >= kMaxRewraps) return sent;
    // The server's list of who must get the key now; take it only after checking it.
    boost::system::error_code ec;
    json::value detail = json::parse(e.detail, ec);
    const json::value* list = ec ? nullptr : member(detail, "recipients");
    Result<VerifiedRecipients> fresh = make_error(Code::kInternal, "");
    if (list) {
      auto parsed = recipients_from_json(*list);
      if (!parsed) return malformed("send: stale-device refusal", parsed.error());
      fresh = verify(request.conversation_id, *parsed);
    } else {
      fresh = recipients(request.conversation_id, true);
      if (!fresh) return std::move(fresh).error();
    }
    if (auto refused = refuse_rejected(*fresh); !refused) return std::move(refused).error();
    if (request.format == 2) {
      // The recipient set is signed: seal again (same id, counter and previous hash).
      auto resealed = seal_v2(std::move(request), *fresh);
      if (!resealed) return std::move(resealed).error();
      request = std::move(*resealed);
      continue;
    }
    crypto::MessageContext ctx{request.conversation_id, request.message_id, request.sender_device_id};
    auto keys = crypto::wrap_content_key(ctx, request.content_key, fresh->crypto_recipients());
    if (!keys) return std::move(keys).error();
    request.keys = std::move(*keys);
  }
}

Result<SentMessage> Messenger::send(std::string_view conversation_id, std::string_view plaintext,
                                    std::optional<std::string> message_id) {
  auto req = seal(conversation_id, plaintext, std::move(message_id));
  if (!req) return std::move(req).error();
  auto sent = send_request(*req);
  // The copies of the text and the content key this call made go with it.
  crypto::wipe(req->plaintext);
  crypto::wipe(req->content_key);
  return sent;
}

ReceivedMessage Messenger::open(const WireMessage& message) {
  if (message.kind == "system" || message.expired) return open_wire_message(message, device_, nullptr);
  if (message.format == 2) return open_v2(message);
  auto known = known_devices_.find(message.sender_device_id);
  if (known == known_devices_.end()) {
    // A device we have not seen yet (registered since we last asked, or revoked or
    // logged out before we ever asked): ask again once, inactive devices included.
    learn_devices(message.conversation_id);
    known = known_devices_.find(message.sender_device_id);
  }
  return open_wire_message(message, device_, known == known_devices_.end() ? nullptr : &known->second);
}

std::vector<PeerDevice> Messenger::pinned_devices() const {
  std::vector<PeerDevice> out;
  out.reserve(known_devices_.size());
  for (const auto& [id, d] : known_devices_)
    if (id != device_.id) out.push_back(d);
  return out;
}

std::vector<std::string> Messenger::pin_devices(std::vector<PeerDevice> devices) {
  // The same checks a list from the server gets; the recipients cache is untouched.
  Recipients kept;
  kept.devices = std::move(devices);
  for (auto& d : kept.devices) d.current = false;
  return verify_recipients(kept, known_devices_).rejected;
}

Status Messenger::ack_delivered(std::string_view conversation_id, std::int64_t seq) {
  json::value body = json::object{{"device_id", device_.id}, {"seq", seq}};
  auto r = client_.post_json(conversation_path(conversation_id) + "/delivered", body);
  if (!r) return std::move(r).error();
  return {};
}

Result<std::vector<ReceivedMessage>> Messenger::sync(std::string_view conversation_id) {
  std::vector<ReceivedMessage> out;
  std::int64_t start = tracker_.last(conversation_id);
  for (;;) {
    std::int64_t after = tracker_.last(conversation_id);
    auto r = client_.get_json(conversation_path(conversation_id) + "/messages?device_id=" + url_encode(device_.id) +
                              "&after_seq=" + std::to_string(after) + "&limit=" + std::to_string(kSyncPageSize));
    if (!r) {
      if (out.empty()) return std::move(r).error();
      break;  // keep what was stored; the next sync continues from the cursor
    }
    if (!r->is_object()) return make_error(Code::kInternal, "sync: the answer is not a JSON object");
    const json::value* list = member(*r, "messages");
    if (list && !list->is_null() && !list->is_array()) {
      return make_error(Code::kInternal, "sync: messages is not an array");
    }
    auto last = json_field::int64(r->as_object(), "last_seq");
    if (!last) return malformed("sync", last.error());
    bool progressed = false;
    if (list && list->is_array()) {
      for (const auto& v : list->as_array()) {
        auto m = wire_message_from_json(v);
        if (!m) return malformed("sync", m.error());
        if (m->conversation_id != conversation_id) {
          return make_error(Code::kInternal, "sync: a message of another conversation");
        }
        if (tracker_.classify(conversation_id, m->seq) == SequenceTracker::Verdict::kDuplicate) continue;
        // A seq the server skipped in a sync answer is one it will never return to
        // this device; stopping there would stall the conversation forever.
        out.push_back(open(*m));
        tracker_.advance(conversation_id, m->seq);
        progressed = true;
      }
    }
    if (!progressed || tracker_.last(conversation_id) >= *last) break;
  }
  std::int64_t now = tracker_.last(conversation_id);
  // Delivery receipts are best effort: the messages are stored either way, and the
  // next sync or push acknowledges a higher seq.
  if (now > start) (void)ack_delivered(conversation_id, now);
  return out;
}

Result<PushEvent> Messenger::on_push_text(std::string_view frame) {
  boost::system::error_code ec;
  json::value v = json::parse(frame, ec);
  if (ec) return invalid_argument("frame", "frame: not JSON");
  return on_push(v);
}

Result<PushEvent> Messenger::on_push(const json::value& frame) {
  auto parsed = push_frame_from_json(frame);
  if (!parsed) return std::move(parsed).error();
  PushEvent event;
  event.type = parsed->type;
  if (event.type == "message.new") {
    auto m = wire_message_from_json(parsed->body);
    if (!m) return std::move(m).error();
    switch (tracker_.classify(m->conversation_id, m->seq)) {
      case SequenceTracker::Verdict::kDuplicate:
        break;
      case SequenceTracker::Verdict::kNext:
        event.messages.push_back(open(*m));
        tracker_.advance(m->conversation_id, m->seq);
        (void)ack_delivered(m->conversation_id, m->seq);
        break;
      case SequenceTracker::Verdict::kGap: {
        auto filled = sync(m->conversation_id);
        if (!filled) return std::move(filled).error();
        event.messages = std::move(*filled);
        break;
      }
    }
  } else if (event.type == "receipt.delivered" || event.type == "receipt.read") {
    auto r = receipt_from_json(parsed->body);
    if (!r) return std::move(r).error();
    event.receipt = std::move(*r);
  } else if (event.type == "typing") {
    auto t = typing_from_json(parsed->body);
    if (!t) return std::move(t).error();
    event.typing = std::move(*t);
  }
  return event;
}

std::optional<Result<PushEvent>> Messenger::poll(WebSocket& socket, std::chrono::milliseconds timeout) {
  auto text = socket.read_text(timeout);
  if (!text) return std::nullopt;
  return on_push_text(*text);
}

Result<Receipt> Messenger::mark_read(std::string_view conversation_id, std::int64_t seq) {
  json::value body = json::object{{"seq", seq}};
  auto r = client_.post_json(conversation_path(conversation_id) + "/read", body);
  if (!r) return std::move(r).error();
  const json::value* receipt = member(*r, "receipt");
  if (!receipt) return make_error(Code::kInternal, "mark read: the answer holds no receipt");
  auto out = receipt_from_json(*receipt);
  if (!out) return malformed("mark read", out.error());
  return out;
}

Status Messenger::set_typing(std::string_view conversation_id, bool typing) {
  json::value body = json::object{{"typing", typing}};
  auto r = client_.post_json(conversation_path(conversation_id) + "/typing", body);
  if (!r) return std::move(r).error();
  return {};
}

Result<std::vector<Receipt>> Messenger::receipts(std::string_view conversation_id) {
  auto r = client_.get_json(conversation_path(conversation_id) + "/receipts");
  if (!r) return std::move(r).error();
  std::vector<Receipt> out;
  const json::value* list = member(*r, "receipts");
  if (!list || list->is_null()) return out;
  if (!list->is_array()) return make_error(Code::kInternal, "list receipts: receipts is not an array");
  for (const auto& v : list->as_array()) {
    auto receipt = receipt_from_json(v);
    if (!receipt) return malformed("list receipts", receipt.error());
    out.push_back(std::move(*receipt));
  }
  return out;
}

}  // namespace alliance::client
