#include "reminders_commands.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdio>
#include <ostream>

#include "commands.hpp"
#include "table.hpp"

namespace alliance::ctl {
namespace {

namespace json = boost::json;

std::string yes_no(bool b) { return b ? "yes" : "no"; }

std::string joined(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

// "24h (1440 min), 2h (120 min)".
std::string offsets_text(const std::vector<int>& offsets) {
  std::vector<std::string> parts;
  for (int m : offsets) parts.push_back(format_offset(m) + " (" + std::to_string(m) + " min)");
  return parts.empty() ? std::string("none") : joined(parts, ", ");
}

// When the reminder reached its current state.
std::string state_since(const client::Reminder& r) {
  if (r.state == "sent") return r.sent_at;
  if (r.state == "acknowledged") return r.acknowledged_at;
  if (r.state == "cancelled") return r.cancelled_at;
  if (r.state == "expired") return r.expired_at;
  return {};
}

// "2026-12-07T09:00" -> "2026-12-07 09:00" (seconds dropped: an appointment starts on a minute).
std::string local_clock(const client::ReminderDue& r) {
  std::string when = r.local_start;
  if (when.size() > 10 && when[10] == 'T') when[10] = ' ';
  if (when.size() == 19) when.resize(16);
  return when;
}

json::value reminders_json(const std::vector<json::value>& items) {
  json::array list(items.begin(), items.end());
  return json::object{{"reminders", std::move(list)}};
}

}  // namespace

std::string format_instant(std::string_view t) {
  // Only the UTC form the servers print is shortened; anything else is shown whole.
  if (t.size() < 20 || t.back() != 'Z' || t[10] != 'T' || t[13] != ':' || t[16] != ':') return std::string(t);
  return std::string(t.substr(0, 10)) + " " + std::string(t.substr(11, 5)) + "Z";
}

std::string format_offset(int minutes) {
  if (minutes > 1440 && minutes % 1440 == 0) return std::to_string(minutes / 1440) + "d";
  if (minutes >= 60 && minutes % 60 == 0) return std::to_string(minutes / 60) + "h";
  if (minutes > 60) return std::to_string(minutes / 60) + "h" + std::to_string(minutes % 60) + "m";
  return std::to_string(minutes) + "m";
}

std::string format_utc_offset(int minutes) {
  if (minutes == 0) return "UTC";
  int a = minutes < 0 ? -minutes : minutes;
  char buf[16];
  std::snprintf(buf, sizeof buf, "UTC%c%02d:%02d", minutes < 0 ? '-' : '+', a / 60, a % 60);
  return buf;
}

std::string local_start_text(const client::ReminderDue& r) {
  std::string when = local_clock(r);
  if (!r.time_zone.empty()) when += " " + r.time_zone;
  return when + " (" + format_utc_offset(r.utc_offset_minutes) + ")";
}

std::string reminder_due_text(const client::ReminderDue& r) {
  std::string head = "reminder " + r.reminder_id + ": " + local_start_text(r) + "; ";
  if (r.actions.empty()) {
    head += "no actions";
  } else {
    head += "actions: " + joined(r.actions, ", ");
    bool can_cancel = std::find(r.actions.begin(), r.actions.end(), "cancel") != r.actions.end();
    if (can_cancel && !r.cancel_until.empty()) head += " (cancel until " + format_instant(r.cancel_until) + ")";
  }
  return terminal_safe(head, "") + "\n  " + terminal_safe(r.text, "  ") + "\n";
}

void print_pending_reminders(std::ostream& out, const std::vector<client::ReminderDue>& reminders) {
  if (reminders.empty()) {
    out << "no pending reminders\n";
    return;
  }
  Table table({{"ID", 34}, {"STARTS", 28}, {"CONFIRMED", 11}, {"ACTIONS", 16}, {"TEXT", 0}});
  for (const auto& r : reminders) {
    table.add({r.reminder_id, local_clock(r) + " " + format_utc_offset(r.utc_offset_minutes), yes_no(r.confirmed),
               r.actions.empty() ? std::string("-") : joined(r.actions, ","), r.text});
  }
  table.print(out);
}

void print_appointment_reminders(std::ostream& out, std::string_view appointment_id,
                                 const std::vector<client::Reminder>& reminders) {
  if (reminders.empty()) {
    out << terminal_safe("no reminders for appointment " + std::string(appointment_id), "") << "\n";
    return;
  }
  out << terminal_safe("appointment " + std::string(appointment_id) + " starts " +
                           format_instant(reminders.front().appointment_start_time),
                       "")
      << "\n";
  Table table({{"ID", 34}, {"BEFORE", 8}, {"DUE", 19}, {"STATE", 14}, {"SINCE", 19}, {"PUSHES", 8}, {"NOTE", 0}});
  for (const auto& r : reminders) {
    std::vector<std::string> notes;
    if (!r.cancel_reason.empty()) notes.push_back("reason: " + r.cancel_reason);
    if (r.moved_for_quiet_hours) {
      notes.push_back("moved out of quiet hours (planned " + format_instant(r.planned_at) + ")");
    }
    table.add({r.id, format_offset(r.offset_minutes), format_instant(r.due_at), r.state, format_instant(state_since(r)),
               std::to_string(r.deliveries), joined(notes, "; ")});
  }
  table.print(out);
}

void print_reminder_policy(std::ostream& out, const client::ReminderPolicy& p) {
  out << "reminders " << offsets_text(p.offsets_minutes) << " before the start\n";
  for (const auto& t : p.type_overrides) {
    out << terminal_safe("appointment type " + t.type_id, "") << ": " << offsets_text(t.offsets_minutes)
        << " before the start\n";
  }
  if (p.quiet_start.empty() && p.quiet_end.empty()) {
    out << "quiet hours: none\n";
  } else {
    out << terminal_safe("quiet hours: " + p.quiet_start + "-" + p.quiet_end, "")
        << " on each client's clock (reminders move out of them)\n";
  }
  out << "therapist named in reminders: " << yes_no(p.show_therapist_name) << "\n";
  if (p.updated_unix_ms > 0) {
    out << terminal_safe("set by " + p.updated_by, "") << " at " << format_ms(p.updated_unix_ms) << "\n";
  } else {
    out << "no admin has set a policy: these are the defaults\n";
  }
}

void print_reminder_preference(std::ostream& out, const client::ReminderPreference& p) {
  if (p.enabled) {
    out << "your reminders are on";
  } else {
    out << "your reminders are off: nothing more is pushed to you";
  }
  if (p.updated_unix_ms > 0) out << " (since " << format_ms(p.updated_unix_ms) << ")";
  out << "\n";
}

ReminderWatch::ReminderWatch(std::ostream& out, std::ostream& err, bool json)
    : out_(out), err_(err), json_(json), inbox_([this](const client::ReminderDue& r) {
        if (!json_) out_ << reminder_due_text(r);
      }) {}

std::optional<ReminderWatch::Handled> ReminderWatch::handle(std::string_view frame) {
  auto event = inbox_.feed(frame);
  if (!event) {
    auto parsed = client::push_frame_from_text(frame);
    if (!parsed || parsed->type != client::kReminderDueType) return std::nullopt;
    Error e = event.error();
    e.message = "a reminder that cannot be read: " + e.message;
    err_ << terminal_safe(error_line(e), "") << "\n";
    out_ << frame << "\n";
    return Handled{true, {}};
  }
  switch (event->kind) {
    case client::InboxFrame::kNewReminder:
      if (json_) out_ << frame << "\n";
      return Handled{true, client::ack_frame(event->reminder_id)};
    case client::InboxFrame::kRepeatedReminder:
      return Handled{false, client::ack_frame(event->reminder_id)};
    case client::InboxFrame::kAckOk:
      if (!json_) err_ << terminal_safe("acknowledged reminder " + event->reminder_id, "") << "\n";
      return Handled{false, {}, true};
    case client::InboxFrame::kAckError: {
      Error e = *event->ack_error;
      e.message = "reminder " + event->reminder_id + " was not acknowledged: " + e.message;
      err_ << terminal_safe(error_line(e), "") << "\n";
      return Handled{false, {}, true};
    }
    case client::InboxFrame::kOther:
      break;
  }
  return std::nullopt;
}

std::optional<ReminderWatch::Handled> ReminderWatch::handle_answer(std::string_view frame) {
  boost::system::error_code ec;
  const auto parsed = json::parse(frame, ec);
  const auto* object = ec ? nullptr : parsed.if_object();
  const auto* type = object ? object->if_contains("type") : nullptr;
  if (!type || !type->is_string() || (type->as_string() != "ack.ok" && type->as_string() != "ack.error"))
    return std::nullopt;
  return handle(frame);
}

bool policy_set_needs_current(const Invocation& inv) {
  return inv.lists.count("type") == 0 || inv.options.count("quiet") == 0 || inv.options.count("show-therapist") == 0;
}

Result<client::ReminderPolicy> policy_from_options(const Invocation& inv, const client::ReminderPolicy& current) {
  client::ReminderPolicy p = current;
  auto offsets = parse_offsets(inv.options.at("offsets"));
  if (!offsets) return offsets.error();
  p.offsets_minutes = std::move(*offsets);
  if (auto types = inv.lists.find("type"); types != inv.lists.end()) {
    p.type_overrides.clear();
    for (const auto& text : types->second) {
      if (text == "none") continue;
      auto t = parse_type_offsets(text);
      if (!t) return t.error();
      p.type_overrides.push_back(client::TypeOffsets{t->type_id, t->offsets});
    }
  }
  if (auto quiet = inv.options.find("quiet"); quiet != inv.options.end()) {
    auto q = parse_quiet(quiet->second);
    if (!q) return q.error();
    p.quiet_start = q->start;
    p.quiet_end = q->end;
  }
  if (auto show = inv.options.find("show-therapist"); show != inv.options.end()) {
    p.show_therapist_name = show->second == "yes";
  }
  return p;
}

Outcome reminders_list(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  client::Reminders reminders(**c);
  if (auto it = ctx.inv.options.find("appointment"); it != ctx.inv.options.end()) {
    auto list = reminders.of_appointment(it->second);
    if (!list) return failed(list.error());
    if (ctx.inv.json) {
      std::vector<json::value> items;
      for (const auto& r : *list) items.push_back(client::reminder_to_json(r));
      print_json(ctx.out, reminders_json(items));
    } else {
      print_appointment_reminders(ctx.out, it->second, *list);
    }
    return {};
  }
  auto list = reminders.pending();
  if (!list) return failed(list.error());
  if (ctx.inv.json) {
    std::vector<json::value> items;
    for (const auto& r : *list) items.push_back(client::reminder_due_to_json(r));
    print_json(ctx.out, reminders_json(items));
  } else {
    print_pending_reminders(ctx.out, *list);
  }
  return {};
}

Outcome reminders_ack(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  auto r = client::Reminders(**c).ack(ctx.inv.args.at(0));
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, json::object{{"reminder", client::reminder_to_json(*r)}});
  } else {
    ctx.out << terminal_safe("acknowledged reminder " + r->id + " (state: " + r->state + ")", "") << "\n";
  }
  return {};
}

