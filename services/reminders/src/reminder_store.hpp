#pragma once
// ReminderStore: the reminders service's system of record (one SQLite file, WAL,
// FULL sync, group commits) behind awaitable calls: the appointments it knows (the
// latest version seen of each), their reminders and what happened to each, the
// scheduling event cursor (moved in the same transaction as the plans it caused),
// practice policies and clients' preferences. Several alliance-reminders processes
// may share one file: each reminder is claimed with a lease and a fence (a counter
// bumped on every claim); only the holder of the current fence may mark it sent, so
// the same scheme works unchanged on a shared PostgreSQL (SELECT ... FOR UPDATE
// SKIP LOCKED in place of SQLite's single writer). Callable from any executor;
// results come back on the caller's.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/store/database.hpp"
#include "domain/reminder_plan.hpp"

namespace alliance::reminders {

// An appointment as the latest scheduling event described it.
struct AppointmentRow {
  std::string id, practice_id, client_id, therapist_id, type_id;
  std::string status;           // "booked" | "confirmed" | "cancelled" | "completed" | "no_show"
  std::string client_zone;      // the zone reminders were planned in
  std::int64_t start_ms = 0;
  std::int64_t version = 0;
  std::int64_t late_cancel_ms = 0;  // a client's cancellation from here on is late
};

struct ReminderRow {
  std::string id, appointment_id, practice_id, client_id, therapist_id;
  std::string state;            // "planned" | "sent" | "acknowledged" | "cancelled" | "expired"
  std::string cancel_reason;
  int offset_minutes = 0;
  bool moved_for_quiet_hours = false;
  std::int64_t appointment_version = 0;
  std::int64_t start_ms = 0, planned_ms = 0, due_ms = 0;
  std::int64_t sent_ms = 0, acked_ms = 0, cancelled_ms = 0, expired_ms = 0;
  int deliveries = 0;
};

// One scheduling event to apply (the service resolved the client's zone).
struct EventInput {
  std::int64_t seq = 0;
  AppointmentRow appointment;
  std::int64_t occurred_ms = 0;
};

struct ApplyResult {
  bool applied = false;          // false: the cursor had moved (another instance applied them)
  std::int64_t cursor = 0;       // the stored cursor afterwards
  int planned = 0, cancelled = 0;
  int checkins = 0;              // check-ins made for completed appointments
};

struct PolicyRow {
  std::string practice_id;
  Policy policy;
  std::string updated_by;
  std::int64_t updated_ms = 0;   // 0: never set (the defaults)
};

// A reminder this instance holds the lease of, with what rendering it needs as it
// was when claimed.
struct Claim {
  ReminderRow reminder;
  std::int64_t fence = 0;
  std::int64_t lease_until_ms = 0;
  bool resend = false;           // already marked sent by an instance that died before its push was recorded
  AppointmentRow appointment;
  bool show_therapist_name = false;
};

// What fire() did with one claimed reminder.
struct Fired {
  enum class Outcome { kSent, kResend, kExpired, kOptedOut, kLost };
  std::string reminder_id;
  Outcome outcome = Outcome::kLost;  // kLost: the lease or the state moved on (another instance, a cancellation)
  AppointmentRow appointment;        // as it is now (status decides "confirmed")
  bool show_therapist_name = false;
};

// One push of a reminder that reached Redis, to record.
struct Delivery {
  std::string reminder_id;
  std::int64_t at_ms = 0;
};

// A sent reminder not acknowledged yet, with what rendering it needs.
struct PendingReminder {
  ReminderRow reminder;
  AppointmentRow appointment;
  bool show_therapist_name = false;
};

class ReminderStore {
 public:
  static Result<std::unique_ptr<ReminderStore>> open(const std::filesystem::path& path);
  explicit ReminderStore(std::unique_ptr<store::Database> db);

