#include "scheduling_proto.hpp"

#include "alliance/core/ids.hpp"

namespace alliance::scheduling {

void fill(pb::AppointmentType& out, const AppointmentType& t) {
  out.set_id(t.id);
  out.set_practice_id(t.practice_id);
  out.set_name(t.name);
  out.set_duration_minutes(t.duration_minutes);
  out.set_modality(t.modality);
  out.set_buffer_before_minutes(t.buffer_before_minutes);
  out.set_buffer_after_minutes(t.buffer_after_minutes);
  out.set_min_notice_minutes(t.min_notice_minutes);
  out.set_booking_horizon_days(t.booking_horizon_days);
  out.set_client_self_booking(t.client_self_booking);
  out.set_step_minutes(t.step_minutes);
  out.set_created_by(t.created_by);
  out.set_created_unix_ms(t.created_unix_ms);
  out.set_default_location_id(t.default_location_id);
}

void fill(pb::WeeklyHours& out, const WeeklyHours& w) {
  out.set_weekday(w.weekday);
  out.set_start(format_local_time(w.interval.start_minute));
  out.set_end(format_local_time(w.interval.end_minute));
}

void fill(pb::Availability& out, const TherapistAvailability& a) {
  out.set_therapist_id(a.therapist_id);
  out.set_time_zone(a.availability.time_zone);
  for (const auto& w : a.availability.weekly) fill(*out.add_weekly(), w);
  for (const auto& c : a.availability.changes) {
    auto* o = out.add_changes();
    o->set_from_date(format_date(c.from));
    for (const auto& w : c.weekly) fill(*o->add_weekly(), w);
  }
  for (const auto& e : a.availability.extra) {
    auto* o = out.add_extra();
    o->set_date(format_date(e.date));
    o->set_start(format_local_time(e.interval.start_minute));
    o->set_end(format_local_time(e.interval.end_minute));
  }
  for (const auto& t : a.availability.time_off) {
    auto* o = out.add_time_off();
    o->set_first_date(format_date(t.first));
    o->set_last_date(format_date(t.last));
  }
  out.set_updated_by(a.updated_by);
  out.set_updated_unix_ms(a.updated_unix_ms);
}

void fill(pb::Appointment& out, const Appointment& a, const ClientTimes& times) {
  out.set_id(a.id);
  out.set_practice_id(a.practice_id);
  out.set_therapist_id(a.therapist_id);
  out.set_client_id(a.client_id);
  out.set_type_id(a.type_id);
  out.set_start_time(format_instant(a.start));
  out.set_end_time(format_instant(a.end));
  out.set_status(std::string(status_name(a.status)));
  out.set_version(a.version);
  out.set_series_id(a.series_id);
  out.set_cancel_reason(a.cancel_reason);
  out.set_late_cancellation(a.late_cancellation);
  out.set_created_by(a.created_by);
  out.set_created_unix_ms(a.created_unix_ms);
  out.set_updated_by(a.updated_by);
  out.set_updated_unix_ms(a.updated_unix_ms);
  out.set_time_zone(a.time_zone);
  if (auto zone = find_time_zone(a.time_zone)) {
    out.set_local_start(format_local_minutes(*zone, a.start));
    out.set_utc_offset_minutes(utc_offset_minutes(*zone, a.start));
  }
  out.set_type_name(a.type_name);
  out.set_modality(a.modality);
  out.set_buffer_before_minutes(a.buffer_before_minutes);
  out.set_buffer_after_minutes(a.buffer_after_minutes);
  out.set_cancelled_by(a.cancelled_by);
  out.set_cancelled_unix_ms(a.cancelled_unix_ms);
  // The client's own zone; the therapist's stands in when the client has none, or
  // one this machine's tz database does not know (the fields always agree).
  std::string client_zone = times.client_time_zone;
  auto zone = client_zone.empty() ? find_time_zone(a.time_zone) : find_time_zone(client_zone);
  if (!zone && !client_zone.empty()) {
    client_zone.clear();
    zone = find_time_zone(a.time_zone);
  }
  out.set_client_time_zone(client_zone.empty() ? a.time_zone : client_zone);
  if (zone) {
    out.set_client_local_start(format_local_minutes(*zone, a.start));
    out.set_client_utc_offset_minutes(utc_offset_minutes(*zone, a.start));
  }
  out.set_late_cancellation_from(format_instant(a.start - times.cancellation_window));
  out.set_location_id(a.location_id);
  out.set_location_name(a.location_name);
  out.set_location_address(a.location_address);
  out.set_room(a.room);
  // video_link: never here (see show_video_link).
}

void fill(pb::Location& out, const Location& l) {
  out.set_id(l.id);
  out.set_practice_id(l.practice_id);
  out.set_name(l.name);
  out.set_address(l.address);
  for (const auto& room : l.rooms) out.add_rooms(room);
  out.set_created_by(l.created_by);
  out.set_created_unix_ms(l.created_unix_ms);
  for (const auto& room : l.retired_rooms) out.add_retired_rooms(room);
  out.set_updated_by(l.updated_by);
  out.set_updated_unix_ms(l.updated_unix_ms);
}

void fill(pb::Slot& out, const Slot& s) {
  out.set_start_time(format_instant(s.start));
  out.set_end_time(format_instant(s.end));
  out.set_local_start(s.local_start);
  out.set_utc_offset_minutes(s.utc_offset_minutes);
}

void fill(pb::SlotRun& out, const SlotRun& r) {
  out.set_start_time(format_instant(r.start));
  out.set_count(r.count);
  out.set_step_minutes(static_cast<std::int32_t>(r.step.count()));
  out.set_utc_offset_minutes(r.utc_offset_minutes);
}

void fill(pb::TimeBlock& out, const TimeBlock& b) {
  out.set_id(b.id);
  out.set_therapist_id(b.therapist_id);
  out.set_start_time(format_instant(b.times.start));
  out.set_end_time(format_instant(b.times.end));
  out.set_repeat(b.times.weekly ? "weekly" : "none");
  if (b.times.until) out.set_repeat_until(format_date(*b.times.until));
  out.set_reason(b.reason);
  out.set_time_zone(b.times.time_zone);
  if (auto zone = find_time_zone(b.times.time_zone)) {
    out.set_local_start(format_local_minutes(*zone, b.times.start));
    out.set_utc_offset_minutes(utc_offset_minutes(*zone, b.times.start));
  }
  out.set_created_by(b.created_by);
  out.set_created_unix_ms(b.created_unix_ms);
}

EncodedEvent encode_event(std::string_view type, const Appointment& snapshot, const ClientTimes& times,
                          std::string_view actor_user_id, std::int64_t occurred_unix_ms,
                          std::optional<Instant> previous_start) {
  pb::AppointmentEvent ev;
  ev.set_event_id(new_id());
  ev.set_type(std::string(type));
  fill(*ev.mutable_appointment(), snapshot, times);
  // Events are stored in the outbox and pass through Redis: the cancellation reason and
  // the location's name and address, sealed in the appointment row, stay out of them.
  ev.mutable_appointment()->clear_cancel_reason();
  ev.mutable_appointment()->clear_location_name();
  ev.mutable_appointment()->clear_location_address();
  ev.set_version(snapshot.version);
  ev.set_occurred_unix_ms(occurred_unix_ms);
  ev.set_actor_user_id(std::string(actor_user_id));
  if (previous_start) ev.set_previous_start_time(format_instant(*previous_start));
  return EncodedEvent{ev.event_id(), ev.SerializeAsString()};
}

}  // namespace alliance::scheduling
