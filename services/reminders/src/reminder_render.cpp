#include "reminder_render.hpp"

#include <cstdio>

#include "alliance/redis/push.hpp"
#include "domain/reminder_text.hpp"

namespace alliance::reminders {

std::string format_utc(std::int64_t ms) {
  if (ms == 0) return {};
  const auto t = std::chrono::time_point_cast<std::chrono::seconds>(TimePoint{std::chrono::milliseconds{ms}});
  const auto day = date::floor<date::days>(t);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::optional<std::int64_t> parse_utc(std::string_view s) {
  auto num = [&](std::size_t at, std::size_t n, int& out) {
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || !num(0, 4, y) || s[4] != '-' || !num(5, 2, mo) || s[7] != '-' || !num(8, 2, d) ||
      s[10] != 'T' || !num(11, 2, h) || s[13] != ':' || !num(14, 2, mi) || s[16] != ':' || !num(17, 2, sec))
    return std::nullopt;
  std::size_t pos = 19;
  if (s[pos] == '.') {
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
  }
  if (pos + 1 != s.size() || s[pos] != 'Z') return std::nullopt;
  const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                                 date::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  const auto t = date::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{sec};
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

v1::ReminderDue render_due(const ReminderRow& r, const AppointmentRow& a, bool show_therapist_name,
                           const People& people, std::int64_t now_ms) {
  v1::ReminderDue due;
  due.set_reminder_id(r.id);
  due.set_appointment_id(a.id);
  std::string_view practice;
  if (auto p = people.practice_names.find(a.practice_id); p != people.practice_names.end()) practice = p->second;
  due.set_practice_name(std::string(practice));
  std::string zone_name = a.client_zone;
  if (auto c = people.users.find(a.client_id); c != people.users.end() && find_zone(c->second.time_zone))
    zone_name = c->second.time_zone;
  const auto* zone = find_zone(zone_name);
  if (!zone) zone_name = "UTC";
  std::string therapist;
  if (show_therapist_name) {
    if (auto t = people.users.find(a.therapist_id); t != people.users.end()) therapist = t->second.display_name;
  }
  const TimePoint start{std::chrono::milliseconds{a.start_ms}};
  due.set_start_time(format_utc(a.start_ms));
  const auto start_s = std::chrono::time_point_cast<std::chrono::seconds>(start);
  if (zone) {
    const auto local = zone->to_local(start_s);
    const auto day = date::floor<date::days>(local);
    const date::year_month_day ymd{day};
    const auto minute = std::chrono::duration_cast<std::chrono::minutes>(local - day).count();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%s", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  format_hhmm(static_cast<int>(minute)).c_str());
    due.set_local_start(buf);
    due.set_utc_offset_minutes(
        static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(zone->get_info(start_s).offset).count()));
  } else {
    due.set_local_start(format_utc(a.start_ms).substr(0, 16));
  }
  due.set_time_zone(zone_name);
  due.set_therapist_name(therapist);
  const bool confirmed = a.status == "confirmed";
  due.set_confirmed(confirmed);
  if (a.status == "booked") due.add_actions("confirm");
  if (now_ms < a.late_cancel_ms) due.add_actions("cancel");
  due.set_cancel_until(format_utc(a.late_cancel_ms));
  due.set_text(reminder_text({.practice_name = practice,
                              .therapist_name = therapist,
                              .start = start,
                              .zone = zone,
                              .confirmed = confirmed}));
  due.set_due_at(format_utc(r.due_ms));
  due.set_offset_minutes(r.offset_minutes);
  due.set_appointment_version(a.version);
  return due;
}

push::v1::PushFrame due_frame(const v1::ReminderDue& due, std::int64_t now_ms) {
  return redis::push_frame(due.reminder_id(), kReminderDue, now_ms, due);
}

v1::Reminder to_proto(const ReminderRow& r) {
  v1::Reminder out;
  out.set_id(r.id);
  out.set_appointment_id(r.appointment_id);
  out.set_client_id(r.client_id);
  out.set_therapist_id(r.therapist_id);
  out.set_appointment_start_time(format_utc(r.start_ms));
  out.set_offset_minutes(r.offset_minutes);
  out.set_planned_at(format_utc(r.planned_ms));
  out.set_due_at(format_utc(r.due_ms));
  out.set_moved_for_quiet_hours(r.moved_for_quiet_hours);
  out.set_state(r.state);
  out.set_sent_at(format_utc(r.sent_ms));
  out.set_acknowledged_at(format_utc(r.acked_ms));
  out.set_cancelled_at(format_utc(r.cancelled_ms));
  out.set_expired_at(format_utc(r.expired_ms));
  out.set_cancel_reason(r.cancel_reason);
  out.set_deliveries(r.deliveries);
  out.set_appointment_version(r.appointment_version);
  return out;
}

v1::ReminderPolicy to_proto(const PolicyRow& p) {
  v1::ReminderPolicy out;
  out.set_practice_id(p.practice_id);
  for (int o : p.policy.offsets_minutes) out.add_offsets_minutes(o);
  for (const auto& [type, offsets] : p.policy.type_offsets) {
    auto* t = out.add_type_overrides();
    t->set_type_id(type);
    for (int o : offsets) t->add_offsets_minutes(o);
  }
  if (p.policy.quiet) {
    out.set_quiet_start(format_hhmm(p.policy.quiet->start_minute));
    out.set_quiet_end(format_hhmm(p.policy.quiet->end_minute));
  }
  out.set_show_therapist_name(p.policy.show_therapist_name);
  out.set_updated_by(p.updated_by);
  out.set_updated_unix_ms(p.updated_ms);
  return out;
}

Result<AppointmentRow> appointment_of(const scheduling::v1::AppointmentEvent& event) {
  const auto& a = event.appointment();
  if (a.id().empty()) return invalid_argument("appointment.id", "appointment.id: missing");
  auto start = parse_utc(a.start_time());
  if (!start) return invalid_argument("appointment.start_time", "appointment.start_time: unreadable");
  AppointmentRow row;
  row.id = a.id();
  row.practice_id = a.practice_id();
  row.client_id = a.client_id();
  row.therapist_id = a.therapist_id();
  row.type_id = a.type_id();
  row.status = a.status();
  row.start_ms = *start;
  row.version = a.version() != 0 ? a.version() : event.version();
  row.client_zone = !a.client_time_zone().empty() ? a.client_time_zone() : a.time_zone();
  auto late = parse_utc(a.late_cancellation_from());
  row.late_cancel_ms = late ? *late : *start - 24 * 3600 * 1000;  // scheduling's default window
  return row;
}

}  // namespace alliance::reminders
