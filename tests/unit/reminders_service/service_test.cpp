// RemindersService built directly (no RPC) over a real ReminderStore in a temp dir
// and an in-memory directory standing in for identity. The service reads the
// system clock, so appointments here are placed relative to the real now.
#include "reminder_render.hpp"
#include "reminders_fixture.hpp"
#include "reminders_service.hpp"

namespace alliance::reminders {
namespace {

class RemindersServiceTest : public ReminderStoreTest {
 protected:
  void SetUp() override {
    ReminderStoreTest::SetUp();
    people_.add(kClient, kPractice, "Jo", "Europe/Berlin");
    people_.add(kClient2, kPractice, "Sam");
    people_.add(kTherapist, kPractice, "Dr Kim");
    people_.name_practice(kPractice, "Riverside Therapy");
    service_ = std::make_unique<RemindersService>(*store_, people_, "test-instance",
                                                  RemindersService::Hooks{[this] { ++plans_changed_; }});
    // No quiet hours: the plans do not depend on the hour the test runs at.
    const auto now = now_unix_ms();
    ASSERT_TRUE(run(store_->set_policy(PolicyRow{kPractice, policy({1440, 120}), kAdmin, now}, now)).ok());
    start_ = now + 3 * kDayMs;
    apply_one(appointment("appt-1", 1, "booked", start_), now);
  }
  void TearDown() override {
    io_.poll();
    service_.reset();
    ReminderStoreTest::TearDown();
  }

  // A call as the gateway forwards it.
  static net::CallContext as(const std::string& user, const std::string& role,
                             const std::string& practice = kPractice) {
    net::CallContext ctx;
    ctx.caller.set_user_id(user);
    ctx.caller.set_practice_id(practice);
    ctx.caller.set_role(role);
    ctx.peer_name = "gateway";
    return ctx;
  }

  Result<v1::ListAppointmentRemindersResponse> list(const net::CallContext& who, const std::string& appointment_id) {
    v1::ListAppointmentRemindersRequest req;
    req.set_appointment_id(appointment_id);
    return run(service_->list_for_appointment(req, who));
  }
  Result<v1::AckReminderResponse> ack(const net::CallContext& who, const std::string& reminder_id) {
    v1::AckReminderRequest req;
    req.set_reminder_id(reminder_id);
    return run(service_->ack(req, who));
  }
  Result<v1::ListPendingRemindersResponse> pending(const net::CallContext& who) {
    return run(service_->list_pending(v1::ListPendingRemindersRequest{}, who));
  }
  std::vector<std::string> pending_ids(const net::CallContext& who) {
    auto r = pending(who);
    EXPECT_TRUE(r.ok()) << r.error().message;
    std::vector<std::string> out;
    if (r.ok())
      for (const auto& d : r->reminders()) out.push_back(d.reminder_id());
    return out;
  }
  // Fires the earliest planned reminder of `appointment_id` now (as the dispatcher would); its id.
  std::string send_first(const std::string& appointment_id) {
    const auto now = now_unix_ms();
    auto held = claim(*store_, "test", now, now + 365 * kDayMs);
    std::vector<Claim> mine;
    for (auto& c : held)
      if (c.reminder.appointment_id == appointment_id) {
        mine.push_back(std::move(c));
        break;
      }
    EXPECT_EQ(mine.size(), 1u);
    if (mine.empty()) return {};
    auto fired = fire(*store_, "test", mine, now);
    EXPECT_EQ(fired.at(0).outcome, Fired::Outcome::kSent);
    return mine[0].reminder.id;
  }

  FakePeople people_;
  std::unique_ptr<RemindersService> service_;
  std::int64_t start_ = 0;
  int plans_changed_ = 0;
};

TEST_F(RemindersServiceTest, StaffOfThePracticeTheTherapistAndTheClientSeeTheAppointmentsReminders) {
  for (const auto& who : {as(kDesk, "front_desk"), as(kAdmin, "admin"), as(kTherapist, "therapist"),
                          as(kClient, "client")}) {
    SCOPED_TRACE(who.caller.user_id());
    auto r = list(who, "appt-1");
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->reminders_size(), 2);
    EXPECT_EQ(r->reminders(0).offset_minutes(), 1440);
    EXPECT_EQ(r->reminders(0).state(), "planned");
    EXPECT_EQ(r->reminders(0).appointment_start_time(), format_utc(start_));
    EXPECT_EQ(r->reminders(1).offset_minutes(), 120);
  }
}

TEST_F(RemindersServiceTest, AnyoneElseGetsTheSameNotFoundAsForAMissingAppointment) {
  auto missing = list(as(kAdmin, "admin"), "no-such-appointment");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  EXPECT_EQ(missing.error().field, "appointment_id");
  for (const auto& who : {as(kClient2, "client"), as(kTherapist2, "therapist"), as(kOtherAdmin, "admin", kOtherPractice),
                          as(kOtherDesk, "front_desk", kOtherPractice),
                          // The appointment's own client id, signed in to another practice.
                          as(kClient, "client", kOtherPractice)}) {
    SCOPED_TRACE(who.caller.user_id() + " of " + who.caller.practice_id());
    auto r = list(who, "appt-1");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, missing.error().code);
    EXPECT_EQ(r.error().message, missing.error().message);
    EXPECT_EQ(r.error().field, missing.error().field);
  }
  auto anonymous = list(as("", ""), "appt-1");
  ASSERT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.error().code, Code::kUnauthenticated);
}

