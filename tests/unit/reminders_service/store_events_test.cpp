// ReminderStore::apply_events over a real SQLite file: scheduling's events, late,
// repeated or out of order, never leave a client reminded of the wrong time; the
// cursor moves only from the value the batch was read at.
#include "reminders_fixture.hpp"

namespace alliance::reminders {
namespace {

TEST_F(ReminderStoreTest, BookingPlansTheDefaultOffsets) {
  auto r = apply_one(appointment("appt-1", 1, "booked", kStart), kNow);
  EXPECT_TRUE(r.applied);
  EXPECT_EQ(r.planned, 2);
  auto rows = reminders_of("appt-1");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].offset_minutes, 1440);
  EXPECT_EQ(rows[0].due_ms, kDue24h);
  EXPECT_EQ(rows[1].offset_minutes, 120);
  EXPECT_EQ(rows[1].due_ms, kDue2h);
  for (const auto& row : rows) {
    EXPECT_EQ(row.state, "planned");
    EXPECT_EQ(row.client_id, kClient);
    EXPECT_EQ(row.appointment_version, 1);
  }
}

TEST_F(ReminderStoreTest, ALateOlderEventNeverRevivesACancelledAppointment) {
  // Events of a fresh appointment arrive out of order: v3 "cancelled" first, then
  // the v2 reschedule it superseded. Nothing may be planned.
  std::vector<EventInput> events{event(1, appointment("appt-1", 3, "cancelled", kStart), kNow),
                                 event(2, appointment("appt-1", 2, "booked", kStart + kDayMs), kNow)};
  auto r = apply(std::move(events), kNow);
  EXPECT_TRUE(r.applied);
  EXPECT_EQ(r.planned, 0);
  EXPECT_TRUE(reminders_of("appt-1").empty());
  auto a = run(store_->find_appointment("appt-1"));
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->status, "cancelled");
  EXPECT_EQ((*a)->version, 3);

  // A known appointment: booked v1, cancelled v3, then the late v2 reschedule.
  apply_one(appointment("appt-2", 1, "booked", kStart), kNow);
  apply_one(appointment("appt-2", 3, "cancelled", kStart), kNow);
  auto late = apply_one(appointment("appt-2", 2, "booked", kStart + kDayMs), kNow);
  EXPECT_EQ(late.planned, 0);
  EXPECT_EQ(late.cancelled, 0);
  auto rows = reminders_of("appt-2");
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    EXPECT_EQ(row.state, "cancelled");
    EXPECT_EQ(row.cancel_reason, "cancelled");
    EXPECT_EQ(row.start_ms, kStart) << "nothing planned for the superseded time";
  }
}

TEST_F(ReminderStoreTest, ARepeatedVersionChangesNothing) {
  apply_one(appointment("appt-1", 2, "booked", kStart), kNow);
  const auto before = reminders_of("appt-1");
  ASSERT_EQ(before.size(), 2u);
  // Same version again, even claiming another time or status: ignored.
  auto again = apply_one(appointment("appt-1", 2, "booked", kStart + kHourMs), kNow);
  auto cancelled = apply_one(appointment("appt-1", 2, "cancelled", kStart), kNow);
  auto older = apply_one(appointment("appt-1", 1, "cancelled", kStart), kNow);
  for (const auto& r : {again, cancelled, older}) {
    EXPECT_TRUE(r.applied);
    EXPECT_EQ(r.planned, 0);
    EXPECT_EQ(r.cancelled, 0);
  }
  const auto after = reminders_of("appt-1");
  ASSERT_EQ(after.size(), 2u);
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].id, before[i].id);
    EXPECT_EQ(after[i].state, "planned");
    EXPECT_EQ(after[i].start_ms, kStart);
  }
  EXPECT_EQ((*run(store_->find_appointment("appt-1")))->status, "booked");
}

