// The reminders JSON the gateway sends, read into plain structs; the inbox that
// shows each pushed reminder once; the WebSocket ack frame. Hostile input is an
// Error naming the field, never a crash.
#include "alliance/client/reminders.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

namespace alliance::client {
namespace {

namespace json = boost::json;

// A reminder.due frame as the gateway forwards it (protobuf's JSON mapping: int64
// as a string, the Any's "@type" first).
constexpr std::string_view kFullFrame = R"({"id":"rem-1","type":"reminder.due","sent_unix_ms":"1764900000000",
  "body":{"@type":"type.googleapis.com/alliance.reminders.v1.ReminderDue","reminder_id":"rem-1",
  "appointment_id":"apt-9","practice_name":"Riverside Therapy","start_time":"2026-12-07T14:00:00Z",
  "local_start":"2026-12-07T09:00","utc_offset_minutes":-300,"time_zone":"America/New_York",
  "therapist_name":"Dr Kim","confirmed":true,"actions":["cancel"],"cancel_until":"2026-12-06T14:00:00Z",
  "text":"Riverside Therapy: reminder of your appointment on Monday 7 December 2026 at 09:00.",
  "due_at":"2026-12-06T14:00:00Z","offset_minutes":1440,"appointment_version":"3"}})";

json::value body_of(std::string_view frame) { return json::parse(frame).as_object().at("body"); }

// A reminder.due frame for `id` with only the required fields.
std::string frame_for(const std::string& id, const std::string& type = "reminder.due") {
  return R"({"id":")" + id + R"(","type":")" + type + R"(","body":{"reminder_id":")" + id +
         R"(","appointment_id":"a","start_time":"2026-12-07T14:00:00Z","local_start":"2026-12-07T09:00",)"
         R"("text":"see you"}})";
}

TEST(ReminderDue, ReadsEveryFieldOfAPushedFrame) {
  auto frame = push_frame_from_text(kFullFrame);
  ASSERT_TRUE(frame) << frame.error().message;
  auto r = reminder_due_from_push(*frame);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->reminder_id, "rem-1");
  EXPECT_EQ(r->appointment_id, "apt-9");
  EXPECT_EQ(r->practice_name, "Riverside Therapy");
  EXPECT_EQ(r->start_time, "2026-12-07T14:00:00Z");
  EXPECT_EQ(r->local_start, "2026-12-07T09:00");
  EXPECT_EQ(r->utc_offset_minutes, -300);
  EXPECT_EQ(r->time_zone, "America/New_York");
  EXPECT_EQ(r->therapist_name, "Dr Kim");
  EXPECT_TRUE(r->confirmed);
  EXPECT_EQ(r->actions, std::vector<std::string>{"cancel"});
  EXPECT_EQ(r->cancel_until, "2026-12-06T14:00:00Z");
  EXPECT_EQ(r->text, "Riverside Therapy: reminder of your appointment on Monday 7 December 2026 at 09:00.");
  EXPECT_EQ(r->due_at, "2026-12-06T14:00:00Z");
  EXPECT_EQ(r->offset_minutes, 1440);
  EXPECT_EQ(r->appointment_version, 3) << "int64 arrives as a JSON string";
}

TEST(ReminderDue, DefaultsLeftOutAndOtherSpellingsAreRead) {
  // proto3 JSON omits false, 0 and empty fields; a parser may also meet lowerCamelCase
  // names, int32 as strings and int64 as numbers.
  auto r = reminder_due_from_json(json::parse(R"({"reminderId":"r","appointmentId":"a",
    "startTime":"2026-12-07T14:00:00.250Z","localStart":"2026-12-07T09:00:00","utcOffsetMinutes":"330",
    "text":"t","actions":["confirm","cancel","reschedule"],"appointmentVersion":12,"futureField":{"x":1}})"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->utc_offset_minutes, 330);
  EXPECT_EQ(r->appointment_version, 12);
  EXPECT_FALSE(r->confirmed);
  EXPECT_EQ(r->therapist_name, "");
  EXPECT_EQ(r->offset_minutes, 0);
  EXPECT_EQ(r->actions, (std::vector<std::string>{"confirm", "cancel", "reschedule"})) << "unknown actions kept";
}