TEST_F(RemindersServiceTest, AClientAcknowledgesOnlyTheirOwnSentReminderAndTwiceIsFine) {
  const auto sent = send_first("appt-1");
  ASSERT_FALSE(sent.empty());
  auto foreign = ack(as(kClient2, "client"), sent);
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, Code::kNotFound);
  EXPECT_EQ(foreign.error().field, "reminder_id");
  EXPECT_EQ(pending_ids(as(kClient, "client")), (std::vector<std::string>{sent})) << "another client's ack counted";

  auto first = ack(as(kClient, "client"), sent);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->reminder().state(), "acknowledged");
  EXPECT_FALSE(first->reminder().acknowledged_at().empty());
  auto second = ack(as(kClient, "client"), sent);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->reminder().state(), "acknowledged");
  EXPECT_EQ(second->reminder().acknowledged_at(), first->reminder().acknowledged_at());
  EXPECT_TRUE(pending_ids(as(kClient, "client")).empty());

  // One never sent cannot be acknowledged, and the error says which field.
  auto rows = reminders_of("appt-1");
  auto planned = in_state(rows, "planned");
  ASSERT_EQ(planned.size(), 1u);
  auto early = ack(as(kClient, "client"), planned[0].id);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(early.error().field, "reminder_id");
  EXPECT_NE(early.error().message.find("reminder_id"), std::string::npos) << early.error().message;
  EXPECT_EQ(reminder(planned[0].id).state, "planned");
}

TEST_F(RemindersServiceTest, OnlyAnAdminSetsThePolicyAndBadValuesNameTheField) {
  v1::SetReminderPolicyRequest req;
  req.add_offsets_minutes(1440);
  req.add_offsets_minutes(60);
  for (const auto& who : {as(kDesk, "front_desk"), as(kTherapist, "therapist"), as(kClient, "client")}) {
    auto r = run(service_->set_policy(req, who));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Code::kPermissionDenied);
  }
  EXPECT_EQ(run(store_->policy(kPractice))->policy.offsets_minutes, (std::vector<int>{1440, 120}));
  EXPECT_EQ(plans_changed_, 0);

  struct Case {
    std::vector<int> offsets;
    std::string quiet_start, quiet_end, field;
  };
  const std::vector<Case> bad = {{{}, "", "", "offsets_minutes"},
                                 {{1440, 1}, "", "", "offsets_minutes"},
                                 {{120, 120}, "", "", "offsets_minutes"},
                                 {{120}, "25:00", "08:00", "quiet_start"},
                                 {{120}, "21:00", "", "quiet_end"},
                                 {{120}, "21:00", "21:00", "quiet_end"}};
  for (const auto& c : bad) {
    v1::SetReminderPolicyRequest b;
    for (int o : c.offsets) b.add_offsets_minutes(o);
    b.set_quiet_start(c.quiet_start);
    b.set_quiet_end(c.quiet_end);
    auto r = run(service_->set_policy(b, as(kAdmin, "admin")));
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_EQ(r.error().code, Code::kInvalidArgument);
    EXPECT_EQ(r.error().field, c.field);
    EXPECT_EQ(r.error().message.rfind(c.field, 0), 0u) << r.error().message;
  }
  v1::SetReminderPolicyRequest bad_type = req;
  bad_type.add_type_overrides()->add_offsets_minutes(30);
  auto typed = run(service_->set_policy(bad_type, as(kAdmin, "admin")));
  ASSERT_FALSE(typed.ok());
  EXPECT_EQ(typed.error().field, "type_overrides");
  EXPECT_EQ(plans_changed_, 0);

  // The admin's valid policy is stored and the upcoming appointment planned again.
  auto ok = run(service_->set_policy(req, as(kAdmin, "admin")));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->policy().updated_by(), kAdmin);
  EXPECT_EQ(plans_changed_, 1);
  auto seen = run(service_->get_policy(v1::GetReminderPolicyRequest{}, as(kClient, "client")));
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(std::vector<int>(seen->policy().offsets_minutes().begin(), seen->policy().offsets_minutes().end()),
            (std::vector<int>{1440, 60}));
  auto planned = in_state(reminders_of("appt-1"), "planned");
  ASSERT_EQ(planned.size(), 2u);
  EXPECT_EQ(planned[1].offset_minutes, 60);
}

