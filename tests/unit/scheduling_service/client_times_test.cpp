// Every appointment the service answers, and every event it writes, shows the start
// in the client's own time zone (identity's; the therapist's when the client has
// none) beside the therapist's, and the instant from which a cancellation counts as
// late. The therapist works in New York (UTC-5 in January); "now" is Monday
// 2030-01-07 12:00Z; the default cancellation window is 24 hours.
#include "service_fixture.hpp"

namespace alliance::scheduling {
namespace {

constexpr const char* kBerliner = "client-berlin";
// Tuesday 09:00 in New York, 15:00 in Berlin.
constexpr const char* kTuesday = "2030-01-08T14:00:00Z";

class ClientTimesTest : public SchedulingServiceTest {
 protected:
  void SetUp() override {
    SchedulingServiceTest::SetUp();
    directory_.add(kBerliner, kPractice, Role::kClient, "Europe/Berlin");
    directory_.link(kBerliner, kTherapist);
  }

  // The events written so far, oldest first, as the feed serves them.
  std::vector<pb::AppointmentEvent> feed() {
    auto page = run(service_->list_events_since(pb::ListEventsSinceRequest(), reminders()));
    EXPECT_TRUE(page.ok()) << page.error().message;
    std::vector<pb::AppointmentEvent> out;
    if (page.ok())
      for (const auto& e : page->events()) out.push_back(e.event());
    return out;
  }

  static net::CallContext reminders() {
    net::CallContext ctx;
    ctx.peer_name = "reminders";
    return ctx;
  }
};

TEST_F(ClientTimesTest, ClientInBerlinWithANewYorkTherapistSeesBothLocalStartsEverywhere) {
  auto booked = book(as(kDesk, Role::kFrontDesk), kTuesday, kBerliner);
  ASSERT_TRUE(booked.ok()) << booked.error().message;
  const auto& a = booked->appointment();
  EXPECT_EQ(a.time_zone(), "America/New_York");
  EXPECT_EQ(a.local_start(), "2030-01-08T09:00");
  EXPECT_EQ(a.utc_offset_minutes(), -300);
  EXPECT_EQ(a.client_time_zone(), "Europe/Berlin");
  EXPECT_EQ(a.client_local_start(), "2030-01-08T15:00");
  EXPECT_EQ(a.client_utc_offset_minutes(), 60);
  EXPECT_EQ(a.late_cancellation_from(), "2030-01-07T14:00:00Z");

  // The same on a read, in a list, and to the client who booked themself.
  auto got = get(as(kBerliner, Role::kClient), a.id());
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->appointment().client_local_start(), "2030-01-08T15:00");
  EXPECT_EQ(got->appointment().late_cancellation_from(), "2030-01-07T14:00:00Z");
  auto self = book(as(kBerliner, Role::kClient), "2030-01-09T14:00:00Z", "");
  ASSERT_TRUE(self.ok()) << self.error().message;
  EXPECT_EQ(self->appointment().client_time_zone(), "Europe/Berlin");
  EXPECT_EQ(self->appointment().client_local_start(), "2030-01-09T15:00");
  pb::ListAppointmentsRequest list;
  list.set_from("2030-01-07T00:00:00Z");
  list.set_to("2030-02-01T00:00:00Z");
  auto listed = run(service_->list_appointments(list, as(kTherapist, Role::kTherapist)));
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->appointments_size(), 2);
  EXPECT_EQ(listed->appointments(0).client_local_start(), "2030-01-08T15:00");
  EXPECT_EQ(listed->appointments(1).client_local_start(), "2030-01-09T15:00");

  // The event carries the same snapshot: reminders need no second question.
  auto events = feed();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type(), "booked");
  EXPECT_EQ(events[0].appointment().id(), a.id());
  EXPECT_EQ(events[0].appointment().client_time_zone(), "Europe/Berlin");
  EXPECT_EQ(events[0].appointment().client_local_start(), "2030-01-08T15:00");
  EXPECT_EQ(events[0].appointment().client_utc_offset_minutes(), 60);
  EXPECT_EQ(events[0].appointment().late_cancellation_from(), "2030-01-07T14:00:00Z");
}

TEST_F(ClientTimesTest, ClientWithoutAZoneGetsTheTherapistsZone) {
  auto booked = book(as(kDesk, Role::kFrontDesk), kTuesday, kClient);
  ASSERT_TRUE(booked.ok()) << booked.error().message;
  const auto& a = booked->appointment();
  EXPECT_EQ(a.client_time_zone(), "America/New_York");
  EXPECT_EQ(a.client_local_start(), "2030-01-08T09:00");
  EXPECT_EQ(a.client_utc_offset_minutes(), -300);
  EXPECT_EQ(a.late_cancellation_from(), "2030-01-07T14:00:00Z");
  // A zone this machine does not know counts as none: the fields still agree.
  directory_.set_time_zone(kClient, "Mars/Olympus_Mons");
  auto got = get(as(kClient, Role::kClient), a.id());
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->appointment().client_time_zone(), "America/New_York");
  EXPECT_EQ(got->appointment().client_local_start(), "2030-01-08T09:00");
}

