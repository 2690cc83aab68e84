#pragma once
// What one reader device can prove about a conversation's history from the v2 messages
// it opened, whatever order, seqs and times the server gives them. One object per
// conversation; the Messenger feeds it every opened v2 message in the order the server
// delivers them (seq order) and records its own sent messages. Pure, no I/O, no clock
// (times are the signed ones passed in); not thread-safe (owned by one Messenger).
//
//   ConversationIntegrity integrity(conversation_id, ReaderStart::kJoinedLater);
//   auto verdict = integrity.observe(delivered);         // for each opened v2 message
//   if (verdict && verdict->show()) display(message, verdict->issues);
//   if (!integrity.ok()) warn(integrity.issues());       // until acknowledge()
//   header.counter = integrity.next_counter(my_device);  // sealing the next message
//   header.prev_hash = integrity.last_hash();
//   ... after the server accepted it at `seq`:
//   integrity.record_own(seq, message_id, my_device, header, sealed.message_hash);
//
// Rules, per message (v1 messages are not fed: they carry no counter or chain):
// - Same message id again with the same hash: not shown (kDuplicate). At the same seq
//   that is a harmless redelivery; at another seq the server replayed it: kReplay.
//   Same id with another hash (or a known hash under another id): not shown, kIdConflict.
// - Sender revoked (revoked_unix_ms != 0) and the message signed after it, or chained
//   to a message signed more than kIntegrityClockToleranceMs after it, or with a counter
//   above one already refused so: not shown, kFromRevokedDevice. (A revoked key could
//   backdate; the chain and the counter catch a backdated message sent after one the
//   reader refused or after one signed after the revocation.)
// - Counter, per sender device: exactly the last one seen + 1. Above: kGap naming the
//   missing counters. At or below the last: kReplay if that counter came with another
//   message id (or is older than what the reader still remembers), else kReordered
//   (it arrives late). The first message seen from a device: with
//   ReaderStart::kFromFirstMessage its counter must be 1 (else kGap for 1..counter-1);
//   with kJoinedLater any counter is the baseline.
// - Sent time: more than kIntegrityClockToleranceMs before the sender device's previous
//   (highest-counter) message: kReordered.
// - Chain: prev_hash empty, or the hash of a message this reader has seen here (any
//   earlier one, not necessarily the latest: both sides send concurrently). Unknown:
//   kGap ("refers to a message this device never received"), except on the first
//   message seen from a device when the reader joined later (it may follow history the
//   reader cannot open). A message whose prev_hash is one the reader saw at a higher
//   seq, or a message arriving after one that followed it: kReordered.
// - Recipients: signed ids not in `trusted_device_ids`: kUntrustedRecipient; ids in
//   `expected_device_ids` not signed: kMissingRecipient (the sender was shown another
//   device list).
// Every issue except a harmless redelivery makes ok() false until acknowledge(); all
// messages but kDuplicate and refused ones are shown, with their issues as a warning.
//
// Bounds: the last kIntegrityMaxMessages messages (id, hash, seq, counter, time) in the
// order recorded, kIntegrityMaxSenders sender devices (the one heard from longest ago is
// forgotten first), kIntegrityMaxMessages unresolved prev_hash references, and the
// latest kIntegrityMaxIssues issues. A message older than what is remembered can no longer be
// recognised as a duplicate, and a prev_hash to it reads as unknown (kGap): a sender
// would have to send without having synced the last 10,000 messages.
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alliance/core/result.hpp"
#include "alliance/crypto/message_seal.hpp"