TEST_F(RemindersServiceTest, PendingListsSentRemindersButNotStartedCancelledOrOptedOut) {
  const auto now = now_unix_ms();
  // appt-1: upcoming, one reminder sent. It is listed.
  const auto upcoming = send_first("appt-1");
  // appt-2: booked 3 h ago for (almost) now; its 2 h reminder was sent, then it started.
  const auto soon = now + 1500;
  apply_one(appointment("appt-2", 1, "booked", soon), now, now - 3 * kHourMs);
  const auto started = send_first("appt-2");
  // appt-3: sent, then cancelled.
  apply_one(appointment("appt-3", 1, "booked", start_ + kHourMs), now);
  const auto cancelled = send_first("appt-3");
  apply_one(appointment("appt-3", 2, "cancelled", start_ + kHourMs), now_unix_ms());
  // appt-4: client 2's; sent, then client 2 turns reminders off.
  apply_one(appointment("appt-4", 1, "booked", start_, kClient2), now);
  const auto opted = send_first("appt-4");
  ASSERT_FALSE(upcoming.empty() || started.empty() || cancelled.empty() || opted.empty());

  EXPECT_EQ(pending_ids(as(kClient2, "client")), (std::vector<std::string>{opted}));
  v1::SetReminderPreferenceRequest off;
  off.set_enabled(false);
  ASSERT_TRUE(run(service_->set_preference(off, as(kClient2, "client"))).ok());
  EXPECT_TRUE(pending_ids(as(kClient2, "client")).empty()) << "listed although reminders are off";

  ASSERT_TRUE(testing::wait_until([&] { return now_unix_ms() > soon; }, 5s));
  auto r = pending(as(kClient, "client"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->reminders_size(), 1) << "started or cancelled appointments' reminders are listed";
  const auto& due = r->reminders(0);
  EXPECT_EQ(due.reminder_id(), upcoming);
  EXPECT_EQ(due.appointment_id(), "appt-1");
  EXPECT_EQ(due.practice_name(), "Riverside Therapy");
  EXPECT_EQ(due.time_zone(), "Europe/Berlin") << "the client's zone from identity";
  EXPECT_EQ(due.therapist_name(), "") << "the policy does not name the therapist";
  EXPECT_NE(due.text().find("Riverside Therapy"), std::string::npos) << due.text();
  // Listing is not a delivery; the gateway's deliver_pending is.
  EXPECT_EQ(reminder(upcoming).deliveries, 0);
  ASSERT_TRUE(run(service_->deliver_pending(v1::ListPendingRemindersRequest{}, as(kClient, "client"))).ok());
  EXPECT_EQ(reminder(upcoming).deliveries, 1);
}

TEST_F(RemindersServiceTest, IdsThatAreEmptyOrTooLongAreRefusedNamingTheField) {
  const std::string long_id(65, 'a');
  const std::string longest(64, 'a');
  auto empty_ack = ack(as(kClient, "client"), "");
  ASSERT_FALSE(empty_ack.ok());
  EXPECT_EQ(empty_ack.error().code, Code::kInvalidArgument);
  EXPECT_EQ(empty_ack.error().field, "reminder_id");
  EXPECT_EQ(empty_ack.error().message, "reminder_id: required");
  auto long_ack = ack(as(kClient, "client"), long_id);
  ASSERT_FALSE(long_ack.ok());
  EXPECT_EQ(long_ack.error().code, Code::kInvalidArgument);
  EXPECT_EQ(long_ack.error().field, "reminder_id");
  auto max_ack = ack(as(kClient, "client"), longest);
  ASSERT_FALSE(max_ack.ok());
  EXPECT_EQ(max_ack.error().code, Code::kNotFound) << "64 characters is a well-formed id";

  auto empty_list = list(as(kAdmin, "admin"), "");
  ASSERT_FALSE(empty_list.ok());
  EXPECT_EQ(empty_list.error().code, Code::kInvalidArgument);
  EXPECT_EQ(empty_list.error().field, "appointment_id");
  auto long_list = list(as(kAdmin, "admin"), long_id);
  ASSERT_FALSE(long_list.ok());
  EXPECT_EQ(long_list.error().code, Code::kInvalidArgument);
  EXPECT_EQ(long_list.error().field, "appointment_id");
  EXPECT_EQ(long_list.error().message, "appointment_id: at most 64 characters");
  auto max_list = list(as(kAdmin, "admin"), longest);
  ASSERT_FALSE(max_list.ok());
  EXPECT_EQ(max_list.error().code, Code::kNotFound);
}

}  // namespace
}  // namespace alliance::reminders
