#pragma once
// The scheduling service's own records (what the store keeps and the handlers
// reason about) and the text formats of the public API: RFC 3339 instants,
// "YYYY-MM-DD" dates, "HH:MM" local times. Plain values, any thread.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/core/result.hpp"
#include "alliance/store/idempotency.hpp"
#include "domain/availability.hpp"
#include "domain/series.hpp"
#include "domain/slots.hpp"
#include "domain/time_blocks.hpp"
#include "domain/time_zone.hpp"

namespace alliance::scheduling {

enum class Role { kClient, kTherapist, kFrontDesk, kAdmin };
std::optional<Role> parse_role(std::string_view name);  // "client" | "therapist" | "front_desk" | "admin"
std::string_view role_name(Role role);

// Who is calling, as the gateway established it from a verified token.
struct Caller {
  std::string user_id;
  std::string practice_id;
  Role role = Role::kClient;
  bool is_staff() const { return role == Role::kFrontDesk || role == Role::kAdmin; }
};

enum class AppointmentStatus { kBooked, kConfirmed, kCancelled, kCompleted, kNoShow };
std::string_view status_name(AppointmentStatus status);
std::optional<AppointmentStatus> parse_status(std::string_view name);
// Booked and confirmed appointments hold their time (and buffers); the others don't.
inline bool holds_time(AppointmentStatus s) {
  return s == AppointmentStatus::kBooked || s == AppointmentStatus::kConfirmed;
}

struct AppointmentType {
  std::string id;
  std::string practice_id;
  std::string name;
  int duration_minutes = 50;
  std::string modality = "in_person";  // "in_person" | "telehealth"
  int buffer_before_minutes = 0;
  int buffer_after_minutes = 0;
  int min_notice_minutes = 0;
  int booking_horizon_days = 90;
  bool client_self_booking = false;
  int step_minutes = 0;  // 0 = duration
  std::string created_by;
  std::int64_t created_unix_ms = 0;
  std::string default_location_id;  // in_person: "" = none

  SlotRules rules() const;
};

// A place of the practice where clients are seen in person, and its rooms.
struct Location {
  std::string id;
  std::string practice_id;
  std::string name;
  std::string address;
  std::vector<std::string> rooms;          // in use
  std::string created_by;
  std::int64_t created_unix_ms = 0;
  std::vector<std::string> retired_rooms;  // nothing new is booked in them; past appointments keep them
  std::string updated_by;                  // "" until first edited
  std::int64_t updated_unix_ms = 0;
};

// An admin's edit of a location (UpdateLocation); fields already checked as text.
struct LocationChange {
  std::optional<std::string> name;
  std::optional<std::string> address;
  std::vector<std::string> add_rooms;     // new, or retired ones back in use
  std::vector<std::string> retire_rooms;  // rooms in use
};

// Applies `change` to `l`: kNotFound on retire_rooms[i] for a room not in use,
// kInvalidArgument on add_rooms[i] for one already in use or named twice, and when more
// than 50 rooms would be in use. `l` is unchanged on an error.
Status apply_location_change(Location& l, const LocationChange& change);

// The practice's default video link for telehealth appointments without their own.
struct PracticeVideoLink {
  std::string practice_id;
  std::string video_link;
  std::string updated_by;
  std::int64_t updated_unix_ms = 0;
};

// A therapist's availability with who last set it.
struct TherapistAvailability {
  std::string therapist_id;
  std::string practice_id;
  Availability availability;
  std::string updated_by;
  std::int64_t updated_unix_ms = 0;
};

struct Appointment {
  std::string id;
  std::string practice_id;
  std::string therapist_id;
  std::string client_id;
  std::string type_id;
  Instant start{};
  Instant end{};
  int buffer_before_minutes = 0;  // copied from the type when booked: later type edits don't move buffers
  int buffer_after_minutes = 0;
  AppointmentStatus status = AppointmentStatus::kBooked;
  std::int64_t version = 0;
  std::string series_id;
  std::string cancel_reason;
  bool late_cancellation = false;
  std::string created_by;
  std::int64_t created_unix_ms = 0;
  std::string updated_by;
  std::int64_t updated_unix_ms = 0;
  std::string cancelled_by;
  std::int64_t cancelled_unix_ms = 0;
  std::string time_zone;  // the therapist's zone when booked
  std::string type_name;
  std::string modality;
  std::string location_id;       // in_person: "" = none given
  std::string location_name;     // the location's name and address when booked
  std::string location_address;
  std::string room;              // "" = none; two active appointments never share a room's time
  std::string video_link;        // telehealth: shown only to the client and the therapist

