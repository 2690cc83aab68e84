#include "scheduling_commands.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <functional>
#include <ostream>
#include <sstream>

#include "alliance/core/ids.hpp"
#include "commands.hpp"
#include "reminders_commands.hpp"
#include "table.hpp"

namespace alliance::ctl {
namespace {

namespace json = boost::json;
using Printer = std::function<void(std::ostream&, const json::value&)>;

const std::string& option(const Context& ctx, const std::string& name) { return ctx.inv.options.at(name); }

std::string option_or(const Context& ctx, const std::string& name, const std::string& fallback = "") {
  auto it = ctx.inv.options.find(name);
  return it == ctx.inv.options.end() ? fallback : it->second;
}

// "&name=value" for each given option, as a query string ("" when none is given).
std::string query(const Context& ctx, std::initializer_list<std::pair<const char*, const char*>> names) {
  std::string out;
  for (const auto& [opt, param] : names) {
    auto it = ctx.inv.options.find(opt);
    if (it == ctx.inv.options.end()) continue;
    out += (out.empty() ? "?" : "&") + std::string(param) + "=" + client::url_encode(it->second);
  }
  return out;
}

// The one shape of every command: a call, then the server's JSON (--json) or `print`.
Outcome call(Context& ctx, std::string_view method, const std::string& target, const json::value* body,
             const Printer& print) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  auto r = (*c)->call_json(method, target, body);
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
  } else {
    print(ctx.out, *r);
  }
  return {};
}

Outcome get(Context& ctx, const std::string& target, const Printer& print) {
  return call(ctx, "GET", target, nullptr, print);
}

// "2026-12-07T09:00" -> "2026-12-07 09:00".
std::string wall_clock(std::string text) {
  if (text.size() > 10 && text[10] == 'T') text[10] = ' ';
  return text;
}

// A change to one appointment (POST /v1/appointments/<id>/<what>) printed as `verb`.
Outcome change_appointment(Context& ctx, std::string_view what, json::object body, std::string_view verb) {
  json::value b = std::move(body);
  const std::string target = "/v1/appointments/" + path_part(option(ctx, "id")) + "/" + std::string(what);
  return call(ctx, "POST", target, &b, [verb](std::ostream& out, const json::value& r) {
    out << appointment_line(verb, sub(r, "appointment"));
  });
}

std::string block_line(std::string_view verb, const json::value& b) {
  std::string line = std::string(verb) + " block " + str(b, "id") + ": " + wall_clock(str(b, "local_start")) + " " +
                     str(b, "time_zone") + " until " + format_instant(str(b, "end_time"));
  if (str(b, "repeat") == "weekly")
    line += ", weekly" + (str(b, "repeat_until").empty() ? std::string(" (no end)") : " until " + str(b, "repeat_until"));
  if (!str(b, "reason").empty()) line += " (" + terminal_safe(str(b, "reason"), "") + ")";
  return line + "\n";
}

// The time of day of a "2026-12-07T09:00" ("09:00"); other text as it is.
std::string time_of_day(const std::string& text) { return text.size() > 11 ? text.substr(11) : text; }

}  // namespace

namespace {

// Where an appointment happens, for a table cell: "video", or the location and room.
std::string appointment_place(const json::value& a) {
  if (str(a, "modality") == "telehealth") return "video";
  std::string place = terminal_safe(str(a, "location_name"), "");
  if (!str(a, "room").empty()) place += (place.empty() ? "" : ", ") + terminal_safe(str(a, "room"), "");
  return place;
}

}  // namespace

std::string appointment_line(std::string_view verb, const json::value& a) {
  return std::string(verb) + " " + str(a, "status") + " " + wall_clock(str(a, "local_start")) + " " +
         str(a, "time_zone") + " " + terminal_safe(str(a, "type_name"), "") + ", therapist " + str(a, "therapist_id") +
         ", client " + str(a, "client_id") + " (id " + str(a, "id") + ", version " +
         std::to_string(int64_of(a, "version")) + ")" +
         (appointment_place(a).empty() ? std::string() : ", at " + appointment_place(a)) + "\n";
}

