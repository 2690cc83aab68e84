// alliancectl's reminder commands without a server: their command lines, the
// policy they would send, what they print, and how `watch` shows and acknowledges
// reminder pushes. Also the one table printer every list uses.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <sstream>

#include "cli.hpp"
#include "commands.hpp"
#include "process.hpp"
#include "reminders_commands.hpp"
#include "session.hpp"
#include "table.hpp"

namespace alliance::ctl {
namespace {

using Args = std::vector<std::string>;

const EnvLookup kHomeOnly = [](const std::string& k) -> std::optional<std::string> {
  if (k == "HOME") return std::string("/home/ada");
  return std::nullopt;
};

TEST(ReminderArgs, CommandsAndTheirArguments) {
  auto list = parse_args(Args{"reminders", "list"}, kHomeOnly);
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(list->command, "reminders list");
  EXPECT_TRUE(list->args.empty());

  auto of_appointment = parse_args(Args{"reminders", "list", "--appointment", "apt-1"}, kHomeOnly);
  ASSERT_TRUE(of_appointment) << of_appointment.error().message;
  EXPECT_EQ(of_appointment->options.at("appointment"), "apt-1");

  auto ack = parse_args(Args{"reminders", "--json", "ack", "rem-1"}, kHomeOnly);
  ASSERT_TRUE(ack) << ack.error().message;
  EXPECT_EQ(ack->command, "reminders ack");
  EXPECT_EQ(ack->args, Args{"rem-1"});
  EXPECT_TRUE(ack->json);

  auto set = parse_args(Args{"reminders", "policy", "set", "--offsets", "1440,120", "--type", "intake=2880,60",
                             "--type=short=30", "--quiet", "21:00-08:00", "--show-therapist", "yes"},
                        kHomeOnly);
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->command, "reminders policy set");
  EXPECT_EQ(set->options.at("offsets"), "1440,120");
  EXPECT_EQ(set->lists.at("type"), (Args{"intake=2880,60", "short=30"}));
  EXPECT_EQ(set->options.at("quiet"), "21:00-08:00");

  auto show = parse_args(Args{"reminders", "policy", "show"}, kHomeOnly);
  ASSERT_TRUE(show) << show.error().message;

  auto pref = parse_args(Args{"reminders", "preference"}, kHomeOnly);
  ASSERT_TRUE(pref) << pref.error().message;
  EXPECT_TRUE(pref->args.empty()) << "without on|off it shows the preference";
  auto off = parse_args(Args{"reminders", "preference", "off"}, kHomeOnly);
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_EQ(off->args, Args{"off"});