TEST(ReminderDue, RoundTripsThroughItsJson) {
  auto r = reminder_due_from_json(body_of(kFullFrame));
  ASSERT_TRUE(r);
  json::value back = reminder_due_to_json(*r);
  EXPECT_EQ(back.as_object().at("appointment_version"), "3") << "int64 written as a string";
  EXPECT_EQ(back.as_object().at("utc_offset_minutes"), -300);
  auto again = reminder_due_from_json(back);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(json::serialize(reminder_due_to_json(*again)), json::serialize(back));
}

TEST(ReminderDue, EachMissingRequiredFieldIsNamed) {
  for (const char* field : {"reminder_id", "appointment_id", "start_time", "local_start", "text"}) {
    json::value body = body_of(kFullFrame);
    body.as_object().erase(field);
    auto r = reminder_due_from_json(body);
    ASSERT_FALSE(r) << field;
    EXPECT_EQ(r.error().code, Code::kInvalidArgument) << field;
    EXPECT_EQ(r.error().field, field);
    EXPECT_EQ(r.error().message, std::string(field) + ": missing");
    // An empty string is the same as missing (protobuf leaves "" out).
    body.as_object()[field] = "";
    EXPECT_EQ(reminder_due_from_json(body).error().field, field);
  }
}

TEST(ReminderDue, IllTypedOrMalformedFieldsAreNamed) {
  struct Case {
    std::string field;
    json::value value;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"reminder_id", 42, "expected a string"},
      {"text", json::array{"a"}, "expected a string"},
      {"confirmed", "yes", "expected true or false"},
      {"actions", "confirm", "expected an array"},
      {"actions", json::array{"confirm", 7}, "expected a string"},
      {"utc_offset_minutes", "minus five hours", "expected a whole number"},
      {"utc_offset_minutes", 2.5, "expected a whole number"},
      {"utc_offset_minutes", 5'000'000'000LL, "out of range"},
      {"utc_offset_minutes", 1200, "within -1080 and 1080"},
      {"offset_minutes", -60, "must not be negative"},
      {"appointment_version", "3x", "expected a whole number"},
      {"appointment_version", true, "expected a whole number"},
      {"start_time", "tomorrow at nine", "RFC 3339"},
      {"start_time", "2026-12-07T14:00:00", "RFC 3339"},
      {"due_at", "2026-13-07T14:00:00Z", "RFC 3339"},
      {"cancel_until", "2026-12-07 14:00:00Z", "RFC 3339"},
      {"local_start", "2026-12-07 09:00", "expected YYYY-MM-DDTHH:MM"},
      {"local_start", "2026-12-07T25:00", "expected YYYY-MM-DDTHH:MM"},
      {"@type", "type.googleapis.com/alliance.messaging.v1.Message", "expected type.googleapis.com/"},
      {"@type", 1, "expected a string"},
  };
  for (const auto& c : cases) {
    json::value body = body_of(kFullFrame);
    body.as_object()[c.field] = c.value;
    auto r = reminder_due_from_json(body);
    std::string shown = c.field + "=" + json::serialize(c.value);
    ASSERT_FALSE(r) << "accepted " << shown;
    EXPECT_EQ(r.error().code, Code::kInvalidArgument) << shown;
    EXPECT_EQ(r.error().field.rfind(c.field, 0), 0u) << shown << " -> field " << r.error().field;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << shown << " -> " << r.error().message;
  }
  auto not_object = reminder_due_from_json(json::parse(R"(["reminder"])"));
  ASSERT_FALSE(not_object);
  EXPECT_EQ(not_object.error().field, "body");
}

TEST(ReminderDue, AFrameOfAnotherTypeOrWithoutBodyIsRefused) {
  PushFrame frame;
  frame.id = "r";
  frame.type = "message.new";
  frame.body = body_of(kFullFrame);
  EXPECT_EQ(reminder_due_from_push(frame).error().field, "type");
  frame.type = "reminder.due";
  frame.body = nullptr;
  EXPECT_EQ(reminder_due_from_push(frame).error().message, "body: missing");
}