std::string calendar_table(const json::value& calendar) {
  struct Row {
    std::string start;
    std::vector<std::string> cells;
  };
  std::vector<Row> rows;
  const auto& therapists = sub(calendar, "therapists");
  if (therapists.is_array()) {
    for (const auto& t : therapists.as_array()) {
      const std::string therapist = str(t, "therapist_id");
      if (const auto& list = sub(t, "appointments"); list.is_array())
        for (const auto& item : list.as_array()) {
          const auto& a = sub(item, "appointment");
          const auto& span = sub(item, "span");
          rows.push_back({str(span, "start_time"),
                          {wall_clock(str(span, "local_start")), time_of_day(str(span, "local_end")), therapist,
                           str(a, "status"), str(a, "type_name"), appointment_place(a), str(a, "client_id"),
                           str(a, "id"), str(item, "staff_note")}});
        }
      if (const auto& list = sub(t, "blocks"); list.is_array())
        for (const auto& b : list.as_array()) {
          const auto& span = sub(b, "span");
          rows.push_back({str(span, "start_time"),
                          {wall_clock(str(span, "local_start")), time_of_day(str(span, "local_end")), therapist,
                           "blocked", str(b, "repeat") == "weekly" ? "weekly block" : "block", "", "",
                           str(b, "block_id"), str(b, "reason")}});
        }
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.start < b.start; });
  std::ostringstream out;
  out << "calendar " << format_instant(str(calendar, "from")) << " to " << format_instant(str(calendar, "to"))
      << ", times in " << str(calendar, "time_zone") << "\n";
  if (rows.empty()) {
    out << "no appointments or blocks\n";
    return out.str();
  }
  Table table({{"START", 17}, {"END", 6}, {"THERAPIST", 34}, {"STATUS", 10}, {"WHAT", 24}, {"WHERE", 24},
               {"CLIENT", 34}, {"ID", 34}, {"NOTE", 0}});
  for (auto& r : rows) table.add(std::move(r.cells));
  table.print(out);
  return out.str();
}

Outcome types(Context& ctx) {
  return get(ctx, "/v1/appointment-types", [](std::ostream& out, const json::value& r) {
    print_rows(out, sub(r, "types"), "no appointment types",
               Table({{"ID", 34}, {"MINUTES", 8}, {"MODALITY", 11}, {"SELF-BOOK", 10}, {"NAME", 0}}),
               [](const json::value& t) -> std::vector<std::string> {
                 const auto& o = t.as_object();
                 const bool self = o.if_contains("client_self_booking") && o.at("client_self_booking").is_bool() &&
                                   o.at("client_self_booking").as_bool();
                 return {str(t, "id"), std::to_string(int64_of(t, "duration_minutes")), str(t, "modality"),
                         self ? "yes" : "no", str(t, "name")};
               });
  });
}

Outcome availability(Context& ctx) {
  return get(ctx, "/v1/therapists/" + path_part(option(ctx, "therapist")) + "/availability",
             [](std::ostream& out, const json::value& r) {
               const auto& a = sub(r, "availability");
               out << "time zone " << str(a, "time_zone") << "\n";
               static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
               print_rows(out, sub(a, "weekly"), "no weekly hours", Table({{"WEEKDAY", 8}, {"START", 6}, {"END", 0}}),
                          [](const json::value& w) -> std::vector<std::string> {
                            const auto day = int64_of(w, "weekday");
                            return {day >= 0 && day <= 6 ? kDays[day] : "?", str(w, "start"), str(w, "end")};
                          });
               if (const auto& off = sub(a, "time_off"); off.is_array() && !off.as_array().empty())
                 print_rows(out, off, "no time off", Table({{"OFF FROM", 11}, {"TO", 0}}),
                            [](const json::value& t) -> std::vector<std::string> {
                              return {str(t, "first_date"), str(t, "last_date")};
                            });
             });
}

Outcome blocks_list(Context& ctx) {
  return get(ctx,
             "/v1/therapists/" + path_part(option(ctx, "therapist")) + "/time-blocks" +
                 query(ctx, {{"from", "from"}, {"to", "to"}}),
             [](std::ostream& out, const json::value& r) {
               print_rows(out, sub(r, "blocks"), "no time blocks",
                          Table({{"ID", 34}, {"START", 17}, {"UNTIL", 18}, {"REPEAT", 18}, {"REASON", 0}}),
                          [](const json::value& b) -> std::vector<std::string> {
                            std::string repeat = str(b, "repeat");
                            if (repeat == "weekly")
                              repeat += str(b, "repeat_until").empty() ? "" : " to " + str(b, "repeat_until");
                            return {str(b, "id"), wall_clock(str(b, "local_start")), format_instant(str(b, "end_time")),
                                    repeat, str(b, "reason")};
                          });
             });
}

