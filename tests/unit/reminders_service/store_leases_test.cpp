// ReminderStore leases and fences with two store objects on ONE file, as two
// alliance-reminders processes share it: a reminder is held by one instance at a
// time, only the current fence may mark it sent, and whatever a dead instance left
// half done is taken over after its lease. Also next_wake and policy re-planning.
#include "reminders_fixture.hpp"

namespace alliance::reminders {
namespace {

class ReminderLeaseTest : public ReminderStoreTest {
 protected:
  void SetUp() override {
    ReminderStoreTest::SetUp();
    other_ = open_store();
    apply_one(appointment("appt-1", 1, "booked", kStart), kNow);
  }
  void TearDown() override {
    io_.poll();
    other_.reset();
    ReminderStoreTest::TearDown();
  }
  ReminderStore& a() { return *store_; }
  ReminderStore& b() { return *other_; }

  std::unique_ptr<ReminderStore> other_;
  const std::int64_t kLease = 1000;
};

TEST_F(ReminderLeaseTest, AClaimIsExclusiveUntilItsLeaseRunsOutThenTakenOverWithAHigherFence) {
  // A leases both reminders well ahead of their instants.
  auto held = claim(a(), "a", kNow, kStart, kLease);
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(held[0].reminder.due_ms, kDue24h);
  EXPECT_EQ(held[0].lease_until_ms, kDue24h + kLease);
  EXPECT_EQ(held[1].lease_until_ms, kDue2h + kLease);
  const auto first_fence = held[0].fence;

  // B sees none of them, at the instant or just before the lease ends.
  EXPECT_TRUE(claim(b(), "b", kNow, kStart, kLease).empty());
  EXPECT_TRUE(claim(b(), "b", kDue24h, kStart, kLease).empty());
  EXPECT_TRUE(claim(b(), "b", kDue24h + kLease, kStart, kLease).empty());

  // A died: once its lease of the first one has run out, B takes that one only.
  const auto later = kDue24h + kLease + 1;
  auto taken = claim(b(), "b", later, later, kLease);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].reminder.id, held[0].reminder.id);
  EXPECT_GT(taken[0].fence, first_fence);

  // A comes back and fires with its old fence: lost, nothing marked sent.
  auto stale = fire(a(), "a", {held[0]}, later + 1);
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0].outcome, Fired::Outcome::kLost);
  EXPECT_EQ(reminder(held[0].reminder.id).state, "planned");
  EXPECT_EQ(reminder(held[0].reminder.id).sent_ms, 0);

  // B, the current holder, marks it sent.
  auto fired = fire(b(), "b", taken, later + 2);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].outcome, Fired::Outcome::kSent);
  EXPECT_EQ(fired[0].appointment.id, "appt-1");
  EXPECT_EQ(reminder(held[0].reminder.id).state, "sent");
  EXPECT_EQ(reminder(held[0].reminder.id).sent_ms, later + 2);

  // The same fence used by another owner name is not the holder either.
  auto impostor = fire(a(), "a", taken, later + 3);
  EXPECT_EQ(impostor.at(0).outcome, Fired::Outcome::kLost);
}

TEST_F(ReminderLeaseTest, AnInstanceThatReclaimedAReminderCannotFireItUnderItsOlderClaim) {
  // A's lease ran out and A itself claimed again (say, after a stall): only the
  // newest claim counts, so the same reminder cannot be sent from both.
  auto first = claim(a(), "a", kDue24h, kDue24h, kLease);
  ASSERT_EQ(first.size(), 1u);
  auto second = claim(a(), "a", kDue24h + kLease + 1, kDue24h + kLease + 1, kLease);
  ASSERT_EQ(second.size(), 1u);
  ASSERT_GT(second[0].fence, first[0].fence);
  EXPECT_EQ(fire(a(), "a", first, kDue24h + kLease + 2).at(0).outcome, Fired::Outcome::kLost);
  EXPECT_EQ(reminder(first[0].reminder.id).state, "planned");
  EXPECT_EQ(fire(a(), "a", second, kDue24h + kLease + 3).at(0).outcome, Fired::Outcome::kSent);
}

TEST_F(ReminderLeaseTest, AReminderCancelledBetweenClaimAndFireIsNeverSent) {
  auto held = claim(a(), "a", kDue24h - 500, kDue24h, kLease);
  ASSERT_EQ(held.size(), 1u);
  apply_one(appointment("appt-1", 2, "cancelled", kStart), kDue24h - 100);
  auto fired = fire(a(), "a", held, kDue24h);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].outcome, Fired::Outcome::kLost);
  auto row = reminder(held[0].reminder.id);
  EXPECT_EQ(row.state, "cancelled");
  EXPECT_EQ(row.sent_ms, 0);
  // Nor is it re-claimed later as something to push.
  EXPECT_TRUE(claim(b(), "b", kDue24h + 10 * kLease, kStart, kLease).empty());
}