  auto zone = parse_args(Args{"user", "set-time-zone", "--user", "u-7", "America/Argentina/Buenos_Aires"}, kHomeOnly);
  ASSERT_TRUE(zone) << zone.error().message;
  EXPECT_EQ(zone->command, "user set-time-zone");
  EXPECT_EQ(zone->options.at("user"), "u-7");
  EXPECT_EQ(zone->args, Args{"America/Argentina/Buenos_Aires"});
  auto mine = parse_args(Args{"user", "set-time-zone", "Etc/GMT+5"}, kHomeOnly);
  ASSERT_TRUE(mine) << mine.error().message;
  EXPECT_EQ(mine->options.count("user"), 0u);
}

// Each bad reminders command line is refused naming the option (or argument) at fault.
TEST(ReminderArgs, UsageErrorsNameTheFlag) {
  struct Case {
    Args args;
    std::string field;
    std::string message;  // the whole message
  };
  const Args set = {"reminders", "policy", "set"};
  auto with = [&](Args more) {
    Args all = set;
    all.insert(all.end(), more.begin(), more.end());
    return all;
  };
  const std::vector<Case> cases = {
      {with({"--offsets", "0"}), "offsets", "--offsets: 0 is not between 5 and 20160"},
      {with({"--offsets", "1440,20161"}), "offsets", "--offsets: 20161 is not between 5 and 20160"},
      {with({"--offsets", "-30"}), "offsets", "--offsets: -30 is not between 5 and 20160"},
      {with({"--offsets", "99999999999999"}), "offsets", "--offsets: 99999999999999 is not between 5 and 20160"},
      {with({"--offsets", "1d"}), "offsets", "--offsets: '1d' is not a whole number of minutes"},
      {with({"--offsets", "1440,,120"}), "offsets", "--offsets: expected minutes before the start such as 1440,120"},
      {with({"--offsets", "120,60,120"}), "offsets", "--offsets: 120 is given twice"},
      {with({"--offsets", "10,20,30,40,50,60"}), "offsets", "--offsets: at most 5 offsets, not 6"},
      {with({"--quiet", "none"}), "offsets", "--offsets is required for 'reminders policy set'"},
      {with({"--offsets", "60", "--type", "intake"}), "type",
       "--type: expected TYPE_ID=MINUTES,... such as t1=60,30, not 'intake'"},
      {with({"--offsets", "60", "--type", "=60"}), "type",
       "--type: expected TYPE_ID=MINUTES,... such as t1=60,30, not '=60'"},
      {with({"--offsets", "60", "--type", "intake=4"}), "type", "--type intake: 4 is not between 5 and 20160"},
      {with({"--offsets", "60", "--type", "a=60", "--type", "a=30"}), "type", "--type: a is given twice"},
      {with({"--offsets", "60", "--type", "none", "--type", "a=30"}), "type",
       "--type none clears the overrides: give it alone"},
      {with({"--offsets", "60", "--quiet", "21:00"}), "quiet",
       "--quiet: expected HH:MM-HH:MM such as 21:00-08:00, or none, not '21:00'"},
      {with({"--offsets", "60", "--quiet", "21:00-24:00"}), "quiet",
       "--quiet: expected HH:MM-HH:MM such as 21:00-08:00, or none, not '21:00-24:00'"},
      {with({"--offsets", "60", "--quiet", "08:00-08:00"}), "quiet",
       "--quiet: start and end must differ (none for no quiet hours)"},
      {with({"--offsets", "60", "--show-therapist", "true"}), "show-therapist",
       "--show-therapist takes yes or no, not 'true'"},
      {with({"--offsets", "60", "--offsets", "30"}), "offsets", "--offsets given twice"},
      {{"reminders"}, "command", "'reminders' needs a subcommand"},
      {{"reminders", "policy"}, "command", "'reminders policy' needs a subcommand"},
      {{"reminders", "snooze"}, "command", "unknown command 'reminders snooze'"},
      {{"reminders", "ack"}, "id", "'reminders ack' needs ID"},
      {{"reminders", "ack", ""}, "id", "ID must not be empty"},
      {{"reminders", "ack", "r1", "r2"}, "command", "unexpected argument 'r2'"},
      {{"reminders", "ack", "--id", "r1"}, "id", "unknown option --id for 'reminders ack'"},
      {{"reminders", "list", "extra"}, "command", "unexpected argument 'extra'"},
      {{"reminders", "preference", "yes"}, "setting", "'reminders preference' takes on or off, not 'yes'"},
      {{"user", "set-time-zone"}, "zone", "'user set-time-zone' needs ZONE"},
      {{"user", "set-time-zone", "Europe/Berlin;rm"},
       "zone",
       "'Europe/Berlin;rm' is not a time-zone name such as Europe/Berlin or America/New_York"},
      {{"user", "set-time-zone", "--user", "u1"}, "zone", "'user set-time-zone' needs ZONE"},
  };
  for (const auto& c : cases) {
    auto inv = parse_args(c.args, kHomeOnly);
    std::string line;
    for (const auto& a : c.args) line += a + " ";
    ASSERT_FALSE(inv) << "accepted: " << line;
    EXPECT_EQ(inv.error().code, Code::kInvalidArgument) << line;
    EXPECT_EQ(inv.error().field, c.field) << line;
    EXPECT_EQ(inv.error().message, c.message) << line;
  }
}

TEST(ReminderArgs, OffsetsTypesAndQuietHoursParse) {
  EXPECT_EQ(*parse_offsets("1440,120"), (std::vector<int>{1440, 120}));
  EXPECT_EQ(*parse_offsets(" 5 , 20160 "), (std::vector<int>{5, 20160})) << "the bounds are allowed";
  EXPECT_EQ(parse_offsets("10,20,30,40,50")->size(), 5u);
  auto t = parse_type_offsets("intake=2880,60");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->type_id, "intake");
  EXPECT_EQ(t->offsets, (std::vector<int>{2880, 60}));
  EXPECT_EQ(parse_type_offsets("intake=").error().message,
            "--type intake: expected minutes before the start such as 1440,120");
  auto q = parse_quiet("22:30-06:45");
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->start, "22:30");
  EXPECT_EQ(q->end, "06:45");
  auto none = parse_quiet("none");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->start, "");
  EXPECT_EQ(none->end, "");
}