Outcome blocks_add(Context& ctx) {
  json::object body{{"start_time", option(ctx, "start")}, {"end_time", option(ctx, "end")}};
  const std::string until = option_or(ctx, "weekly-until");
  if (ctx.inv.options.count("weekly-until") != 0 || ctx.inv.flag("weekly")) body["repeat"] = "weekly";
  if (!until.empty()) body["repeat_until"] = until;
  if (auto reason = option_or(ctx, "reason"); !reason.empty()) body["reason"] = reason;
  json::value b = std::move(body);
  return call(ctx, "POST", "/v1/therapists/" + path_part(option(ctx, "therapist")) + "/time-blocks", &b,
              [](std::ostream& out, const json::value& r) { out << block_line("added", sub(r, "block")); });
}

Outcome blocks_delete(Context& ctx) {
  return call(ctx, "DELETE",
              "/v1/therapists/" + path_part(option(ctx, "therapist")) + "/time-blocks/" + path_part(option(ctx, "id")),
              nullptr, [](std::ostream& out, const json::value& r) { out << block_line("deleted", sub(r, "block")); });
}

Outcome slots(Context& ctx) {
  return get(ctx,
             "/v1/therapists/" + path_part(option(ctx, "therapist")) + "/slots" +
                 query(ctx, {{"type", "type_id"}, {"from", "from"}, {"to", "to"}}),
             [](std::ostream& out, const json::value& r) {
               out << "open slots, local times in " << str(r, "time_zone") << "\n";
               print_rows(out, sub(r, "slots"), "no open slots", Table({{"LOCAL START", 17}, {"UTC", 0}}),
                          [](const json::value& s) -> std::vector<std::string> {
                            return {wall_clock(str(s, "local_start")), str(s, "start_time")};
                          });
             });
}

// Where a booking or series happens: --location, --room, --modality, --video-link
// into the body, each only when given (the type's default otherwise).
void add_placement(Context& ctx, json::value& body) {
  for (const auto& [opt, field] : {std::pair{"location", "location_id"}, std::pair{"room", "room"},
                                   std::pair{"modality", "modality"}, std::pair{"video-link", "video_link"}})
    if (auto v = option_or(ctx, opt); !v.empty()) body.as_object()[field] = v;
}

Outcome book(Context& ctx) {
  json::value body = {{"idempotency_key", option_or(ctx, "key", new_id())},
                      {"therapist_id", option(ctx, "therapist")},
                      {"client_id", option_or(ctx, "client")},
                      {"type_id", option(ctx, "type")},
                      {"start_time", option(ctx, "start")}};
  add_placement(ctx, body);
  return call(ctx, "POST", "/v1/appointments", &body, [](std::ostream& out, const json::value& r) {
    const bool replayed = sub(r, "replayed").is_bool() && sub(r, "replayed").as_bool();
    out << appointment_line(replayed ? "already booked:" : "booked", sub(r, "appointment"));
  });
}

Outcome reschedule(Context& ctx) {
  return change_appointment(ctx, "reschedule", {{"new_start_time", option(ctx, "start")}}, "rescheduled");
}
Outcome cancel(Context& ctx) {
  return change_appointment(ctx, "cancel", {{"reason", option(ctx, "reason")}}, "cancelled");
}
Outcome confirm(Context& ctx) { return change_appointment(ctx, "confirm", {}, "confirmed"); }
Outcome no_show(Context& ctx) { return change_appointment(ctx, "no-show", {}, "marked"); }

Outcome appointments(Context& ctx) {
  std::string target = "/v1/calendar?date=" + client::url_encode(option(ctx, "date"));
  std::string more = query(ctx, {{"days", "days"}, {"therapist", "therapist_ids"}, {"zone", "time_zone"}});
  if (!more.empty()) target += "&" + more.substr(1);
  return get(ctx, target, [](std::ostream& out, const json::value& r) { out << calendar_table(r); });
}