TEST(ReminderInbox, TheSameReminderPushedTwiceIsShownOnce) {
  std::vector<ReminderDue> shown;
  ReminderInbox inbox([&](const ReminderDue& r) { shown.push_back(r); });
  auto first = inbox.feed(kFullFrame);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->kind, InboxFrame::kNewReminder);
  EXPECT_EQ(first->reminder_id, "rem-1");
  // Pushed again on the next connection, and after a fail-over.
  for (int i = 0; i < 2; ++i) {
    auto again = inbox.feed(kFullFrame);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->kind, InboxFrame::kRepeatedReminder);
    EXPECT_EQ(again->reminder_id, "rem-1") << "so the caller can acknowledge it again";
  }
  ASSERT_EQ(shown.size(), 1u);
  EXPECT_EQ(shown[0].text, "Riverside Therapy: reminder of your appointment on Monday 7 December 2026 at 09:00.");

  ASSERT_TRUE(inbox.feed(frame_for("rem-2")));
  ASSERT_EQ(shown.size(), 2u) << "another id is another reminder";
  EXPECT_EQ(shown[1].reminder_id, "rem-2");
  EXPECT_TRUE(inbox.seen("rem-1"));
  EXPECT_FALSE(inbox.seen("rem-3"));
}

TEST(ReminderInbox, DeDuplicatesByTheBodysReminderId) {
  int calls = 0;
  ReminderInbox inbox([&](const ReminderDue&) { ++calls; });
  // The same reminder under two push ids (a server giving each push its own id) is still one reminder.
  std::string a = frame_for("rem-1");
  std::string b = a;
  b.replace(b.find(R"("id":"rem-1")"), 12, R"("id":"push-2")");
  ASSERT_TRUE(inbox.feed(a));
  ASSERT_TRUE(inbox.feed(b));
  EXPECT_EQ(calls, 1);
}

TEST(ReminderInbox, OtherPushTypesAreIgnored) {
  int calls = 0;
  ReminderInbox inbox([&](const ReminderDue&) { ++calls; });
  for (const std::string& frame :
       {std::string(R"({"id":"p1","type":"message.new","body":{"conversation_id":"c","seq":"1"}})"),
        std::string(R"({"type":"typing","body":{"conversation_id":"c","typing":true}})"),
        std::string(R"({"type":"session.ready"})"), frame_for("rem-1", "reminder.cancelled")}) {
    auto event = inbox.feed(frame);
    ASSERT_TRUE(event) << frame << ": " << event.error().message;
    EXPECT_EQ(event->kind, InboxFrame::kOther) << frame;
  }
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(inbox.size(), 0u);
  EXPECT_FALSE(inbox.seen("rem-1")) << "an id from another frame type is not taken as shown";
}

TEST(ReminderInbox, AMalformedReminderIsAnErrorAndNotRemembered) {
  int calls = 0;
  ReminderInbox inbox([&](const ReminderDue&) { ++calls; });
  std::string bad = frame_for("rem-1");
  bad.replace(bad.find(R"("text":"see you")"), 16, R"("text":7)");
  auto event = inbox.feed(bad);
  ASSERT_FALSE(event);
  EXPECT_EQ(event.error().field, "text");
  EXPECT_EQ(calls, 0);
  // The server's next, well-formed push of it is shown.
  auto good = inbox.feed(frame_for("rem-1"));
  ASSERT_TRUE(good);
  EXPECT_EQ(good->kind, InboxFrame::kNewReminder);
  EXPECT_EQ(calls, 1);
}

TEST(ReminderInbox, EveryTruncationOfAFrameIsAnErrorNotACrash) {
  int calls = 0;
  ReminderInbox inbox([&](const ReminderDue&) { ++calls; });
  for (std::size_t n = 0; n < kFullFrame.size(); ++n) {
    EXPECT_FALSE(inbox.feed(kFullFrame.substr(0, n))) << n;
  }
  EXPECT_EQ(calls, 0);
  for (const char* garbage :
       {"", "null", "[]", "\"reminder.due\"", R"({"type":7})", R"({"id":"x"})", R"({"type":"reminder.due"})",
        R"({"type":"reminder.due","body":"text"})", R"({"type":"reminder.due","body":[]})"}) {
    EXPECT_FALSE(inbox.feed(garbage)) << garbage;
  }
  EXPECT_EQ(calls, 0);
}