TEST(ReminderPolicySet, OptionsLeftOutKeepTheCurrentPolicy) {
  client::ReminderPolicy current;
  current.practice_id = "p1";
  current.offsets_minutes = {1440, 120};
  current.type_overrides = {{"intake", {2880}}};
  current.quiet_start = "21:00";
  current.quiet_end = "08:00";
  current.show_therapist_name = true;

  auto only_offsets = parse_args(Args{"reminders", "policy", "set", "--offsets", "60,30"}, kHomeOnly);
  ASSERT_TRUE(only_offsets);
  EXPECT_TRUE(policy_set_needs_current(*only_offsets));
  auto p = policy_from_options(*only_offsets, current);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->offsets_minutes, (std::vector<int>{60, 30}));
  ASSERT_EQ(p->type_overrides.size(), 1u);
  EXPECT_EQ(p->type_overrides[0].type_id, "intake");
  EXPECT_EQ(p->quiet_start, "21:00");
  EXPECT_EQ(p->quiet_end, "08:00");
  EXPECT_TRUE(p->show_therapist_name);

  auto everything = parse_args(Args{"reminders", "policy", "set", "--offsets", "120", "--type", "none", "--quiet",
                                    "none", "--show-therapist", "no"},
                               kHomeOnly);
  ASSERT_TRUE(everything) << everything.error().message;
  EXPECT_FALSE(policy_set_needs_current(*everything)) << "nothing to keep: no need to ask the server";
  auto q = policy_from_options(*everything, current);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->offsets_minutes, std::vector<int>{120});
  EXPECT_TRUE(q->type_overrides.empty()) << "--type none clears the overrides";
  EXPECT_EQ(q->quiet_start, "");
  EXPECT_EQ(q->quiet_end, "");
  EXPECT_FALSE(q->show_therapist_name);

  auto types = parse_args(Args{"reminders", "policy", "set", "--offsets", "120", "--type", "a=60", "--type", "b=30,10"},
                          kHomeOnly);
  ASSERT_TRUE(types);
  auto r = policy_from_options(*types, current);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->type_overrides.size(), 2u) << "--type replaces the overrides";
  EXPECT_EQ(r->type_overrides[0].type_id, "a");
  EXPECT_EQ(r->type_overrides[1].offsets_minutes, (std::vector<int>{30, 10}));
}

client::ReminderDue due() {
  client::ReminderDue r;
  r.reminder_id = "rem-1";
  r.appointment_id = "apt-9";
  r.start_time = "2026-12-07T14:00:00Z";
  r.local_start = "2026-12-07T09:00";
  r.utc_offset_minutes = -300;
  r.time_zone = "America/New_York";
  r.actions = {"confirm", "cancel"};
  r.cancel_until = "2026-12-06T14:00:00Z";
  r.text = "Riverside Therapy: reminder of your appointment on Monday 7 December 2026 at 09:00.";
  return r;
}

TEST(ReminderOutput, TimesAndOffsetsReadShort) {
  EXPECT_EQ(format_instant("2026-12-07T14:00:00Z"), "2026-12-07 14:00Z");
  EXPECT_EQ(format_instant("2026-12-07T14:00:00.123Z"), "2026-12-07 14:00Z");
  EXPECT_EQ(format_instant("2026-12-07T14:00:00+01:00"), "2026-12-07T14:00:00+01:00") << "shown whole";
  EXPECT_EQ(format_instant(""), "");
  EXPECT_EQ(format_offset(5), "5m");
  EXPECT_EQ(format_offset(60), "1h");
  EXPECT_EQ(format_offset(90), "1h30m");
  EXPECT_EQ(format_offset(1440), "24h");
  EXPECT_EQ(format_offset(2880), "2d");
  EXPECT_EQ(format_offset(20160), "14d");
  EXPECT_EQ(format_utc_offset(-300), "UTC-05:00");
  EXPECT_EQ(format_utc_offset(330), "UTC+05:30");
  EXPECT_EQ(format_utc_offset(-570), "UTC-09:30");
  EXPECT_EQ(format_utc_offset(0), "UTC");
}

TEST(ReminderOutput, APushedReminderShowsItsTextLocalTimeAndActions) {
  EXPECT_EQ(reminder_due_text(due()),
            "reminder rem-1: 2026-12-07 09:00 America/New_York (UTC-05:00); actions: confirm, cancel "
            "(cancel until 2026-12-06 14:00Z)\n"
            "  Riverside Therapy: reminder of your appointment on Monday 7 December 2026 at 09:00.\n");
  auto late = due();
  late.actions.clear();
  late.time_zone.clear();
  late.utc_offset_minutes = 0;
  late.local_start = "2026-12-07T14:00:00";
  late.text = "Line one\nLine two \x1b[31mred";
  EXPECT_EQ(reminder_due_text(late),
            "reminder rem-1: 2026-12-07 14:00 (UTC); no actions\n"
            "  Line one\n  Line two \\x1b[31mred\n")
      << "the server's text cannot drive the terminal";
}

