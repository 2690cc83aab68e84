#pragma once
// Appointment reminders on the client side: the reminders API's JSON read into
// plain structs, a de-duplicating inbox for "reminder.due" pushes, the WebSocket
// acknowledgement frame, and blocking calls over AllianceClient.
//
// Typical use on a client's device:
//
//   AllianceClient client(endpoint);  // logged in
//   Reminders reminders(client);
//   auto socket = client.open_push_socket();
//   ReminderInbox inbox([&](const ReminderDue& r) { show(r.text, r.local_start, r.actions); });
//   if (auto pending = reminders.pending()) for (const auto& r : *pending) inbox.offer(r);
//   while (auto text = (*socket)->read_text(timeout)) {
//     auto event = inbox.feed(*text);
//     if (event && (event->kind == InboxFrame::kNewReminder || event->kind == InboxFrame::kRepeatedReminder))
//       (*socket)->send_text(ack_frame(event->reminder_id));
//   }
//
// Every input is treated as hostile: malformed JSON is an Error naming the field,
// never a crash. Field names are accepted as in the .proto (snake_case, what the
// gateway prints) and in lowerCamelCase; int64 and int32 as a string or a number;
// fields left out read as empty, 0 or false (proto3 JSON omits default values);
// unknown fields are ignored (fields are only ever appended to the contract).
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "alliance/client/alliance_client.hpp"
#include "alliance/client/wire.hpp"
#include "alliance/core/result.hpp"

