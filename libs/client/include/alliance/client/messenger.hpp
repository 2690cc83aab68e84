#pragma once
// End-to-end encrypted messaging for one user's device on top of the blocking
// AllianceClient: seal and send, sync and open, live pushes, receipts, typing.
// The server only ever sees ciphertext and wrapped keys; plaintext exists only in
// this process.
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/client/alliance_client.hpp"
#include "alliance/client/conversation_integrity.hpp"
#include "alliance/client/device.hpp"
#include "alliance/client/sequence_tracker.hpp"
#include "alliance/client/trust.hpp"
#include "alliance/client/user_identity.hpp"
#include "alliance/client/wire.hpp"
#include "alliance/crypto/message_seal.hpp"

namespace alliance::client {

// What the server accepted: the message's place in its conversation.
struct SentMessage {
  std::int64_t seq = 0;
  std::string message_id;
};

// A message as this device reads it.
struct ReceivedMessage {
  std::string conversation_id;
  std::int64_t seq = 0;
  std::string message_id;
  std::string sender_user_id;    // empty for system notices
  std::string sender_device_id;
  std::int64_t sent_unix_ms = 0;
  std::string kind;              // "user" | "system"
  std::string plaintext;         // "user" only: decrypted and signature-checked
  // "system" only: a notice written by the practice's server (an after-hours
  // notice), never by a person, and never end-to-end encrypted: show it as such.
  std::string system_text;
  bool expired = false;          // content removed by retention or erasure: nothing to show
  // Non-empty when a "user" message could not be opened on this device (no key for
  // it, unknown sender device, bad signature, tampering), or a format 2 message was
  // refused (sent after its device's revocation, its id reused for other content):
  // plaintext is then empty.
  std::string error;
  int format = 1;
  // Format 2: what this message showed about the conversation's history (a message
  // missing before it, a replay, a reordering, an unexpected recipient), one line each;
  // Messenger::integrity() keeps the whole list until acknowledged.
  std::vector<std::string> integrity;
  bool duplicate = false;  // format 2: an earlier message again (same id): do not show it twice

  bool is_system() const { return kind == "system"; }
  bool readable() const { return kind == "user" && !expired && error.empty() && !duplicate; }
};

// What one push frame meant to this device.
struct PushEvent {
  std::string type;  // the frame's type ("message.new", "receipt.read", "typing", ...)
  // "message.new": the new messages in seq order; more than one when a gap was filled
  // by a sync first; empty for a duplicate of something already stored.
  std::vector<ReceivedMessage> messages;
  std::optional<Receipt> receipt;    // "receipt.delivered" | "receipt.read"
  std::optional<TypingEvent> typing; // "typing"
};

// A sealed message ready to post. Keep it to retry: posting the same request again
// is idempotent (same seq), while sealing the same text again under the same
// message id gives another ciphertext, which the server refuses as a conflict.
struct SealedRequest {
  std::string conversation_id, message_id, sender_device_id;
  std::string ciphertext;
  std::vector<crypto::WrappedKey> keys;
  std::string content_key;  // never sent: to re-wrap after a stale-device refusal
  int format = 1;           // 1 | 2 (the signed header of crypto::seal_message_v2)
  // Format 2 only, never sent: the signed header and hash (recorded once accepted) and
  // the text, to seal again for a new device list (the recipient set is signed).
  crypto::MessageHeaderV2 header;
  std::string message_hash;
  std::string plaintext;

  // The SendMessageRequest JSON (bytes as base64).
  boost::json::value body() const;
};

// The recipients of a conversation after checking every device's keys.
struct VerifiedRecipients {
  std::vector<PeerDevice> devices;   // agreement key signed by the device's signing key
  std::string archive_public;        // the practice archive key (32 bytes), empty if none
  // Devices left out: a bad signature, or keys other than those first seen for that
  // device id; with a user identity (format 2) also any device its user's pinned
  // identity key did not certify, and every device of a user whose identity key changed
  // (until accepted) or who had one pinned and is now said to have none. Sending
  // refuses while any are listed (the server would insist on them).
  std::vector<std::string> rejected;
  // With a user identity: participants whose app has no identity key yet (never seen
  // with one). Their devices are trusted per device on first use, on the server's word
  // for whose they are, as before identity keys, and messages go out in format 1 (which
  // older apps read) until every participant has a key. Show it as a warning.
  std::vector<std::string> unverified_users;
  std::vector<std::string> reasons;  // one per rejected id, or about the archive key
  // Set when the archive key is accepted: "messages in this conversation are also
  // readable by <practice>'s record archive".
  std::string archive_notice;

