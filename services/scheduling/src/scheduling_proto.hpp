#pragma once
// Conversions between the scheduling records (scheduling_model.hpp) and the
// protobuf contract (alliance/scheduling/v1), including the AppointmentEvent
// written to the outbox. Pure functions, any thread.
#include <optional>
#include <string>
#include <string_view>

#include "alliance/crypto/encoding.hpp"
#include "alliance/scheduling/v1/scheduling.pb.h"
#include "scheduling_model.hpp"

namespace alliance::scheduling {

namespace pb = ::alliance::scheduling::v1;

void fill(pb::AppointmentType& out, const AppointmentType& t);
void fill(pb::WeeklyHours& out, const WeeklyHours& w);
void fill(pb::Availability& out, const TherapistAvailability& a);
// Includes local_start/utc_offset_minutes in the appointment's (the therapist's)
// zone, client_local_start/client_utc_offset_minutes in `times.client_time_zone`
// (the therapist's zone when the client has none or it is not a known zone) and
// late_cancellation_from = start - times.cancellation_window.
void fill(pb::Appointment& out, const Appointment& a, const ClientTimes& times);
void fill(pb::Slot& out, const Slot& s);
void fill(pb::SlotRun& out, const SlotRun& r);
void fill(pb::Location& out, const Location& l);
// Everything, reason included: callers clear what a client may not see.
void fill(pb::TimeBlock& out, const TimeBlock& b);

using store::request_digest;  // these requests have no maps

// A serialized AppointmentEvent with a fresh event_id; the snapshot is filled as
// answers are (fill above, with `times`); `previous_start` for "rescheduled".
struct EncodedEvent {
  std::string event_id;
  std::string payload;
};
EncodedEvent encode_event(std::string_view type, const Appointment& snapshot, const ClientTimes& times,
                          std::string_view actor_user_id, std::int64_t occurred_unix_ms,
                          std::optional<Instant> previous_start);

}  // namespace alliance::scheduling