namespace alliance::client {

// PushFrame.type of a reminder push, and the Any type URL of its body.
inline constexpr std::string_view kReminderDueType = "reminder.due";
inline constexpr std::string_view kReminderDueTypeUrl = "type.googleapis.com/alliance.reminders.v1.ReminderDue";

// alliance.reminders.v1.ReminderDue: what a client's device shows. Never holds
// protected details (appointment type, notes, a reason).
struct ReminderDue {
  std::string reminder_id;     // required; the same reminder pushed again has the same id
  std::string appointment_id;  // required
  std::string practice_name;
  std::string start_time;      // required; RFC 3339 UTC, "2026-12-07T14:00:00Z"
  std::string local_start;     // required; "2026-12-07T09:00" in the client's zone
  int utc_offset_minutes = 0;  // the client's zone at the start: -300 for UTC-05:00
  std::string time_zone;       // the client's IANA zone, "America/New_York"
  std::string therapist_name;  // only when the practice's policy shows it
  bool confirmed = false;
  // What the client may do from the reminder: "confirm" (POST
  // /v1/appointments/{id}/confirm) unless already confirmed, "cancel" while the
  // cancellation window allows. Values this SDK does not know are kept as they are.
  std::vector<std::string> actions;
  std::string cancel_until;  // RFC 3339; a cancellation after this is late ("" = none)
  std::string text;          // required; ready to show (written by the server: escape it for a terminal)
  std::string due_at;        // RFC 3339
  int offset_minutes = 0;    // planned this long before the start
  std::int64_t appointment_version = 0;
};
// The ReminderDue JSON object (a push frame's "body", with or without "@type",
// or one element of GET /v1/reminders). kInvalidArgument naming the field: a
// required field missing or empty, a field of the wrong JSON type, an int32 out of
// range, an instant that is not RFC 3339, a local_start that is not
// "YYYY-MM-DDTHH:MM[:SS]", utc_offset_minutes beyond +-18 h, offset_minutes below
// 0, or an "@type" other than kReminderDueTypeUrl.
Result<ReminderDue> reminder_due_from_json(const boost::json::value& v);
// A whole push frame: must be of type "reminder.due" (else kInvalidArgument on
// "type") with a body (else "body: missing"); the body as above.
Result<ReminderDue> reminder_due_from_push(const PushFrame& frame);
// The same JSON back (proto field names, int64 as a string, defaults left out).
boost::json::value reminder_due_to_json(const ReminderDue& r);

// alliance.reminders.v1.Reminder: one planned reminder and what happened to it.
struct Reminder {
  std::string id;  // required
  std::string appointment_id, client_id, therapist_id;
  std::string appointment_start_time;  // RFC 3339 UTC
  int offset_minutes = 0;
  std::string planned_at;  // start - offset
  std::string due_at;      // planned_at, moved out of the client's quiet hours
  bool moved_for_quiet_hours = false;
  std::string state;  // "planned" | "sent" | "acknowledged" | "cancelled" | "expired"
  std::string sent_at, acknowledged_at, cancelled_at, expired_at;  // "" until it happened
  // Why it was cancelled: "rescheduled" | "cancelled" | "completed" | "no_show" |
  // "opted_out" | "policy_changed".
  std::string cancel_reason;
  int deliveries = 0;  // pushes recorded (live and on reconnect)
  std::int64_t appointment_version = 0;
};
// kInvalidArgument naming the field: id missing, a wrong JSON type, an int32 out of range.
Result<Reminder> reminder_from_json(const boost::json::value& v);
boost::json::value reminder_to_json(const Reminder& r);  // proto field names, defaults left out

// alliance.reminders.v1.TypeOffsets: offsets for one appointment type, replacing the practice's.
struct TypeOffsets {
  std::string type_id;
  std::vector<int> offsets_minutes;
};

// alliance.reminders.v1.ReminderPolicy. The server's rules: 1..5 distinct offsets,
// each 5..20160 minutes (14 days); at most 50 type overrides; quiet hours "HH:MM"
// on the client's wall clock, both "" for none, end before start spans midnight.
struct ReminderPolicy {
  std::string practice_id;
  std::vector<int> offsets_minutes;
  std::vector<TypeOffsets> type_overrides;
  std::string quiet_start, quiet_end;
  bool show_therapist_name = false;
  std::string updated_by;  // user id of the admin who set it ("" = defaults)
  std::int64_t updated_unix_ms = 0;
};
// kInvalidArgument naming the field ("offsets_minutes[2]", "type_overrides[0].type_id").
Result<ReminderPolicy> reminder_policy_from_json(const boost::json::value& v);
boost::json::value reminder_policy_to_json(const ReminderPolicy& p);  // every field, proto names
// The SetReminderPolicyRequest JSON for `p`: offsets, type overrides, quiet hours
// and show_therapist_name (practice_id and updated_* are the server's and not sent).
boost::json::value reminder_policy_request_json(const ReminderPolicy& p);

// alliance.reminders.v1.ReminderPreferenceResponse: a client's own switch.
struct ReminderPreference {
  bool enabled = false;
  std::int64_t updated_unix_ms = 0;
};
// proto3 JSON leaves `enabled` out when false, so a missing "enabled" reads false.
Result<ReminderPreference> reminder_preference_from_json(const boost::json::value& v);
boost::json::value reminder_preference_to_json(const ReminderPreference& p);

// The WebSocket text frame that acknowledges a reminder: {"type":"ack","id":"<reminder_id>"}
// (JSON-escaped). The gateway answers "ack.ok" or "ack.error" on the same socket.
std::string ack_frame(std::string_view reminder_id);

// What ReminderInbox::feed made of one text frame.
struct InboxFrame {
  enum Kind {
    kNewReminder,       // a reminder.due whose id was not seen: the callback has been called
    kRepeatedReminder,  // a reminder.due seen before: not shown again (ack it again: harmless)
    kAckOk,             // {"type":"ack.ok","id"}: the server recorded the acknowledgement
    kAckError,          // {"type":"ack.error","id","error":{...}}: it did not; see `ack_error`
    kOther,             // any other frame type ("message.new", ...): ignored
  };
  Kind kind = kOther;
  std::string type;                // the frame's type
  std::string reminder_id;         // all kinds but kOther
  std::optional<Error> ack_error;  // kAckError: the server's code and message (kInternal if it gave none)
};

// Shows each reminder once however often it is pushed. The server pushes a reminder
// on every new connection until it is acknowledged, and again after a fail-over;
// feed the inbox every text frame of the push socket and it calls `on_new` once per
// reminder id. It remembers the last `capacity` ids (oldest forgotten first), so its
// memory is bounded however long it runs. One thread at a time; not thread-safe.
class ReminderInbox {
 public:
  using Callback = std::function<void(const ReminderDue&)>;
  static constexpr std::size_t kDefaultCapacity = 10'000;