TEST(ReminderOutput, PendingRemindersAreATable) {
  std::ostringstream none;
  print_pending_reminders(none, {});
  EXPECT_EQ(none.str(), "no pending reminders\n");

  auto confirmed = due();
  confirmed.reminder_id = "rem-2";
  confirmed.confirmed = true;
  confirmed.actions = {};
  confirmed.text = "Confirmed.";
  std::ostringstream out;
  print_pending_reminders(out, {due(), confirmed});
  EXPECT_EQ(out.str(),
            "ID                                STARTS                      CONFIRMED  ACTIONS         TEXT\n"
            "rem-1                             2026-12-07 09:00 UTC-05:00  no         confirm,cancel  "
            "Riverside Therapy: reminder of your appointment on Monday 7 December 2026 at 09:00.\n"
            "rem-2                             2026-12-07 09:00 UTC-05:00  yes        -               Confirmed.\n");
}

TEST(ReminderOutput, AnAppointmentsRemindersShowStatesAndTimes) {
  client::Reminder sent;
  sent.id = "r-24h";
  sent.appointment_start_time = "2026-12-07T14:00:00Z";
  sent.offset_minutes = 1440;
  sent.planned_at = "2026-12-06T14:00:00Z";
  sent.due_at = "2026-12-06T14:00:00Z";
  sent.state = "acknowledged";
  sent.sent_at = "2026-12-06T14:00:01Z";
  sent.acknowledged_at = "2026-12-06T14:05:00Z";
  sent.deliveries = 2;
  client::Reminder moved;
  moved.id = "r-90m";
  moved.offset_minutes = 90;
  moved.planned_at = "2026-12-07T02:30:00Z";
  moved.due_at = "2026-12-07T13:00:00Z";
  moved.moved_for_quiet_hours = true;
  moved.state = "planned";
  client::Reminder cancelled;
  cancelled.id = "r-old";
  cancelled.offset_minutes = 120;
  cancelled.due_at = "2026-12-07T12:00:00Z";
  cancelled.state = "cancelled";
  cancelled.cancelled_at = "2026-12-01T09:00:00Z";
  cancelled.cancel_reason = "rescheduled";

  std::ostringstream out;
  print_appointment_reminders(out, "apt-9", {sent, moved, cancelled});
  EXPECT_EQ(out.str(),
            "appointment apt-9 starts 2026-12-07 14:00Z\n"
            "ID                                BEFORE  DUE                STATE         SINCE              PUSHES  "
            "NOTE\n"
            "r-24h                             24h     2026-12-06 14:00Z  acknowledged  2026-12-06 14:05Z  2       \n"
            "r-90m                             1h30m   2026-12-07 13:00Z  planned                          0       "
            "moved out of quiet hours (planned 2026-12-07 02:30Z)\n"
            "r-old                             2h      2026-12-07 12:00Z  cancelled     2026-12-01 09:00Z  0       "
            "reason: rescheduled\n");

  std::ostringstream empty;
  print_appointment_reminders(empty, "apt-9", {});
  EXPECT_EQ(empty.str(), "no reminders for appointment apt-9\n");
}

TEST(ReminderOutput, PolicyAndPreference) {
  client::ReminderPolicy defaults;
  defaults.offsets_minutes = {1440, 120};
  defaults.quiet_start = "21:00";
  defaults.quiet_end = "08:00";
  std::ostringstream out;
  print_reminder_policy(out, defaults);
  EXPECT_EQ(out.str(),
            "reminders 24h (1440 min), 2h (120 min) before the start\n"
            "quiet hours: 21:00-08:00 on each client's clock (reminders move out of them)\n"
            "therapist named in reminders: no\n"
            "no admin has set a policy: these are the defaults\n");

  client::ReminderPolicy set = defaults;
  set.offsets_minutes = {60};
  set.type_overrides = {{"intake", {2880, 30}}};
  set.quiet_start = set.quiet_end = "";
  set.show_therapist_name = true;
  set.updated_by = "u-admin";
  set.updated_unix_ms = 1'764'900'000'000;  // 2025-12-05 02:00Z
  std::ostringstream out2;
  print_reminder_policy(out2, set);
  EXPECT_EQ(out2.str(),
            "reminders 1h (60 min) before the start\n"
            "appointment type intake: 2d (2880 min), 30m (30 min) before the start\n"
            "quiet hours: none\n"
            "therapist named in reminders: yes\n"
            "set by u-admin at 2025-12-05 02:00Z\n");

  std::ostringstream on, off;
  print_reminder_preference(on, client::ReminderPreference{true, 0});
  print_reminder_preference(off, client::ReminderPreference{false, 1'764'900'000'000});
  EXPECT_EQ(on.str(), "your reminders are on\n");
  EXPECT_EQ(off.str(), "your reminders are off: nothing more is pushed to you (since 2025-12-05 02:00Z)\n");
}