namespace alliance::client {

inline constexpr std::int64_t kIntegrityClockToleranceMs = 10 * 60 * 1000;  // 10 minutes
inline constexpr std::size_t kIntegrityMaxMessages = 10'000;
inline constexpr std::size_t kIntegrityMaxSenders = 1'000;
inline constexpr std::size_t kIntegrityMaxIssues = 1'000;
// Longest message or device id tracked (the SDK's ids are 26 characters, the server's
// device ids at most 64): keeps the remembered state small whatever the server sends.
inline constexpr std::size_t kIntegrityMaxIdSize = 256;

// Whether this reader has held the conversation since its first message.
enum class ReaderStart {
  kFromFirstMessage,  // a recipient of every v2 message from the first (e.g. it opened the
                      // conversation, or was among its devices then): every device starts at counter 1
  kJoinedLater,       // added later: a device's first counter seen is its baseline
};

enum class IntegrityKind {
  kReplay,              // a message or its counter delivered again (server replay)
  kIdConflict,          // a known message id with other content, or a known hash under another id (not shown)
  kGap,                 // messages missing: counters skipped, or prev_hash never received
  kReordered,           // a message delivered out of the order it was sent in
  kFromRevokedDevice,   // signed after its device's revocation (not shown)
  kUntrustedRecipient,  // encrypted also to devices this reader does not trust
  kMissingRecipient,    // not encrypted to a device this reader trusts
};
std::string_view integrity_kind_name(IntegrityKind kind);  // "replay", "id_conflict", ...

// One problem found in the conversation.
struct IntegrityIssue {
  IntegrityKind kind = IntegrityKind::kGap;
  std::string message_id;                             // the message it was found on
  std::int64_t seq = 0;                               // that message's server seq
  std::string sender_device_id;                       // that message's sender device
  std::uint64_t first_missing = 0, last_missing = 0;  // kGap on counters: the ones not received
  std::vector<std::string> device_ids;                // kUntrustedRecipient / kMissingRecipient: which devices
  std::string text;                                   // e.g. "a message from device X is missing (counter 7)"
  bool operator==(const IntegrityIssue&) const = default;
};

// What to do with one delivered message.
struct IntegrityVerdict {
  enum class Display {
    kShow,       // show it; with a warning if `issues` is not empty
    kDuplicate,  // already shown under this message id: do not show again
    kRefused,    // from a revoked device, or a known id with other content: do not show
  };
  Display display = Display::kShow;
  std::vector<IntegrityIssue> issues;  // found on this message (also added to issues())

  bool show() const { return display == Display::kShow; }
};

// One opened v2 message as the server delivered it, and what the reader knows about
// its sender: crypto::open_message_v2 has checked the signature over `header`.
struct DeliveredMessage {
  std::int64_t seq = 0;  // the server's, >= 1
  std::string message_id;
  std::string sender_device_id;
  crypto::MessageHeaderV2 header;           // signed
  std::string message_hash;                 // OpenedMessageV2::message_hash, 32 bytes
  std::int64_t sender_revoked_unix_ms = 0;  // as the server lists the sender device; 0 = active
  // Device ids this reader trusts in the conversation (both participants' devices
  // certified by their users' identity keys, revoked ones included, the sender's too,
  // and "archive" when the archive key is accepted), in any order. A signed recipient
  // outside it is kUntrustedRecipient. Empty: not checked.
  std::vector<std::string> trusted_device_ids;
  // Of those, the ones the message must have been encrypted to: certified well before
  // it was signed and not revoked then. One left out is kMissingRecipient. Empty: not checked.
  std::vector<std::string> expected_device_ids;
};

class ConversationIntegrity {
 public:
  ConversationIntegrity(std::string conversation_id, ReaderStart start);

  const std::string& conversation_id() const { return conversation_id_; }
  ReaderStart reader_start() const { return start_; }

  // Checks one delivered message against everything seen before and remembers it.
  // kInvalidArgument naming the field, and nothing recorded, for input open_message_v2
  // would not give: "seq" (< 1), "message_id" / "sender_device_id" (empty or longer
  // than kIntegrityMaxIdSize), "header.counter" (0), "header.prev_hash" (neither empty
  // nor 32 bytes), "message_hash" (not 32 bytes).
  Result<IntegrityVerdict> observe(const DeliveredMessage& message);