TEST(ReminderInbox, RemembersOnlyTheLastCapacityIds) {
  std::vector<std::string> shown;
  ReminderInbox inbox([&](const ReminderDue& r) { shown.push_back(r.reminder_id); }, 3);
  for (const char* id : {"a", "b", "c", "d"}) ASSERT_TRUE(inbox.feed(frame_for(id)));
  EXPECT_EQ(inbox.size(), 3u);
  EXPECT_FALSE(inbox.seen("a")) << "the oldest is forgotten first";
  EXPECT_TRUE(inbox.seen("b"));
  EXPECT_TRUE(inbox.seen("d"));
  ASSERT_TRUE(inbox.feed(frame_for("d")));
  EXPECT_EQ(shown.size(), 4u) << "a recent id is still a repeat";
  ASSERT_TRUE(inbox.feed(frame_for("a")));
  EXPECT_EQ(shown, (std::vector<std::string>{"a", "b", "c", "d", "a"})) << "a forgotten id is shown again";
  EXPECT_FALSE(inbox.seen("b")) << "and pushed the next oldest out";

  ReminderInbox zero(nullptr, 0);
  EXPECT_EQ(zero.capacity(), 1u);
}

TEST(ReminderInbox, TheDefaultBoundIsTenThousandIds) {
  ReminderInbox inbox(nullptr);
  EXPECT_EQ(inbox.capacity(), 10'000u);
  ReminderDue r;
  for (int i = 0; i <= 10'000; ++i) {
    r.reminder_id = "r" + std::to_string(i);
    EXPECT_TRUE(inbox.offer(r));
  }
  EXPECT_EQ(inbox.size(), 10'000u);
  EXPECT_FALSE(inbox.seen("r0"));
  EXPECT_TRUE(inbox.seen("r1"));
  EXPECT_TRUE(inbox.seen("r10000"));
}

TEST(ReminderInbox, AReminderListedFirstIsNotShownAgainWhenPushed) {
  int calls = 0;
  ReminderInbox inbox([&](const ReminderDue&) { ++calls; });
  auto listed = reminder_due_from_json(body_of(kFullFrame));
  ASSERT_TRUE(listed);
  EXPECT_TRUE(inbox.offer(*listed));
  EXPECT_FALSE(inbox.offer(*listed));
  EXPECT_EQ(inbox.feed(kFullFrame)->kind, InboxFrame::kRepeatedReminder);
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(inbox.offer(ReminderDue{})) << "no id: nothing to show once";
}

TEST(ReminderInbox, ReadsTheServersAnswersToAcks) {
  ReminderInbox inbox(nullptr);
  auto ok = inbox.feed(R"({"type":"ack.ok","id":"rem-1"})");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->kind, InboxFrame::kAckOk);
  EXPECT_EQ(ok->reminder_id, "rem-1");
  EXPECT_FALSE(ok->ack_error);

  auto refused = inbox.feed(
      R"({"type":"ack.error","id":"rem-2","error":{"code":"not_found","message":"reminder rem-2 not found"}})");
  ASSERT_TRUE(refused) << refused.error().message;
  EXPECT_EQ(refused->kind, InboxFrame::kAckError);
  EXPECT_EQ(refused->reminder_id, "rem-2");
  ASSERT_TRUE(refused->ack_error);
  EXPECT_EQ(refused->ack_error->code, Code::kNotFound);
  EXPECT_EQ(refused->ack_error->message, "reminder rem-2 not found");

  // An error without details is still a refusal.
  for (const char* frame : {R"({"type":"ack.error","id":"r"})", R"({"type":"ack.error","id":"r","error":"no"})",
                            R"({"type":"ack.error","id":"r","error":{"code":"bogus","message":5}})"}) {
    auto e = inbox.feed(frame);
    ASSERT_TRUE(e) << frame;
    EXPECT_EQ(e->kind, InboxFrame::kAckError) << frame;
    EXPECT_EQ(e->ack_error->code, Code::kInternal) << frame;
    EXPECT_FALSE(e->ack_error->message.empty()) << frame;
  }
  auto no_id = inbox.feed(R"({"type":"ack.ok"})");
  ASSERT_FALSE(no_id);
  EXPECT_EQ(no_id.error().field, "id");
}

TEST(AckFrame, IsTheGatewaysJsonWithTheIdEscaped) {
  EXPECT_EQ(ack_frame("rem-1"), R"({"type":"ack","id":"rem-1"})");
  std::string odd = "a\"b\\c\n";
  json::value v = json::parse(ack_frame(odd));
  EXPECT_EQ(v.as_object().at("type"), "ack");
  EXPECT_EQ(v.as_object().at("id").as_string(), odd);
  EXPECT_EQ(v.as_object().size(), 2u);
}

TEST(Reminder, ReadsAnAppointmentsReminderWithItsState) {
  auto r = reminder_from_json(json::parse(R"({"id":"r1","appointment_id":"a1","client_id":"c1",
    "therapist_id":"t1","appointment_start_time":"2026-12-07T14:00:00Z","offset_minutes":120,
    "planned_at":"2026-12-07T12:00:00Z","due_at":"2026-12-07T12:00:00Z","state":"cancelled",
    "cancelled_at":"2026-12-05T10:00:00Z","cancel_reason":"rescheduled","deliveries":2,
    "moved_for_quiet_hours":true,"appointment_version":"4","sent_at":"s","acknowledged_at":"k","expired_at":"e"})"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->id, "r1");
  EXPECT_EQ(r->appointment_id, "a1");
  EXPECT_EQ(r->client_id, "c1");
  EXPECT_EQ(r->therapist_id, "t1");
  EXPECT_EQ(r->appointment_start_time, "2026-12-07T14:00:00Z");
  EXPECT_EQ(r->offset_minutes, 120);
  EXPECT_EQ(r->planned_at, "2026-12-07T12:00:00Z");
  EXPECT_EQ(r->due_at, "2026-12-07T12:00:00Z");
  EXPECT_TRUE(r->moved_for_quiet_hours);
  EXPECT_EQ(r->state, "cancelled");
  EXPECT_EQ(r->sent_at, "s");
  EXPECT_EQ(r->acknowledged_at, "k");
  EXPECT_EQ(r->cancelled_at, "2026-12-05T10:00:00Z");
  EXPECT_EQ(r->expired_at, "e");
  EXPECT_EQ(r->cancel_reason, "rescheduled");
  EXPECT_EQ(r->deliveries, 2);
  EXPECT_EQ(r->appointment_version, 4);
  auto back = reminder_from_json(reminder_to_json(*r));
  ASSERT_TRUE(back);
  EXPECT_EQ(json::serialize(reminder_to_json(*back)), json::serialize(reminder_to_json(*r)));

  EXPECT_EQ(reminder_from_json(json::parse(R"({"state":"sent"})")).error().field, "id");
  EXPECT_EQ(reminder_from_json(json::parse(R"({"id":"r","deliveries":"many"})")).error().field, "deliveries");
}

TEST(ReminderPolicy, ReadsOffsetsOverridesAndQuietHoursAndNamesBadElements) {
  auto p = reminder_policy_from_json(json::parse(R"({"practice_id":"p1","offsets_minutes":[1440,120],
    "type_overrides":[{"type_id":"intake","offsets_minutes":[2880]},{"type_id":"short"}],
    "quiet_start":"21:00","quiet_end":"08:00","show_therapist_name":true,"updated_by":"u1",
    "updated_unix_ms":"1764900000000"})"));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->practice_id, "p1");
  EXPECT_EQ(p->offsets_minutes, (std::vector<int>{1440, 120}));
  ASSERT_EQ(p->type_overrides.size(), 2u);
  EXPECT_EQ(p->type_overrides[0].type_id, "intake");
  EXPECT_EQ(p->type_overrides[0].offsets_minutes, std::vector<int>{2880});
  EXPECT_TRUE(p->type_overrides[1].offsets_minutes.empty());
  EXPECT_EQ(p->quiet_start, "21:00");
  EXPECT_EQ(p->quiet_end, "08:00");
  EXPECT_TRUE(p->show_therapist_name);
  EXPECT_EQ(p->updated_by, "u1");
  EXPECT_EQ(p->updated_unix_ms, 1764900000000);

  struct Case {
    std::string json, field;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"offsets_minutes":[1440,"soon"]})", "offsets_minutes[1]"},
           {R"({"offsets_minutes":1440})", "offsets_minutes"},
           {R"({"type_overrides":{"type_id":"x"}})", "type_overrides"},
           {R"({"type_overrides":[{"type_id":"x"},7]})", "type_overrides[1]"},
           {R"({"type_overrides":[{"type_id":"x","offsets_minutes":[60,null]}]})",
            "type_overrides[0].offsets_minutes[1]"},
           {R"({"type_overrides":[{"type_id":9}]})", "type_overrides[0].type_id"},
           {R"({"show_therapist_name":"yes"})", "show_therapist_name"},
           {R"({"updated_unix_ms":"yesterday"})", "updated_unix_ms"},
       }) {
    auto bad = reminder_policy_from_json(json::parse(c.json));
    ASSERT_FALSE(bad) << c.json;
    EXPECT_EQ(bad.error().field, c.field) << c.json;
    EXPECT_EQ(bad.error().message.rfind(c.field + ": ", 0), 0u) << bad.error().message;
  }
}