  // `capacity` below 1 counts as 1.
  explicit ReminderInbox(Callback on_new, std::size_t capacity = kDefaultCapacity);

  // One text frame from the push socket. A reminder.due is parsed (an Error naming
  // the field if it is malformed: nothing is remembered or shown) and passed to the
  // callback if its reminder_id is new; ack answers are read (an Error if one has no
  // id); other types are kOther. Text that is not a JSON object with a "type" is an Error.
  Result<InboxFrame> feed(std::string_view text);
  // The same for an already parsed JSON frame.
  Result<InboxFrame> feed_json(const boost::json::value& frame);

  // A reminder learned another way (Reminders::pending()): calls the callback and
  // returns true if its id is new, so a later push of it is not shown twice.
  bool offer(const ReminderDue& reminder);

  bool seen(std::string_view reminder_id) const;
  std::size_t size() const { return order_.size(); }  // ids remembered
  std::size_t capacity() const { return capacity_; }

 private:
  bool remember(const std::string& id);  // true if new

  Callback on_new_;
  std::size_t capacity_;
  std::deque<std::string> order_;             // remembered ids, oldest first
  std::unordered_set<std::string_view> ids_;  // views of order_'s strings, for lookup
};

// The reminders API over a logged-in AllianceClient: blocking, one thread at a
// time, each call one HTTPS request with the client's timeout. `client` must
// outlive this. Errors: the server's (error_from_response), or kInternal when its
// answer is not the documented JSON (the message names the field).
class Reminders {
 public:
  explicit Reminders(AllianceClient& client) : client_(client) {}

  // GET /v1/reminders: the caller's reminders sent and not yet acknowledged whose
  // appointment has not started, earliest due first.
  Result<std::vector<ReminderDue>> pending();
  // POST /v1/reminders/{id}/ack: it is not pushed again. Acknowledging twice is fine.
  // An empty id is kInvalidArgument ("reminder_id") without a request.
  Result<Reminder> ack(std::string_view reminder_id);
  // GET /v1/appointments/{id}/reminders: each reminder of the appointment and its
  // state (front desk and admins, its therapist, its client; anyone else: kNotFound).
  Result<std::vector<Reminder>> of_appointment(std::string_view appointment_id);

  // GET /v1/reminders/policy: the practice's policy (defaults until an admin sets one).
  Result<ReminderPolicy> policy();
  // PUT /v1/reminders/policy (admins): replaces the whole policy with `policy`'s
  // settable fields (see reminder_policy_request_json); reminders not yet sent are
  // planned again under it. Returns the policy as stored.
  Result<ReminderPolicy> set_policy(const ReminderPolicy& policy);

  // GET and PUT /v1/reminders/preference: the caller's own switch. Off: nothing more
  // is pushed and planned reminders are cancelled when due ("opted_out").
  Result<ReminderPreference> preference();
  Result<ReminderPreference> set_preference(bool enabled);

  // PUT /v1/users/{user_id}/time-zone: the IANA zone reminders are worded in
  // ("Europe/Berlin"; "" clears it). `user_id` "me" is the caller. Returns the
  // updated identity User as JSON (an object; "time_zone" holds the new zone).
  Result<boost::json::value> set_time_zone(std::string_view time_zone, std::string_view user_id = "me");

 private:
  AllianceClient& client_;
};

}  // namespace alliance::client
