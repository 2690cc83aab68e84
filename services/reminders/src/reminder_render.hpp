#pragma once
// Protobuf at the edge: the reminders service's rows as the messages clients and
// staff see (scheduling.proto-style RFC 3339 UTC instants), the "reminder.due" push
// frame, and scheduling's AppointmentEvent as a row. Pure functions, any thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "alliance/push/v1/push.pb.h"
#include "alliance/reminders/v1/reminders.pb.h"
#include "alliance/scheduling/v1/scheduling.pb.h"
#include "people_directory.hpp"
#include "reminder_store.hpp"

namespace alliance::reminders {

inline constexpr std::string_view kReminderDue = "reminder.due";

// "2026-03-09T13:00:00Z" (milliseconds dropped); "" for 0.
std::string format_utc(std::int64_t ms);
// The form above (UTC with "Z", optional fraction); nullopt otherwise.
std::optional<std::int64_t> parse_utc(std::string_view text);

// What the client's device shows for a reminder, given the appointment as it is
// now and what identity says (the client's current zone wins over the one the
// reminder was planned in). "confirm" is offered while the appointment is only
// booked, "cancel" until late_cancellation_from.
v1::ReminderDue render_due(const ReminderRow& reminder, const AppointmentRow& appointment, bool show_therapist_name,
                           const People& people, std::int64_t now_ms);
// The live push: PushFrame id == reminder id (clients de-duplicate by it).
push::v1::PushFrame due_frame(const v1::ReminderDue& due, std::int64_t now_ms);

v1::Reminder to_proto(const ReminderRow& r);
v1::ReminderPolicy to_proto(const PolicyRow& p);

// The appointment an event describes; kInvalidArgument naming the field for an
// event this service cannot use (a missing id, an unreadable start).
Result<AppointmentRow> appointment_of(const scheduling::v1::AppointmentEvent& event);

}  // namespace alliance::reminders