  // The sender's side. The counter for this device's next message here (1 for its first),
  // and the prev_hash for it: the hash of the shown message with the highest seq, own
  // ones included; empty when there is none.
  std::uint64_t next_counter(std::string_view my_device_id) const;
  const std::string& last_hash() const { return last_hash_; }
  // Records a message this device sent, once the server accepted it at `seq` (a sealed
  // request never accepted leaves its counter unused). Recording it again is a no-op.
  // Errors as observe(), fields named the same.
  Status record_own(std::int64_t seq, std::string_view message_id, std::string_view my_device_id,
                    const crypto::MessageHeaderV2& header, std::string_view message_hash);

  // True when no issue was found since the last acknowledge().
  bool ok() const { return issues_.empty(); }
  // Every issue found since the last acknowledge(), oldest first (the latest kIntegrityMaxIssues).
  const std::deque<IntegrityIssue>& issues() const { return issues_; }
  // The user has seen the issues: clears them; ok() is true until the next one.
  void acknowledge() { issues_.clear(); }

  // The whole state, for the device's storage: {"version":1, "conversation_id",
  // "reader_start", "messages":[...], "senders":[...], "pending":[...], "issues":[...]},
  // hashes base64, counters and times as decimal strings.
  boost::json::value to_json() const;
  // Reads to_json()'s output. Anything else (wrong types, bad base64, a hash not 32
  // bytes, duplicate ids, more entries than the bounds) is kInvalidArgument naming the
  // field, e.g. "messages[3].message_hash"; never a crash.
  static Result<ConversationIntegrity> from_json(const boost::json::value& v);

 private:
  struct Seen {  // one remembered message
    std::string message_id, message_hash, sender_device_id;
    std::int64_t seq = 0;
    std::uint64_t counter = 0;
    std::int64_t sent_unix_ms = 0;
    bool shown = false;  // false: refused (still a valid chain link and duplicate)
  };
  struct Sender {  // what the reader knows of one sender device here
    std::uint64_t last_counter = 0;
    std::int64_t last_sent_unix_ms = 0;  // of the last_counter message
    std::int64_t last_seq = 0;           // when it was last heard from
    std::uint64_t forgotten_up_to = 0;   // highest counter of its messages no longer remembered
    std::uint64_t refused_from = 0;      // lowest counter refused as after revocation; 0 = none
  };
  struct Reference {  // a prev_hash not (yet) seen, and the message that carried it
    std::string message_id;
    std::int64_t seq = 0;
  };

  void check_counter(const DeliveredMessage& m, const Sender* sender, std::vector<IntegrityIssue>& out) const;
  void check_chain(const DeliveredMessage& m, const Sender* sender, std::vector<IntegrityIssue>& out) const;
  void check_recipients(const DeliveredMessage& m, std::vector<IntegrityIssue>& out) const;
  std::string revocation_problem(const DeliveredMessage& m, const Sender* sender) const;
  // Adds a message to every index, updates its sender, forgets the oldest past the bounds.
  void remember(Seen seen);
  void forget_oldest_message();
  void add_issues(const std::vector<IntegrityIssue>& found);
  const Seen* find_hash(std::string_view hash) const;

  std::string conversation_id_;
  ReaderStart start_;
  std::map<std::string, Seen, std::less<>> by_id_;
  std::deque<std::string> order_;  // message ids, oldest recorded first
  std::map<std::string, std::string, std::less<>> id_by_hash_;
  std::map<std::pair<std::string, std::uint64_t>, std::string> id_by_counter_;  // (device, counter)
  std::map<std::string, Sender, std::less<>> senders_;
  std::map<std::string, Reference, std::less<>> pending_;  // unresolved prev_hash -> its message
  std::deque<std::string> pending_order_;
  std::deque<IntegrityIssue> issues_;
  std::string last_hash_;
  std::int64_t last_hash_seq_ = 0;
};

}  // namespace alliance::client