  Booked as_booked() const {
    return Booked{start, end, std::chrono::minutes(buffer_before_minutes),
                  std::chrono::minutes(buffer_after_minutes)};
  }
};

// A therapist's time block with its reason (shown to staff only) and who made it.
struct TimeBlock {
  std::string id;
  std::string practice_id;
  std::string therapist_id;
  BlockTimes times;
  std::string reason;  // may be ""
  std::string created_by;
  std::int64_t created_unix_ms = 0;
};

// A note on an appointment for the practice's staff only; never part of Appointment,
// so it cannot reach events, pushes, reminders or feeds.
struct AppointmentNote {
  std::string appointment_id;
  std::string note;
  std::string updated_by;
  std::int64_t updated_unix_ms = 0;
};

// What an appointment's answers and events show beside its stored row (the
// Appointment fields client_time_zone .. late_cancellation_from). Not stored: the
// client's zone is identity's, read when answering or writing the event, so a
// changed zone shows on the next answer.
struct ClientTimes {
  std::string client_time_zone;  // the client's IANA zone; "" = none set (the therapist's stands in)
  std::chrono::minutes cancellation_window{24 * 60};  // late_cancellation_from = start - this
};

// One line of an appointment's history: who did what, when.
struct HistoryEntry {
  std::string appointment_id;
  std::int64_t version = 0;
  std::string action;  // "booked", "confirmed", "rescheduled", "cancelled", "completed", "no_show"
  std::string actor_user_id;
  std::int64_t at_unix_ms = 0;
};

// ---- waitlist

// A preferred local window: weekdays (0 = Sunday; empty = every day) and minutes
// after local midnight that the whole session must fit in.
struct WaitlistWindow {
  std::vector<int> weekdays;
  int start_minute = 0;
  int end_minute = 1440;
};

// A client waiting for an earlier time with a therapist. status: "waiting" (may be
// offered a freed slot), "offered" (holds an open offer), "booked", "left".
struct WaitlistEntry {
  std::string id;
  std::string practice_id;
  std::string therapist_id;
  std::string client_id;
  std::string type_id;
  date::year_month_day first_date{}, last_date{};  // local dates, inclusive
  std::vector<WaitlistWindow> preferred;          // empty: any time
  std::string status = "waiting";
  std::string created_by;
  std::int64_t created_unix_ms = 0;
};

// A freed slot offered to one entry's client, with a hold (a row in slot_holds)
// that blocks the time for everybody else while status is "held" and
// hold_expires_unix_ms is ahead. Other statuses: "accepted", "declined",
// "expired", "withdrawn" (the entry left).
struct WaitlistOffer {
  std::string id;
  std::string entry_id;
  std::string practice_id;
  std::string therapist_id;
  std::string client_id;
  std::string type_id;
  std::string type_name;
  std::string time_zone;
  Instant start{}, end{};
  int buffer_before_minutes = 0;
  int buffer_after_minutes = 0;
  std::string status = "held";
  std::int64_t hold_expires_unix_ms = 0;  // wall clock (not the rules' clock)
  std::string appointment_id;             // accepted
  std::int64_t created_unix_ms = 0;
  std::int64_t closed_unix_ms = 0;

  Booked as_booked() const {
    return Booked{start, end, std::chrono::minutes(buffer_before_minutes),
                  std::chrono::minutes(buffer_after_minutes)};
  }
};

// Time a committed cancel or reschedule gave back: what the waitlist offers.
struct FreedSlot {
  std::string practice_id;
  std::string therapist_id;
  Instant start{}, end{};
};

// Whether a session [start, end) in `zone` fits the entry's dates and windows.
bool waitlist_matches(const WaitlistEntry& entry, const date::time_zone* zone, Instant start, Instant end);

// ---- text formats (every parse error names `field`)

// "2026-03-09T13:00:00Z" or with an offset ("...T09:00:00-04:00", fraction allowed and
// dropped); years 1970..9999.
Result<Instant> parse_instant(std::string_view text, std::string_view field);
// Idempotency keys are checked and refused as every store's are.
using store::idempotency_key_reused;
using store::validate_idempotency_key;
std::string format_instant(Instant t);  // always UTC, "2026-03-09T13:00:00Z"
// "HH:MM" -> minutes after midnight, 0..1440 ("24:00" allowed).
Result<int> parse_local_time(std::string_view text, std::string_view field);
std::string format_local_time(int minutes);
Result<date::year_month_day> parse_date(std::string_view text, std::string_view field);
std::string format_date(date::year_month_day d);

inline std::int64_t to_unix(Instant t) { return t.time_since_epoch().count(); }
inline Instant from_unix(std::int64_t s) { return Instant(std::chrono::seconds(s)); }
Instant now_instant();

}  // namespace alliance::scheduling