Outcome series(Context& ctx) {
  json::value body = {{"idempotency_key", option_or(ctx, "key", new_id())},
                      {"therapist_id", option(ctx, "therapist")},
                      {"client_id", option_or(ctx, "client")},
                      {"type_id", option(ctx, "type")},
                      {"first_start_time", option(ctx, "start")},
                      {"interval_weeks", std::stoi(option_or(ctx, "every", "1"))},
                      {"count", std::stoi(option(ctx, "count"))},
                      {"on_conflict", option_or(ctx, "on-conflict", "skip")}};
  add_placement(ctx, body);
  return call(ctx, "POST", "/v1/appointment-series", &body, [](std::ostream& out, const json::value& r) {
    out << "series " << str(r, "series_id") << ": " << int64_of(r, "booked") << " booked, " << int64_of(r, "skipped")
        << " skipped\n";
    print_rows(out, sub(r, "occurrences"), "no occurrences",
               Table({{"#", 4}, {"LOCAL START", 17}, {"OUTCOME", 9}, {"ID / REASON", 0}}),
               [](const json::value& o) -> std::vector<std::string> {
                 const bool booked = str(o, "outcome") == "booked";
                 return {std::to_string(int64_of(o, "index") + 1), wall_clock(str(o, "local_start")), str(o, "outcome"),
                         booked ? str(sub(o, "appointment"), "id") : str(o, "reason")};
               });
  });
}

Outcome waitlist(Context& ctx) {
  return get(ctx, "/v1/waitlist" + query(ctx, {{"therapist", "therapist_id"}, {"client", "client_id"}}),
             [](std::ostream& out, const json::value& r) {
               print_rows(out, sub(r, "entries"), "no one waiting",
                          Table({{"ID", 34}, {"STATUS", 9}, {"CLIENT", 34}, {"THERAPIST", 34}, {"DATES", 0}}),
                          [](const json::value& e) -> std::vector<std::string> {
                            return {str(e, "id"), str(e, "status"), str(e, "client_id"), str(e, "therapist_id"),
                                    str(e, "from_date") + " to " + str(e, "to_date")};
                          });
             });
}

Outcome clients_search(Context& ctx) {
  if (auto s = require_session(ctx); !s) return failed(s.error());
  const std::string target = "/v1/practices/" + path_part(ctx.session.tokens.practice_id) + "/clients" +
                             query(ctx, {{"query", "q"}, {"limit", "limit"}, {"cursor", "cursor"}});
  return get(ctx, target, [](std::ostream& out, const json::value& r) {
    print_rows(out, sub(r, "clients"), "no matching clients",
               Table({{"ID", 34}, {"STATE", 12}, {"EMAIL", 32}, {"NAME", 0}}),
               [](const json::value& u) -> std::vector<std::string> {
                 return {str(u, "id"), int64_of(u, "deactivated_unix_ms") == 0 ? "active" : "deactivated",
                         str(u, "email"), str(u, "display_name")};
               });
    if (!str(r, "next_cursor").empty()) out << "more: --cursor " << str(r, "next_cursor") << "\n";
  });
}

Outcome calendar_feed_rotate(Context& ctx) {
  json::value body = json::object{};
  if (auto t = option_or(ctx, "therapist"); !t.empty()) body.as_object()["therapist_id"] = t;
  return call(ctx, "POST", "/v1/calendar-feed/rotate", &body, [](std::ostream& out, const json::value& r) {
    out << "new calendar feed for therapist " << str(r, "therapist_id")
        << " (every older URL stopped working; shown once, keep it private):\n"
        << str(r, "path") << "\n";
  });
}

std::string rooms_text(const json::value& list) {
  std::string out;
  if (list.is_array())
    for (const auto& r : list.as_array()) out += (out.empty() ? "" : ", ") + terminal_safe(std::string(r.as_string()), "");
  return out;
}