  // ---- events
  asio::awaitable<Result<std::int64_t>> cursor();
  // Applies events in order in one transaction and moves the cursor from
  // `expected_cursor` to the last event's seq; nothing if the cursor is no longer
  // `expected_cursor`. Per event: an event whose version is not newer than the one
  // stored is skipped; a new or moved appointment gets a fresh plan (the old
  // reminders of a moved one are cancelled as "rescheduled"); a cancelled,
  // completed or no-show one has its open reminders cancelled with that reason, and
  // a newly completed one gets its client's check-in (make_checkin).
  // Planning uses the event's time as "now", so offsets already past at booking are
  // skipped, and of the reminders that came due while this service was not running
  // only the latest is kept (sent at once if the appointment has not started).
  asio::awaitable<Result<ApplyResult>> apply_events(std::int64_t expected_cursor, std::vector<EventInput> events,
                                                    std::int64_t now_ms);

  // ---- firing
  // Leases every claimable reminder due at or before `due_before_ms` (planned, lease
  // expired), earliest first, at most `limit`: lease until max(due, now) + lease_ms,
  // fence + 1. Also re-claims reminders marked sent whose push was never recorded and
  // whose holder's lease has run out (resend).
  asio::awaitable<Result<std::vector<Claim>>> claim_due(std::string owner, std::int64_t now_ms,
                                                        std::int64_t due_before_ms, std::int64_t lease_ms, int limit);
  // The earliest instant at which claim_due could find something new for `owner`:
  // a planned reminder's due - lookahead_ms, or another holder's lease expiry.
  asio::awaitable<Result<std::optional<std::int64_t>>> next_wake(std::string owner, std::int64_t now_ms,
                                                                 std::int64_t lookahead_ms);
  // One Fired per claim, in order. A claim this owner still holds under its fence
  // and still planned -> sent now (or expired if the appointment started, cancelled
  // "opted_out" if the client turned reminders off); a resend claim -> kResend;
  // anything else kLost. Fired::appointment is the appointment as it is now.
  // In the same transaction, records `delivered` as "live" deliveries by `owner`
  // (the pushes of earlier batches, so a burst costs one transaction per batch).
  // `claims` is read on the store's thread: keep it alive until this completes.
  asio::awaitable<Result<std::vector<Fired>>> fire(std::string owner, const std::vector<Claim>& claims,
                                                   std::int64_t now_ms, std::int64_t lease_ms,
                                                   std::vector<Delivery> delivered = {});
  // Records one delivery of each reminder ("live" or "reconnect") by `instance`.
  asio::awaitable<Status> record_deliveries(std::vector<Delivery> delivered, std::string kind, std::string instance);
  // Marks open reminders of appointments that have started as expired; how many.
  asio::awaitable<Result<int>> expire_started(std::int64_t now_ms);

  // ---- clients and staff
  asio::awaitable<Result<std::vector<PendingReminder>>> pending_for(std::string client_id, std::int64_t now_ms);
  // kNotFound (field reminder_id) unless the reminder is the client's.
  asio::awaitable<Result<ReminderRow>> acknowledge(std::string client_id, std::string reminder_id, std::int64_t now_ms);
  asio::awaitable<Result<std::optional<AppointmentRow>>> find_appointment(std::string appointment_id);
  asio::awaitable<Result<std::vector<ReminderRow>>> reminders_of(std::string appointment_id);

  asio::awaitable<Result<PolicyRow>> policy(std::string practice_id);
  // Saves the policy and plans the practice's upcoming appointments again: planned
  // reminders that the new policy does not give are cancelled ("policy_changed"),
  // new ones are added (not for an offset already sent). How many changed.
  asio::awaitable<Result<int>> set_policy(PolicyRow row, std::int64_t now_ms);

  asio::awaitable<Result<std::pair<bool, std::int64_t>>> preference(std::string user_id);  // enabled, updated
  asio::awaitable<Status> set_preference(std::string user_id, bool enabled, std::int64_t now_ms);

  store::Database& database() { return *db_; }
  // How long a check-in made by apply_events stays open (default 72 h).
  void set_checkin_expiry(std::chrono::milliseconds expiry) { checkin_expiry_ms_ = expiry.count(); }

 private:
  std::unique_ptr<store::Database> db_;
  std::int64_t checkin_expiry_ms_ = 72LL * 3600 * 1000;
};

}  // namespace alliance::reminders