TEST_F(ClientTimesTest, AChangedZoneShowsOnTheNextAnswerAndInLaterEventsOnly) {
  auto booked = book(as(kDesk, Role::kFrontDesk), kTuesday, kBerliner);
  ASSERT_TRUE(booked.ok()) << booked.error().message;
  directory_.set_time_zone(kBerliner, "Asia/Tokyo");  // the client moved (UTC+9)
  auto got = get(as(kBerliner, Role::kClient), booked->appointment().id());
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->appointment().client_time_zone(), "Asia/Tokyo");
  EXPECT_EQ(got->appointment().client_local_start(), "2030-01-08T23:00");
  auto cancelled = cancel(as(kBerliner, Role::kClient), booked->appointment().id());
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_EQ(cancelled->appointment().client_local_start(), "2030-01-08T23:00");

  auto events = feed();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].appointment().client_time_zone(), "Europe/Berlin");  // as it was when booked
  EXPECT_EQ(events[1].type(), "cancelled");
  EXPECT_EQ(events[1].appointment().client_time_zone(), "Asia/Tokyo");
  EXPECT_EQ(events[1].appointment().client_local_start(), "2030-01-08T23:00");
}

TEST_F(ClientTimesTest, LateCancellationFromFollowsTheConfiguredWindowAndMovesWithTheAppointment) {
  SchedulingOptions so;
  so.clock = [this] { return now_; };
  so.cancellation_window = std::chrono::hours(48);
  SchedulingService two_days(*store_, directory_, so, [this] { publisher_->notify(); });
  pb::BookAppointmentRequest req;
  req.set_idempotency_key(new_id());
  req.set_therapist_id(kTherapist);
  req.set_client_id(kBerliner);
  req.set_type_id(type_);
  req.set_start_time("2030-01-10T14:00:00Z");
  auto booked = run(two_days.book_appointment(req, as(kDesk, Role::kFrontDesk)));
  ASSERT_TRUE(booked.ok()) << booked.error().message;
  EXPECT_EQ(booked->appointment().late_cancellation_from(), "2030-01-08T14:00:00Z");

  pb::RescheduleAppointmentRequest move;
  move.set_appointment_id(booked->appointment().id());
  move.set_new_start_time("2030-01-11T15:00:00Z");
  auto moved = run(two_days.reschedule_appointment(move, as(kDesk, Role::kFrontDesk)));
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_EQ(moved->appointment().late_cancellation_from(), "2030-01-09T15:00:00Z");
  EXPECT_EQ(moved->appointment().client_local_start(), "2030-01-11T16:00");
  auto events = feed();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type(), "rescheduled");
  EXPECT_EQ(events[1].appointment().late_cancellation_from(), "2030-01-09T15:00:00Z");
}

TEST_F(ClientTimesTest, SeriesOccurrencesCarryTheClientsTimes) {
  pb::BookSeriesRequest req;
  req.set_idempotency_key(new_id());
  req.set_therapist_id(kTherapist);
  req.set_client_id(kBerliner);
  req.set_type_id(type_);
  req.set_first_start_time(kTuesday);
  req.set_interval_weeks(1);
  req.set_count(3);
  auto series = run(service_->book_series(req, as(kDesk, Role::kFrontDesk)));
  ASSERT_TRUE(series.ok()) << series.error().message;
  ASSERT_EQ(series->occurrences_size(), 3);
  EXPECT_EQ(series->occurrences(2).appointment().client_time_zone(), "Europe/Berlin");
  EXPECT_EQ(series->occurrences(2).appointment().client_local_start(), "2030-01-22T15:00");
  EXPECT_EQ(series->occurrences(2).appointment().late_cancellation_from(), "2030-01-21T14:00:00Z");
  auto events = feed();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].appointment().client_local_start(), "2030-01-22T15:00");

  pb::CancelSeriesRequest stop;
  stop.set_series_id(series->series_id());
  stop.set_reason("moving away");
  auto cancelled = run(service_->cancel_series(stop, as(kDesk, Role::kFrontDesk)));
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  ASSERT_EQ(cancelled->cancelled_size(), 3);
  EXPECT_EQ(cancelled->cancelled(0).client_local_start(), "2030-01-08T15:00");
  events = feed();
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[5].type(), "cancelled");
  EXPECT_EQ(events[5].appointment().client_time_zone(), "Europe/Berlin");
}

}  // namespace
}  // namespace alliance::scheduling