TEST_F(ReminderStoreTest, ARescheduleCancelsTheOldRemindersAndPlansNewOnes) {
  apply_one(appointment("appt-1", 1, "booked", kStart), kNow);
  const auto old_rows = reminders_of("appt-1");
  ASSERT_EQ(old_rows.size(), 2u);
  const auto moved_to = kStart + kDayMs;  // Thursday 15:00Z
  auto r = apply_one(appointment("appt-1", 2, "booked", moved_to), kNow + kHourMs);
  EXPECT_EQ(r.cancelled, 2);
  EXPECT_EQ(r.planned, 2);
  auto rows = reminders_of("appt-1");
  ASSERT_EQ(rows.size(), 4u);
  auto cancelled = in_state(rows, "cancelled");
  ASSERT_EQ(cancelled.size(), 2u);
  for (const auto& c : cancelled) {
    EXPECT_EQ(c.cancel_reason, "rescheduled");
    EXPECT_EQ(c.start_ms, kStart);
    EXPECT_EQ(c.cancelled_ms, kNow + kHourMs);
    EXPECT_TRUE(c.id == old_rows[0].id || c.id == old_rows[1].id);
  }
  auto planned = in_state(rows, "planned");
  ASSERT_EQ(planned.size(), 2u);
  EXPECT_EQ(planned[0].due_ms, moved_to - kDayMs);
  EXPECT_EQ(planned[1].due_ms, moved_to - 2 * kHourMs);
  for (const auto& p : planned) {
    EXPECT_EQ(p.start_ms, moved_to);
    EXPECT_EQ(p.appointment_version, 2);
  }
}

TEST_F(ReminderStoreTest, CancelledCompletedAndNoShowCancelWhatIsLeftWithThatReason) {
  for (const std::string status : {"cancelled", "completed", "no_show"}) {
    SCOPED_TRACE(status);
    const std::string id = "appt-" + status;
    apply_one(appointment(id, 1, "booked", kStart), kNow);
    // The 24 h reminder was sent and acknowledged: that stays as it is.
    auto claims = claim(*store_, "a", kDue24h, kDue24h);
    ASSERT_EQ(claims.size(), 1u);
    ASSERT_EQ(fire(*store_, "a", claims, kDue24h).at(0).outcome, Fired::Outcome::kSent);
    ASSERT_TRUE(run(store_->acknowledge(kClient, claims[0].reminder.id, kDue24h + 1000)).ok());

    auto r = apply_one(appointment(id, 2, status, kStart), kDue24h + kHourMs);
    EXPECT_EQ(r.cancelled, 1);
    EXPECT_EQ(r.planned, 0);
    auto rows = reminders_of(id);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].state, "acknowledged");
    EXPECT_EQ(rows[1].state, "cancelled");
    EXPECT_EQ(rows[1].cancel_reason, status);
    EXPECT_EQ(rows[1].offset_minutes, 120);
  }
}

TEST_F(ReminderStoreTest, ACancellationAlsoEndsASentReminder) {
  apply_one(appointment("appt-1", 1, "booked", kStart), kNow);
  auto claims = claim(*store_, "a", kDue24h, kDue24h);
  ASSERT_EQ(fire(*store_, "a", claims, kDue24h).at(0).outcome, Fired::Outcome::kSent);
  apply_one(appointment("appt-1", 2, "cancelled", kStart), kDue24h + kMinuteMs);
  for (const auto& row : reminders_of("appt-1")) {
    EXPECT_EQ(row.state, "cancelled");
    EXPECT_EQ(row.cancel_reason, "cancelled");
  }
  auto pending = run(store_->pending_for(kClient, kDue24h + 2 * kMinuteMs));
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty()) << "a cancelled appointment's reminder is still pending";
}

TEST_F(ReminderStoreTest, AConfirmationKeepsThePlan) {
  apply_one(appointment("appt-1", 1, "booked", kStart), kNow);
  const auto before = reminders_of("appt-1");
  auto r = apply_one(appointment("appt-1", 2, "confirmed", kStart), kNow + kHourMs);
  EXPECT_EQ(r.planned, 0);
  EXPECT_EQ(r.cancelled, 0);
  const auto after = reminders_of("appt-1");
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].id, before[i].id);
    EXPECT_EQ(after[i].state, "planned");
  }
  EXPECT_EQ((*run(store_->find_appointment("appt-1")))->status, "confirmed");
}