Outcome reminders_policy_show(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  auto p = client::Reminders(**c).policy();
  if (!p) return failed(p.error());
  if (ctx.inv.json) {
    print_json(ctx.out, json::object{{"policy", client::reminder_policy_to_json(*p)}});
  } else {
    print_reminder_policy(ctx.out, *p);
  }
  return {};
}

Outcome reminders_policy_set(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  client::Reminders reminders(**c);
  // The request replaces the whole policy: an option left out keeps its current value.
  client::ReminderPolicy current;
  if (policy_set_needs_current(ctx.inv)) {
    auto got = reminders.policy();
    if (!got) return failed(got.error());
    current = std::move(*got);
  }
  auto wanted = policy_from_options(ctx.inv, current);
  if (!wanted) return failed(wanted.error(), kUsage);
  auto stored = reminders.set_policy(*wanted);
  if (!stored) return failed(stored.error());
  if (ctx.inv.json) {
    print_json(ctx.out, json::object{{"policy", client::reminder_policy_to_json(*stored)}});
  } else {
    print_reminder_policy(ctx.out, *stored);
  }
  return {};
}

Outcome reminders_preference(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  client::Reminders reminders(**c);
  auto p = ctx.inv.args.empty() ? reminders.preference() : reminders.set_preference(ctx.inv.args.at(0) == "on");
  if (!p) return failed(p.error());
  if (ctx.inv.json) {
    print_json(ctx.out, client::reminder_preference_to_json(*p));
  } else {
    print_reminder_preference(ctx.out, *p);
  }
  return {};
}

Outcome user_set_time_zone(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  auto user_option = ctx.inv.options.find("user");
  std::string user_id = user_option != ctx.inv.options.end() ? user_option->second : std::string("me");
  auto user = client::Reminders(**c).set_time_zone(ctx.inv.args.at(0), user_id);
  if (!user) return failed(user.error());
  if (ctx.inv.json) {
    print_json(ctx.out, json::object{{"user", *user}});
    return {};
  }
  std::string zone = str(*user, "time_zone");
  ctx.out << terminal_safe("time zone of " + str(*user, "display_name") + " (" + str(*user, "id") + ") is now " +
                               (zone.empty() ? std::string("not set") : zone),
                           "")
          << "\n";
  return {};
}

}  // namespace alliance::ctl