std::string frame(const std::string& id, const std::string& text = "See you Monday") {
  return R"({"id":")" + id +
         R"(","type":"reminder.due","sent_unix_ms":"1764900000000","body":{"@type":)"
         R"("type.googleapis.com/alliance.reminders.v1.ReminderDue","reminder_id":")" +
         id +
         R"(","appointment_id":"apt-9","start_time":"2026-12-07T14:00:00Z","local_start":"2026-12-07T09:00",)"
         R"("utc_offset_minutes":-300,"time_zone":"America/New_York","actions":["confirm"],"text":")" +
         text + R"("}})";
}

TEST(WatchReminders, EachReminderIsShownOnceAndEveryCopyAcknowledged) {
  std::ostringstream out, err;
  ReminderWatch watch(out, err, false);
  const std::string shown =
      "reminder rem-1: 2026-12-07 09:00 America/New_York (UTC-05:00); actions: confirm\n"
      "  See you Monday\n";
  auto first = watch.handle(frame("rem-1"));
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->shown);
  EXPECT_EQ(first->reply, R"({"type":"ack","id":"rem-1"})");
  EXPECT_EQ(out.str(), shown);

  // Pushed again (a new connection before the ack was recorded, or a fail-over).
  auto again = watch.handle(frame("rem-1"));
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->shown);
  EXPECT_EQ(again->reply, R"({"type":"ack","id":"rem-1"})") << "acknowledged again: harmless, and stops the pushes";
  EXPECT_EQ(out.str(), shown) << "shown once";

  auto ok = watch.handle(R"({"type":"ack.ok","id":"rem-1"})");
  ASSERT_TRUE(ok);
  EXPECT_FALSE(ok->shown);
  EXPECT_TRUE(ok->reply.empty());
  EXPECT_EQ(err.str(), "acknowledged reminder rem-1\n");

  auto refused =
      watch.handle(R"({"type":"ack.error","id":"rem-7","error":{"code":"not_found","message":"no such reminder"}})");
  ASSERT_TRUE(refused);
  EXPECT_TRUE(refused->reply.empty());
  EXPECT_NE(err.str().find("error: reminder rem-7 was not acknowledged: no such reminder\n"), std::string::npos)
      << err.str();

  EXPECT_FALSE(watch.handle(R"({"id":"p","type":"message.new","body":{"conversation_id":"c","seq":"1"}})"))
      << "not a reminder: watch prints it as before";
  EXPECT_FALSE(watch.handle("not json"));
}

TEST(WatchReminders, AfterTheCountOnlyAckAnswersAreTakenAndReported) {
  // watch --count N waits for the answers to its acks; what else arrives then is
  // neither shown nor acknowledged (it is pushed again on the next connection).
  std::ostringstream out, err;
  ReminderWatch watch(out, err, false);
  EXPECT_FALSE(watch.handle_answer(frame("rem-2")));
  EXPECT_FALSE(watch.handle_answer(R"({"id":"p","type":"message.new","body":{}})"));
  EXPECT_FALSE(watch.handle_answer("not json"));
  EXPECT_TRUE(out.str().empty()) << out.str();
  auto refused =
      watch.handle_answer(R"({"type":"ack.error","id":"rem-1","error":{"code":"unavailable","message":"try later"}})");
  ASSERT_TRUE(refused);
  EXPECT_TRUE(refused->answer);
  EXPECT_FALSE(refused->shown);
  EXPECT_EQ(err.str(), "error: reminder rem-1 was not acknowledged: try later\n");
  auto ok = watch.handle_answer(R"({"type":"ack.ok","id":"rem-1"})");
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->answer);
  EXPECT_NE(err.str().find("acknowledged reminder rem-1\n"), std::string::npos) << err.str();
  EXPECT_FALSE(watch.handle(frame("rem-3"))->answer) << "a reminder is not an answer";
}