TEST_F(ReminderStoreTest, TheCursorMovesOnlyFromTheExpectedValue) {
  std::vector<EventInput> first{event(1, appointment("appt-1", 1, "booked", kStart), kNow),
                                event(2, appointment("appt-2", 1, "booked", kStart), kNow)};
  auto r = run(store_->apply_events(0, std::move(first), kNow));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->applied);
  EXPECT_EQ(r->cursor, 2);
  EXPECT_EQ(r->planned, 4);

  // Another instance read the same batch at cursor 0 (and more): it changes nothing.
  std::vector<EventInput> stale{event(1, appointment("appt-1", 1, "booked", kStart), kNow),
                                event(2, appointment("appt-2", 1, "booked", kStart), kNow),
                                event(3, appointment("appt-3", 1, "booked", kStart), kNow)};
  auto again = run(store_->apply_events(0, std::move(stale), kNow));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->applied);
  EXPECT_EQ(again->cursor, 2);
  EXPECT_EQ(again->planned, 0);
  EXPECT_EQ(*run(store_->cursor()), 2);
  EXPECT_EQ(count_reminders(), 4) << "the batch was applied twice";
  EXPECT_FALSE(run(store_->find_appointment("appt-3"))->has_value());

  // From the right cursor it goes on.
  std::vector<EventInput> next{event(3, appointment("appt-3", 1, "booked", kStart), kNow)};
  auto moved = run(store_->apply_events(2, std::move(next), kNow));
  ASSERT_TRUE(moved.ok());
  EXPECT_TRUE(moved->applied);
  EXPECT_EQ(moved->cursor, 3);
  EXPECT_EQ(count_reminders(), 6);
}

TEST_F(ReminderStoreTest, AnEventWithoutAnAppointmentIdMovesTheCursorAndChangesNothing) {
  apply_one(appointment("appt-1", 1, "booked", kStart), kNow);
  auto unusable = appointment("", 9, "cancelled", kStart);
  std::vector<EventInput> events{event(7, unusable, kNow)};
  auto r = run(store_->apply_events(1, std::move(events), kNow));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->applied);
  EXPECT_EQ(r->cursor, 7);
  EXPECT_EQ(r->planned, 0);
  EXPECT_EQ(r->cancelled, 0);
  EXPECT_EQ(*run(store_->cursor()), 7);
  EXPECT_FALSE(run(store_->find_appointment(""))->has_value());
  EXPECT_EQ(in_state(reminders_of("appt-1"), "planned").size(), 2u);
  EXPECT_EQ(count_reminders(), 2);
}

TEST_F(ReminderStoreTest, CatchingUpLongAfterKeepsOnlyTheLatestOverdueReminder) {
  // 24 h, 3 h and 1 h before; booked Monday 12:00 for Wednesday 15:00, but applied
  // only Wednesday 13:30 (the service was down): 24 h (Tuesday 15:00) and 3 h
  // (12:00) came due meanwhile. Only the 3 h one is kept (sent at once), with the 1 h.
  ASSERT_TRUE(run(store_->set_policy(PolicyRow{kPractice, policy({1440, 180, 60}), kAdmin, kNow}, kNow)).ok());
  const auto late = utc_ms(2030, 1, 9, 13, 30);
  auto r = apply_one(appointment("appt-1", 1, "booked", kStart), late, /*occurred_ms=*/kNow);
  EXPECT_EQ(r.planned, 2);
  auto rows = reminders_of("appt-1");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].offset_minutes, 180);
  EXPECT_EQ(rows[0].due_ms, utc_ms(2030, 1, 9, 12));
  EXPECT_EQ(rows[1].offset_minutes, 60);
  EXPECT_EQ(rows[1].due_ms, utc_ms(2030, 1, 9, 14));
  // The overdue one is claimable at once.
  auto claims = claim(*store_, "a", late, late);
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims[0].reminder.offset_minutes, 180);
}

}  // namespace
}  // namespace alliance::reminders