TEST_F(ReminderLeaseTest, AConfirmationBetweenClaimAndFireIsWhatTheReminderSays) {
  auto held = claim(a(), "a", kDue24h - 500, kDue24h, kLease);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].appointment.status, "booked");
  apply_one(appointment("appt-1", 2, "confirmed", kStart), kDue24h - 200);
  auto fired = fire(a(), "a", held, kDue24h);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].outcome, Fired::Outcome::kSent);
  EXPECT_EQ(fired[0].appointment.status, "confirmed");
  EXPECT_EQ(fired[0].appointment.version, 2);
  EXPECT_EQ(reminder(held[0].reminder.id).state, "sent");
}

TEST_F(ReminderLeaseTest, APolicyChangeBetweenClaimAndFireIsWhatTheReminderSays) {
  auto held = claim(a(), "a", kDue24h - 500, kDue24h, kLease);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_FALSE(held[0].show_therapist_name);
  // The practice starts naming therapists (same offsets: the plan stands).
  ASSERT_TRUE(run(a().set_policy(PolicyRow{kPractice, policy({1440, 120}, "", "", true), "admin", kDue24h - 100},
                                 kDue24h - 100))
                  .ok());
  auto fired = fire(a(), "a", held, kDue24h);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].outcome, Fired::Outcome::kSent);
  EXPECT_TRUE(fired[0].show_therapist_name);
}

TEST_F(ReminderLeaseTest, FiringForAnAppointmentThatStartedExpiresTheReminder) {
  auto held = claim(a(), "a", kNow, kStart, kLease);
  ASSERT_EQ(held.size(), 2u);
  auto fired = fire(a(), "a", held, kStart);
  ASSERT_EQ(fired.size(), 2u);
  for (const auto& f : fired) EXPECT_EQ(f.outcome, Fired::Outcome::kExpired);
  for (const auto& row : reminders_of("appt-1")) {
    EXPECT_EQ(row.state, "expired");
    EXPECT_EQ(row.expired_ms, kStart);
    EXPECT_EQ(row.sent_ms, 0);
  }
}

TEST_F(ReminderLeaseTest, AClientWhoTurnedRemindersOffIsNotSentOne) {
  ASSERT_TRUE(run(a().set_preference(kClient, false, kNow)).ok());
  auto held = claim(a(), "a", kDue24h, kDue24h, kLease);
  ASSERT_EQ(held.size(), 1u);
  auto fired = fire(a(), "a", held, kDue24h);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].outcome, Fired::Outcome::kOptedOut);
  auto row = reminder(held[0].reminder.id);
  EXPECT_EQ(row.state, "cancelled");
  EXPECT_EQ(row.cancel_reason, "opted_out");
  EXPECT_EQ(row.sent_ms, 0);
  // On again: the next one goes out.
  ASSERT_TRUE(run(a().set_preference(kClient, true, kDue24h + 1)).ok());
  auto next = claim(a(), "a", kDue2h, kDue2h, kLease);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(fire(a(), "a", next, kDue2h).at(0).outcome, Fired::Outcome::kSent);
}

TEST_F(ReminderLeaseTest, SentButNeverPushedIsReclaimedAsAResendAfterTheLease) {
  // A marks the 24 h reminder sent and dies before its push is recorded.
  auto held = claim(a(), "a", kDue24h, kDue24h, kLease);
  ASSERT_EQ(held.size(), 1u);
  ASSERT_EQ(fire(a(), "a", held, kDue24h, kLease).at(0).outcome, Fired::Outcome::kSent);
  const auto window = kDue24h + 10 * kLease;  // before the 2 h reminder is due
  EXPECT_TRUE(claim(b(), "b", kDue24h + kLease, window, kLease).empty()) << "taken over inside A's lease";

  auto taken = claim(b(), "b", kDue24h + kLease + 1, window, kLease);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].reminder.id, held[0].reminder.id);
  EXPECT_TRUE(taken[0].resend);
  EXPECT_GT(taken[0].fence, held[0].fence);
  auto again = fire(b(), "b", taken, kDue24h + kLease + 2, kLease);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].outcome, Fired::Outcome::kResend);
  EXPECT_EQ(reminder(held[0].reminder.id).sent_ms, kDue24h) << "a resend is the same sending";

  // Once its push is recorded it is done: no further resends, however late.
  ASSERT_TRUE(run(b().record_deliveries({{held[0].reminder.id, kDue24h + kLease + 3}}, "live", "b")).ok());
  EXPECT_TRUE(claim(a(), "a", window, window, kLease).empty());
  EXPECT_EQ(reminder(held[0].reminder.id).deliveries, 1);
  // Each delivery counts (the client's next socket gets it again).
  ASSERT_TRUE(run(a().record_deliveries({{held[0].reminder.id, window}}, "reconnect", "a")).ok());
  EXPECT_EQ(reminder(held[0].reminder.id).deliveries, 2);
}