  std::vector<crypto::Recipient> crypto_recipients() const;  // devices, then "archive"
};

// Public keys this device has accepted, by device id.
using KnownDevices = std::map<std::string, PeerDevice, std::less<>>;

// Checks each device's agreement-key signature and pins its keys in `known`: a
// device id seen before with other keys (or owner), a bad signature, or the
// reserved id "archive" puts the device in `rejected` instead of `devices`.
VerifiedRecipients verify_recipients(const Recipients& recipients, KnownDevices& known);

// What the server says about a message (ids, seq, time, kind, format), nothing opened.
ReceivedMessage envelope_of(const WireMessage& message);

// Opens one server message for device `me`. `sender` is the sender device's
// verified public keys, or null if unknown. Never fails: problems land in
// ReceivedMessage::error (a hostile sender must not stop a sync).
ReceivedMessage open_wire_message(const WireMessage& message, const Device& me, const PeerDevice* sender);

// A fresh message id, 26 characters: the time in milliseconds as 12 hex digits, then 10
// random bytes in base64url. Ids made later sort later, so the server's unique index of
// message ids takes each group of new ones at its end, in a page or two, instead of one
// page per message at random. The server learns when the message was sealed, which for
// one sealed to send now is when it arrives.
std::string new_message_id();

// One user's device in its conversations. Keeps in memory, per conversation, the
// cursor up to which it holds every message, the recipients list, and the keys of
// every device it has verified (pinned by device id). Blocking, one thread at a
// time; `client` must outlive it and be logged in as the device's session.
class Messenger {
 public:
  Messenger(AllianceClient& client, Device device);
  // With the user's identity key on this device (set_up_identity): messages are sent
  // in format 2 (format 1 while a participant has no identity key yet: see
  // VerifiedRecipients::unverified_users), and recipients are trusted only through the TrustStore (the peer's
  // identity key pinned per user, devices by its certificates, the archive key by the
  // practice key). Without it, format 1 and per-device trust on first use.
  Messenger(AllianceClient& client, Device device, UserIdentity identity);

  const Device& device() const { return device_; }
  AllianceClient& client() { return client_; }

  // POST /v1/conversations: opens (or gets) the conversation of a client and a therapist.
  Result<Conversation> open_conversation(std::string_view client_id, std::string_view therapist_id);
  Result<Conversation> conversation(std::string_view conversation_id);
  Result<std::vector<Conversation>> conversations();

  // GET .../devices, verified; cached per conversation until `refresh` or a stale-device refusal.
  // Only active devices: one the server marks inactive (revoked_unix_ms) is left out.
  Result<VerifiedRecipients> recipients(std::string_view conversation_id, bool refresh = false);

  // Seals `plaintext` for the current recipients and sends it: a stale-device
  // refusal re-wraps the same content key for the list the server returned and
  // retries (at most 3 times). Returns the seq the server accepted. `message_id`
  // defaults to new_message_id(). A recipient device whose keys fail verification
  // makes it kFailedPrecondition with field "recipients" (nothing is sent).
  Result<SentMessage> send(std::string_view conversation_id, std::string_view plaintext,
                           std::optional<std::string> message_id = std::nullopt);
  // The two halves of send(): seal once, then post (with the stale-device re-wrap;
  // `request.keys` is updated in place). Retrying send_request with the same
  // request after a transport error is safe: the server answers the original.
  Result<SealedRequest> seal(std::string_view conversation_id, std::string_view plaintext,
                             std::optional<std::string> message_id = std::nullopt);
  Result<SentMessage> send_request(SealedRequest& request);
  // One POST of exactly this request, no retry; the server's Error as is (its
  // `detail` holds the error's JSON detail, e.g. the current recipients).
  Result<SentMessage> send_sealed(const SealedRequest& request);

  // Opening a message from a device not yet pinned asks the server once for the
  // conversation's devices, inactive ones included (GET .../devices?include_inactive=true),
  // checks each one's self-signature and pins it: so a message sent from a device
  // since revoked or logged out still opens and verifies. An inactive device's keys
  // only ever verify old messages; nothing new is wrapped for it.
  //
  // Fetches every message after this device's cursor (paging), opens each, moves
  // the cursor and acknowledges delivery up to it. Returns the new messages in order.
  // The server's answer is the whole truth for the device: a seq it leaves out is skipped.
  Result<std::vector<ReceivedMessage>> sync(std::string_view conversation_id);

  // Handles one push frame from the WebSocket. "message.new": a duplicate (seq at or
  // below the cursor) gives no message; the next seq is opened from the push itself;
  // a gap is filled by sync() first. Receipts and typing are parsed and passed on.
  // Unknown frame types give an event with only `type`.
  Result<PushEvent> on_push(const boost::json::value& frame);
  Result<PushEvent> on_push_text(std::string_view frame);
  // Reads one frame from `socket` (waiting up to `timeout`) and handles it; nullopt
  // when nothing arrived (check socket.closed()).
  std::optional<Result<PushEvent>> poll(WebSocket& socket, std::chrono::milliseconds timeout);