TEST(WatchReminders, WithJsonTheFrameIsPrintedOnceAsItCame) {
  std::ostringstream out, err;
  ReminderWatch watch(out, err, true);
  ASSERT_TRUE(watch.handle(frame("rem-1")));
  ASSERT_TRUE(watch.handle(frame("rem-1")));
  auto ok = watch.handle(R"({"type":"ack.ok","id":"rem-1"})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(out.str(), frame("rem-1") + "\n");
  EXPECT_TRUE(err.str().empty()) << err.str();
}

TEST(WatchReminders, AMalformedReminderIsReportedAndNotAcknowledged) {
  std::ostringstream out, err;
  ReminderWatch watch(out, err, false);
  std::string bad = frame("rem-1");
  bad.replace(bad.find(R"("local_start":"2026-12-07T09:00")"), 32, R"("local_start":"Monday 9am")");
  auto handled = watch.handle(bad);
  ASSERT_TRUE(handled);
  EXPECT_TRUE(handled->shown);
  EXPECT_TRUE(handled->reply.empty()) << "what could not be shown is not acknowledged";
  EXPECT_EQ(out.str(), bad + "\n");
  EXPECT_EQ(err.str(),
            "error: a reminder that cannot be read: local_start: expected YYYY-MM-DDTHH:MM such as 2026-12-07T09:00 "
            "(field: local_start)\n");
}

TEST(Table, PadsColumnsKeepsThemApartAndEscapesCells) {
  Table table({{"ID", 6}, {"NAME", 8}, {"NOTE", 0}});
  EXPECT_TRUE(table.empty());
  table.add({"a1", "Zo\xc3\xab", "fine"});
  table.add({"longer-id", "x", "two\nlines \x1b[2J"});
  table.add({"b"});
  std::ostringstream out;
  table.print(out);
  EXPECT_EQ(out.str(),
            "ID    NAME    NOTE\n"
            "a1    Zo\xc3\xab     fine\n"
            "longer-id x       two\\nlines \\x1b[2J\n"
            "b             \n");
}

class ReminderCommands : public ::testing::Test {
 protected:
  alliance::testing::TempDir dir_;
  std::string session() const { return (dir_.path() / "session.json").string(); }
};

TEST_F(ReminderCommands, NeedALoginFirst) {
  for (const Args& a : {Args{"reminders", "list"}, Args{"reminders", "ack", "r1"}, Args{"reminders", "policy", "show"},
                        Args{"reminders", "preference", "off"}, Args{"user", "set-time-zone", "Europe/Berlin"}}) {
    Args all = {"--session", session(), "--gateway", "https://127.0.0.1:1"};
    all.insert(all.end(), a.begin(), a.end());
    auto inv = parse_args(all, kHomeOnly);
    ASSERT_TRUE(inv) << inv.error().message;
    std::ostringstream out, err;
    EXPECT_EQ(run(*inv, out, err), 1) << a[1];
    EXPECT_EQ(err.str(), "error: not logged in: run 'alliancectl login' first\n");
    EXPECT_TRUE(out.str().empty());
  }
}

TEST_F(ReminderCommands, AnUnreachableGatewayIsReportedNotCrashed) {
  Session s;
  s.gateway = "https://127.0.0.1:1";
  s.tokens = client::Tokens{"access", "refresh", 900, "u1", "p1", "client"};
  ASSERT_TRUE(save_session(session(), s));
  auto inv = parse_args(Args{"--session", session(), "reminders", "ack", "rem-1"}, kHomeOnly);
  ASSERT_TRUE(inv);
  std::ostringstream out, err;
  EXPECT_EQ(run(*inv, out, err), 1);
  EXPECT_EQ(err.str().rfind("error: ", 0), 0u) << err.str();
  EXPECT_TRUE(out.str().empty());
}

TEST(ReminderHelp, UsageListsTheNewCommands) {
  std::string text = usage();
  for (const char* line :
       {"reminders list [--appointment ID]", "reminders ack ID", "reminders policy show",
        "reminders policy set --offsets MIN,... [--type TYPE_ID=MIN,... ...] [--quiet HH:MM-HH:MM|none]",
        "[--show-therapist yes|no]", "reminders preference [on|off]", "user set-time-zone [--user USER_ID] ZONE",
        "each reminder is shown once and acknowledged"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace alliance::ctl