TEST_F(ReminderLeaseTest, NextWakeIsTheEarliestDueMinusLookaheadOrAnotherHoldersLeaseExpiry) {
  const std::int64_t lookahead = 2000;
  auto wake = run(a().next_wake("a", kNow, lookahead));
  ASSERT_TRUE(wake.ok());
  ASSERT_TRUE(wake->has_value());
  EXPECT_EQ(**wake, kDue24h - lookahead);

  // A holds the 24 h one: for B the next thing is A's lease running out; for A itself
  // (its own lease) the 2 h reminder.
  ASSERT_EQ(claim(a(), "a", kDue24h - lookahead, kDue24h, kLease).size(), 1u);
  auto for_b = run(b().next_wake("b", kDue24h - lookahead, lookahead));
  ASSERT_TRUE(for_b.ok() && for_b->has_value());
  EXPECT_EQ(**for_b, kDue24h + kLease + 1);
  auto for_a = run(a().next_wake("a", kDue24h - lookahead, lookahead));
  ASSERT_TRUE(for_a.ok() && for_a->has_value());
  EXPECT_EQ(**for_a, kDue2h - lookahead);

  // Nothing planned at all: no wake-up.
  apply_one(appointment("appt-1", 2, "cancelled", kStart), kNow + 1);
  auto none = run(b().next_wake("b", kNow + 2, lookahead));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(ReminderStoreTest, APolicyChangeReplansUpcomingRemindersButNeverAnOffsetAlreadySent) {
  ASSERT_TRUE(run(store_->set_policy(PolicyRow{kPractice, policy({1440, 120, 30}), kAdmin, kNow}, kNow)).ok());
  apply_one(appointment("appt-1", 1, "booked", kStart), kNow);
  auto other = appointment("appt-9", 1, "booked", kStart);
  other.practice_id = kOtherPractice;
  apply_one(other, kNow);
  const auto before = reminders_of("appt-1");
  ASSERT_EQ(before.size(), 3u);
  const auto other_before = reminders_of("appt-9");
  ASSERT_EQ(other_before.size(), 2u);
  // The 24 h reminder went out early (already sent).
  auto held = claim(*store_, "a", kNow, kDue24h);
  ASSERT_EQ(held.size(), 2u);  // appt-1's and appt-9's 24 h reminders
  held.erase(std::remove_if(held.begin(), held.end(), [](const Claim& c) { return c.reminder.appointment_id != "appt-1"; }),
             held.end());
  ASSERT_EQ(fire(*store_, "a", held, kNow + 1000).at(0).outcome, Fired::Outcome::kSent);

  // New policy: 24 h, 1 h, 30 min. 2 h goes, 1 h comes, 30 min stays, 24 h is not planned again.
  auto changed =
      run(store_->set_policy(PolicyRow{kPractice, policy({1440, 60, 30}), kAdmin, kNow + kHourMs}, kNow + kHourMs));
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  EXPECT_EQ(*changed, 2);
  auto rows = reminders_of("appt-1");
  std::map<int, std::vector<ReminderRow>> by_offset;
  for (const auto& r : rows) by_offset[r.offset_minutes].push_back(r);
  ASSERT_EQ(by_offset[1440].size(), 1u) << "the sent 24 h reminder was planned again";
  EXPECT_EQ(by_offset[1440][0].state, "sent");
  ASSERT_EQ(by_offset[120].size(), 1u);
  EXPECT_EQ(by_offset[120][0].state, "cancelled");
  EXPECT_EQ(by_offset[120][0].cancel_reason, "policy_changed");
  ASSERT_EQ(by_offset[60].size(), 1u);
  EXPECT_EQ(by_offset[60][0].state, "planned");
  EXPECT_EQ(by_offset[60][0].due_ms, kStart - kHourMs);
  ASSERT_EQ(by_offset[30].size(), 1u);
  EXPECT_EQ(by_offset[30][0].state, "planned");
  EXPECT_EQ(by_offset[30][0].id, before[2].id) << "a reminder the new policy still gives is kept as it was";

  // Setting the same policy again changes nothing; another practice is untouched.
  auto same =
      run(store_->set_policy(PolicyRow{kPractice, policy({1440, 60, 30}), kAdmin, kNow + kHourMs}, kNow + kHourMs));
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, 0);
  auto other_after = reminders_of("appt-9");
  ASSERT_EQ(other_after.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(other_after[i].id, other_before[i].id);
  auto stored = run(store_->policy(kPractice));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->policy.offsets_minutes, (std::vector<int>{1440, 60, 30}));
}

}  // namespace
}  // namespace alliance::reminders