TEST(ReminderPolicy, TheRequestCarriesOnlyWhatAnAdminSets) {
  ReminderPolicy p;
  p.practice_id = "p1";
  p.offsets_minutes = {1440, 120};
  p.type_overrides = {{"intake", {2880, 60}}};
  p.quiet_start = "22:00";
  p.quiet_end = "07:30";
  p.show_therapist_name = true;
  p.updated_by = "u1";
  p.updated_unix_ms = 5;
  EXPECT_EQ(json::serialize(reminder_policy_request_json(p)),
            R"({"offsets_minutes":[1440,120],"type_overrides":[{"type_id":"intake","offsets_minutes":[2880,60]}],)"
            R"("quiet_start":"22:00","quiet_end":"07:30","show_therapist_name":true})");
  auto back = reminder_policy_from_json(reminder_policy_to_json(p));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->practice_id, "p1");
  EXPECT_EQ(back->updated_unix_ms, 5);
  EXPECT_EQ(back->type_overrides[0].offsets_minutes, (std::vector<int>{2880, 60}));
}

TEST(ReminderPreference, FalseIsLeftOutOfTheJson) {
  auto off = reminder_preference_from_json(json::parse(R"({"updated_unix_ms":"99"})"));
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->enabled);
  EXPECT_EQ(off->updated_unix_ms, 99);
  auto on = reminder_preference_from_json(json::parse(R"({"enabled":true})"));
  ASSERT_TRUE(on);
  EXPECT_TRUE(on->enabled);
  EXPECT_EQ(reminder_preference_from_json(json::parse(R"({"enabled":"on"})")).error().field, "enabled");
  EXPECT_EQ(reminder_preference_from_json(json::parse("[]")).error().field, "preference");
}

TEST(Reminders, EmptyIdsAreRefusedBeforeAnyRequest) {
  // Nothing listens on port 1: a request would fail as unavailable, not as invalid.
  AllianceClient client(Endpoint{"127.0.0.1", 1, {}});
  Reminders reminders(client);
  EXPECT_EQ(reminders.ack("").error().field, "reminder_id");
  EXPECT_EQ(reminders.of_appointment("").error().field, "appointment_id");
  EXPECT_EQ(reminders.set_time_zone("Europe/Berlin", "").error().field, "user_id");
  EXPECT_EQ(reminders.ack("").error().code, Code::kInvalidArgument);
}

}  // namespace
}  // namespace alliance::client