  // POST .../read: the user has read up to seq.
  Result<Receipt> mark_read(std::string_view conversation_id, std::int64_t seq);
  // POST .../typing: shown live to the other participant, never stored.
  Status set_typing(std::string_view conversation_id, bool typing);
  // GET .../receipts: every device's delivered cursor and each participant's read cursor.
  Result<std::vector<Receipt>> receipts(std::string_view conversation_id);

  // Every other device whose keys this Messenger has verified and pinned, by id:
  // keep them in the device's storage (peer_devices_to_json) and give them to
  // pin_devices() after a restart, so a server that later offers other keys under
  // one of those ids is still refused. This device's own keys are not included.
  std::vector<PeerDevice> pinned_devices() const;
  // Pins devices kept from pinned_devices(), as if verified from the server: each
  // one whose agreement key its signing key signed is pinned, unless its id is
  // already pinned (a pin is never replaced) or is "archive". Answers the ids left
  // out: bad signatures and ids pinned with other keys (or another owner).
  std::vector<std::string> pin_devices(std::vector<PeerDevice> devices);

  // What this device trusts (pins, verified peers, the practice key): accept an
  // identity change, mark a peer verified, keep it in storage with to_json().
  TrustStore& trust() { return trust_; }
  void set_trust(TrustStore trust) { trust_ = std::move(trust); }
  // The safety number of this user and the conversation's other participant, from
  // the identity keys pinned for both (kFailedPrecondition without a user identity).
  Result<std::string> safety_number(std::string_view conversation_id);
  // What format 2 messages have shown about a conversation's history so far.
  ConversationIntegrity& integrity(std::string_view conversation_id);
  // How old the conversation's device list (with revocation times) may be when a
  // format 2 message is opened: older, it is asked for again first. 0 asks for every
  // message. A device revoked less than this ago may still get a message through.
  void set_device_list_max_age(std::chrono::milliseconds age) { device_list_max_age_ = age; }

  // The cursor: every message up to it is held by this device (0 for none).
  std::int64_t last_seq(std::string_view conversation_id) const { return tracker_.last(conversation_id); }
  // Restores a cursor kept in the device's storage.
  void set_last_seq(std::string_view conversation_id, std::int64_t seq) { tracker_.reset(conversation_id, seq); }

 private:
  // Checks the devices' keys, pins them, and caches the list for the conversation.
  VerifiedRecipients verify(std::string_view conversation_id, const Recipients& recipients);
  // The name of the caller's practice if it is `practice_id` (GET /v1/me, asked once), else "".
  std::string practice_name(std::string_view practice_id);
  // The same with the user identity: through the TrustStore (messenger_trust.cpp).
  VerifiedRecipients verify_certified(std::string_view conversation_id, const Recipients& recipients);
  // Which devices a format 2 message signed at `sent_unix_ms` may and must have been
  // encrypted to, from the certified devices seen in the conversation.
  void expect_recipients(std::string_view conversation_id, DeliveredMessage& message) const;
  // learn_devices() unless the list is younger than device_list_max_age_ and holds
  // `device_id`; true if it asked.
  bool refresh_devices(std::string_view conversation_id, std::string_view device_id);
  Result<SealedRequest> seal_v2(SealedRequest request, const VerifiedRecipients& recipients);
  ReceivedMessage open_v2(const WireMessage& message);
  // The devices (inactive ones included) and their revocation times, as last listed.
  void remember_devices(const Recipients& recipients);
  // Asks for the conversation's devices, inactive ones included, and pins every
  // one that verifies; the active ones become the recipients list. Best effort.
  void learn_devices(std::string_view conversation_id);
  ReceivedMessage open(const WireMessage& message);
  Status ack_delivered(std::string_view conversation_id, std::int64_t seq);
  std::string conversation_path(std::string_view conversation_id) const;

  AllianceClient& client_;
  Device device_;
  SequenceTracker tracker_;
  std::map<std::string, VerifiedRecipients, std::less<>> recipients_;  // by conversation
  KnownDevices known_devices_;                                         // verified, pinned
  std::optional<UserIdentity> identity_;
  TrustStore trust_;
  std::map<std::string, ConversationIntegrity, std::less<>> integrity_;  // by conversation
  std::map<std::string, PeerDevice, std::less<>> listed_devices_;         // by id, as last listed
  std::map<std::string, std::string, std::less<>> participants_;          // conversation -> other user
  // Every device seen certified in a conversation (revoked ones included), by id.
  struct CertifiedTimes {
    std::int64_t issued_unix_ms = 0, revoked_unix_ms = 0;
    bool certified = true;  // false: a device of a user without an identity key (never expected)
  };
  std::map<std::string, std::map<std::string, CertifiedTimes, std::less<>>, std::less<>> certified_;
  std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> devices_listed_at_;
  std::chrono::milliseconds device_list_max_age_{10'000};
  std::string practice_id_, practice_name_;  // the caller's, once asked
};

}  // namespace alliance::client