void print_location(std::ostream& out, std::string_view verb, const json::value& l) {
  out << verb << " location " << str(l, "id") << ": " << terminal_safe(str(l, "name"), "") << "\n  address: "
      << terminal_safe(str(l, "address"), "") << "\n  rooms: " << rooms_text(sub(l, "rooms")) << "\n";
  if (const auto& retired = sub(l, "retired_rooms"); retired.is_array() && !retired.as_array().empty())
    out << "  retired rooms: " << rooms_text(retired) << "\n";
}

Outcome locations(Context& ctx) {
  return get(ctx, "/v1/locations", [](std::ostream& out, const json::value& r) {
    print_rows(out, sub(r, "locations"), "no locations",
               Table({{"ID", 34}, {"NAME", 24}, {"ROOMS", 30}, {"RETIRED ROOMS", 20}, {"ADDRESS", 0}}),
               [](const json::value& l) -> std::vector<std::string> {
                 return {str(l, "id"), str(l, "name"), rooms_text(sub(l, "rooms")), rooms_text(sub(l, "retired_rooms")),
                         str(l, "address")};
               });
  });
}

json::array list_of(const Context& ctx, const std::string& name) {
  json::array out;
  if (auto it = ctx.inv.lists.find(name); it != ctx.inv.lists.end())
    for (const auto& v : it->second) out.emplace_back(v);
  return out;
}

Outcome locations_add(Context& ctx) {
  json::value body = {{"name", option(ctx, "name")}, {"address", option(ctx, "address")}, {"rooms", list_of(ctx, "room")}};
  return call(ctx, "POST", "/v1/locations", &body,
              [](std::ostream& out, const json::value& r) { print_location(out, "added", sub(r, "location")); });
}

Outcome locations_edit(Context& ctx) {
  json::object body;
  if (auto v = ctx.inv.options.find("name"); v != ctx.inv.options.end()) body["name"] = v->second;
  if (auto v = ctx.inv.options.find("address"); v != ctx.inv.options.end()) body["address"] = v->second;
  body["add_rooms"] = list_of(ctx, "add-room");
  body["retire_rooms"] = list_of(ctx, "retire-room");
  json::value b = std::move(body);
  return call(ctx, "PATCH", "/v1/locations/" + path_part(option(ctx, "id")), &b,
              [](std::ostream& out, const json::value& r) { print_location(out, "changed", sub(r, "location")); });
}

// "none" clears a practice setting.
std::string setting_value(const Context& ctx, const std::string& name) {
  const auto& v = option(ctx, name);
  return v == "none" ? std::string() : v;
}

Outcome practice_set_time_zone(Context& ctx) {
  json::value body = {{"time_zone", setting_value(ctx, "zone")}};
  return call(ctx, "PUT", "/v1/practice/policy", &body, [](std::ostream& out, const json::value& r) {
    const auto zone = str(sub(r, "practice"), "time_zone");
    out << "practice time zone: " << (zone.empty() ? "not set" : zone) << "\n";
  });
}

Outcome practice_video_link(Context& ctx) {
  const Printer print = [](std::ostream& out, const json::value& r) {
    const auto link = str(r, "video_link");
    out << "practice video link: " << (link.empty() ? "not set" : terminal_safe(link, "")) << "\n";
  };
  if (ctx.inv.options.count("set") == 0) return get(ctx, "/v1/practice/video-link", print);
  json::value body = {{"video_link", setting_value(ctx, "set")}};
  return call(ctx, "PUT", "/v1/practice/video-link", &body, print);
}

Command scheduling_command(std::string_view name) {
  static const std::pair<std::string_view, Command> kCommands[] = {
      {"types", types},           {"availability", availability}, {"blocks list", blocks_list},
      {"blocks add", blocks_add}, {"blocks delete", blocks_delete}, {"slots", slots},
      {"book", book},             {"reschedule", reschedule},     {"cancel", cancel},
      {"confirm", confirm},       {"no-show", no_show},           {"appointments", appointments},
      {"series", series},         {"waitlist", waitlist},         {"clients search", clients_search},
      {"calendar-feed rotate", calendar_feed_rotate},
      {"locations list", locations},   {"locations add", locations_add}, {"locations edit", locations_edit},
      {"practice set-time-zone", practice_set_time_zone}, {"practice video-link", practice_video_link},
  };
  for (const auto& [n, command] : kCommands)
    if (n == name) return command;
  return nullptr;
}

}  // namespace alliance::ctl
