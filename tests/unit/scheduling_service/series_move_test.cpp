// Moving all future occurrences of a series (RescheduleSeries) through the
// service itself, over real SQLite and Redis. "Now" is Monday 2030-01-07
// 12:00Z; New York is UTC-5 until Sunday 2030-03-10 02:00, UTC-4 after, so
// every instant below is checked by hand.
#include "service_fixture.hpp"

namespace alliance::scheduling {
namespace {

class SeriesMoveTest : public SchedulingServiceTest {
 protected:
  // A weekly series for kClient with kTherapist, booked by the front desk.
  pb::BookSeriesResponse series(const std::string &first, int count, const std::string &type = "") {
    pb::BookSeriesRequest req;
    req.set_idempotency_key(new_id());
    req.set_therapist_id(kTherapist);
    req.set_client_id(kClient);
    req.set_type_id(type.empty() ? type_ : type);
    req.set_first_start_time(first);
    req.set_interval_weeks(1);
    req.set_count(count);
    req.set_on_conflict("reject");
    auto r = run(service_->book_series(req, as(kDesk, Role::kFrontDesk)));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : pb::BookSeriesResponse{};
  }

  Result<pb::RescheduleSeriesResponse> move(const net::CallContext &who, const pb::BookSeriesResponse &s,
                                            int from_index, const std::string &new_start,
                                            const std::string &on_conflict = "") {
    pb::RescheduleSeriesRequest req;
    req.set_series_id(s.series_id());
    req.set_from_appointment_id(s.occurrences(from_index).appointment().id());
    req.set_new_start_time(new_start);
    req.set_on_conflict(on_conflict);
    return run(service_->reschedule_series(req, who));
  }

  pb::Appointment reload(const pb::BookSeriesResponse &s, int i) {
    auto r = get(as(kDesk, Role::kFrontDesk), s.occurrences(i).appointment().id());
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r->appointment() : pb::Appointment{};
  }

  std::vector<pb::AppointmentEvent> of_type(const std::vector<pb::AppointmentEvent> &all, const std::string &t) {
    std::vector<pb::AppointmentEvent> out;
    for (const auto &e : all)
      if (e.type() == t) out.push_back(e);
    return out;
  }

  // The fixture's type books at most 60 days ahead; the DST case needs more.
  std::string long_horizon_type() {
    pb::CreateAppointmentTypeRequest req;
    req.set_name("Long horizon");
    req.set_duration_minutes(50);
    req.set_modality("telehealth");
    req.set_buffer_after_minutes(10);
    req.set_step_minutes(30);
    req.set_client_self_booking(true);
    req.set_booking_horizon_days(200);
    auto r = run(service_->create_appointment_type(req, as(kAdmin, Role::kAdmin)));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r->type().id() : "";
  }
};

TEST_F(SeriesMoveTest, MovingAllFutureAcrossADstChangeKeepsTheLocalTimeAndDay) {
  // Tuesdays 09:00 New York from 2030-02-26: 14:00Z while EST, 13:00Z once EDT.
  auto s = series("2030-02-26T14:00:00Z", 6, long_horizon_type());
  ASSERT_EQ(s.booked(), 6);
  ASSERT_EQ(s.occurrences(2).start_time(), "2030-03-12T13:00:00Z");
  // From the second (Tue Mar 5) to Thursday 10:30 (EST: 15:30Z).
  auto r = move(as(kDesk, Role::kFrontDesk), s, 1, "2030-03-07T15:30:00Z");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->moved(), 5);
  EXPECT_EQ(r->skipped(), 0);
  const std::vector<std::string> expected{"2030-03-07T15:30:00Z", "2030-03-14T14:30:00Z", "2030-03-21T14:30:00Z",
                                          "2030-03-28T14:30:00Z", "2030-04-04T14:30:00Z"};
  ASSERT_EQ(r->occurrences_size(), 5);
  for (int i = 0; i < 5; ++i) {
    const auto &o = r->occurrences(i);
    EXPECT_EQ(o.outcome(), "moved");
    EXPECT_EQ(o.appointment().start_time(), expected[i]) << i;
    EXPECT_EQ(o.local_start().substr(10), "T10:30") << i;
    EXPECT_EQ(o.previous_start_time(), s.occurrences(i + 1).start_time());
    const auto now = reload(s, i + 1);
    EXPECT_EQ(now.start_time(), expected[i]);
    EXPECT_EQ(now.local_start().substr(10), "T10:30");
    EXPECT_EQ(now.version(), 2);
    EXPECT_EQ(now.end_time(), expected[i].substr(0, 11) + (i == 0 ? "16:20:00Z" : "15:20:00Z"));  // 50 minutes
  }
  EXPECT_EQ(reload(s, 3).local_start(), "2030-03-21T10:30");  // a Thursday
  // The first occurrence was before the one moved from: untouched.
  EXPECT_EQ(reload(s, 0).start_time(), "2030-02-26T14:00:00Z");
  EXPECT_EQ(reload(s, 0).version(), 1);
}

TEST_F(SeriesMoveTest, RejectMovesNothingWhenOneOccurrenceConflictsSkipMovesTheRestAndReportsIt) {
  std::vector<FreedSlot> freed;
  SchedulingOptions so;
  so.clock = [this] { return now_; };
  so.slot_freed = [&](FreedSlot f) { freed.push_back(f); };
  service_ = std::make_unique<SchedulingService>(*store_, directory_, so, [this] { publisher_->notify(); });

  // Tuesdays 09:00 (14:00Z) Jan 8..29; another client has Thursday Jan 24
  // 10:30.
  auto s = series("2030-01-08T14:00:00Z", 4);
  auto other = book(as(kDesk, Role::kFrontDesk), "2030-01-24T15:30:00Z", kClient2);
  ASSERT_TRUE(other.ok()) << other.error().message;
  ASSERT_EQ(wait_events(5).size(), 5u);

  auto rejected = move(as(kDesk, Role::kFrontDesk), s, 0,
                       "2030-01-10T15:30:00Z");  // default: reject
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().code, Code::kAlreadyExists);
  EXPECT_EQ(rejected.error().field, "new_start_time");
  EXPECT_NE(rejected.error().message.find("2030-01-24T10:30"), std::string::npos) << rejected.error().message;
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(reload(s, i).start_time(), s.occurrences(i).start_time());
    EXPECT_EQ(reload(s, i).version(), 1);
  }
  EXPECT_TRUE(freed.empty());

  auto skipped = move(as(kDesk, Role::kFrontDesk), s, 0, "2030-01-10T15:30:00Z", "skip");
  ASSERT_TRUE(skipped.ok()) << skipped.error().message;
  EXPECT_EQ(skipped->moved(), 3);
  EXPECT_EQ(skipped->skipped(), 1);
  const auto &bad = skipped->occurrences(2);
  EXPECT_EQ(bad.outcome(), "skipped");
  EXPECT_EQ(bad.new_start_time(), "2030-01-24T15:30:00Z");
  EXPECT_NE(bad.reason().find("overlaps"), std::string::npos) << bad.reason();
  EXPECT_EQ(reload(s, 2).start_time(),
            "2030-01-22T14:00:00Z");  // stayed where it was
  EXPECT_EQ(reload(s, 2).version(), 1);
  EXPECT_EQ(reload(s, 0).start_time(), "2030-01-10T15:30:00Z");
  EXPECT_EQ(reload(s, 1).start_time(), "2030-01-17T15:30:00Z");
  EXPECT_EQ(reload(s, 3).start_time(), "2030-01-31T15:30:00Z");
  EXPECT_EQ(reload(s, 3).version(), 2);

  // One "rescheduled" event per moved occurrence (none from the rejected
  // attempt).
  auto all = wait_events(8);
  pump_until([&] { return events().size() > 8; },
             200ms);  // nothing more may arrive
  all = events();
  auto moved = of_type(all, "rescheduled");
  ASSERT_EQ(moved.size(), 3u);
  std::set<std::string> ids;
  for (const auto &e : moved) {
    ids.insert(e.appointment().id());
    EXPECT_EQ(e.version(), 2);
    EXPECT_EQ(e.previous_start_time().substr(11), "14:00:00Z");
    EXPECT_EQ(e.appointment().start_time().substr(11), "15:30:00Z");
  }
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_FALSE(ids.contains(s.occurrences(2).appointment().id()));
  // The waitlist hears of each old time given back.
  ASSERT_EQ(freed.size(), 3u);
  EXPECT_EQ(freed[0].start, at("2030-01-08T14:00:00Z"));
  EXPECT_EQ(freed[2].start, at("2030-01-29T14:00:00Z"));
}

TEST_F(SeriesMoveTest, ShiftingByAWeekMovesEachIntoTheTimeTheNextOneLeaves) {
  auto s = series("2030-01-08T14:00:00Z", 3);
  auto r = move(as(kDesk, Role::kFrontDesk), s, 0, "2030-01-15T14:00:00Z");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->moved(), 3);
  EXPECT_EQ(reload(s, 0).start_time(), "2030-01-15T14:00:00Z");
  EXPECT_EQ(reload(s, 1).start_time(), "2030-01-22T14:00:00Z");
  EXPECT_EQ(reload(s, 2).start_time(), "2030-01-29T14:00:00Z");
}

TEST_F(SeriesMoveTest, ARetryWithItsKeyAnswersTheFirstMoveAndMovesNothingAgain) {
  auto s = series("2030-01-08T14:00:00Z", 3);
  pb::RescheduleSeriesRequest req;
  req.set_series_id(s.series_id());
  req.set_from_appointment_id(s.occurrences(0).appointment().id());
  req.set_new_start_time("2030-01-10T15:30:00Z");
  req.set_idempotency_key("move-series-0001");
  auto first = run(service_->reschedule_series(req, as(kDesk, Role::kFrontDesk)));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_FALSE(first->replayed());
  ASSERT_EQ(first->moved(), 3);
  const auto moved_events = of_type(wait_events(6), "rescheduled").size();

  // The answer was lost; the desk sends it again with the same key.
  auto again = run(service_->reschedule_series(req, as(kDesk, Role::kFrontDesk)));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->moved(), 3);
  ASSERT_EQ(again->occurrences_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(again->occurrences(i).appointment().start_time(), first->occurrences(i).appointment().start_time());
    EXPECT_EQ(reload(s, i).version(), 2) << "moved once only";
  }
  EXPECT_EQ(of_type(events(), "rescheduled").size(), moved_events);

  // The key with another request is refused, naming it; a bad key too.
  req.set_new_start_time("2030-01-11T15:30:00Z");
  auto reused = run(service_->reschedule_series(req, as(kDesk, Role::kFrontDesk)));
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.error().code, Code::kAlreadyExists);
  EXPECT_EQ(reused.error().field, "idempotency_key");
  req.set_idempotency_key("short");
  auto bad = run(service_->reschedule_series(req, as(kDesk, Role::kFrontDesk)));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "idempotency_key");
  EXPECT_EQ(reload(s, 0).start_time(), "2030-01-10T15:30:00Z");
}

TEST_F(SeriesMoveTest, PastAndCancelledOccurrencesAreNotMoved) {
  // Tuesdays Jan 8..Feb 12; Feb 5 is cancelled, then time passes to Wed Jan 16.
  auto s = series("2030-01-08T14:00:00Z", 6);
  ASSERT_TRUE(cancel(as(kDesk, Role::kFrontDesk), s.occurrences(4).appointment().id()).ok());
  now_ = at("2030-01-16T12:00:00Z");

  auto started = move(as(kDesk, Role::kFrontDesk), s, 1, "2030-01-23T16:00:00Z");
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(started.error().field, "from_appointment_id");
  auto cancelled = move(as(kDesk, Role::kFrontDesk), s, 4, "2030-02-06T16:00:00Z");
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error().code, Code::kFailedPrecondition);

  // From Jan 22 to Wednesday 11:00 (16:00Z): Jan 22, Jan 29 and Feb 12 move.
  auto r = move(as(kDesk, Role::kFrontDesk), s, 2, "2030-01-23T16:00:00Z");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->occurrences_size(), 3);
  EXPECT_EQ(reload(s, 2).start_time(), "2030-01-23T16:00:00Z");
  EXPECT_EQ(reload(s, 3).start_time(), "2030-01-30T16:00:00Z");
  EXPECT_EQ(reload(s, 5).start_time(), "2030-02-13T16:00:00Z");
  for (int i : {0, 1}) {
    EXPECT_EQ(reload(s, i).start_time(), s.occurrences(i).start_time());
    EXPECT_EQ(reload(s, i).version(), 1);
  }
  EXPECT_EQ(reload(s, 4).status(), "cancelled");
  EXPECT_EQ(reload(s, 4).start_time(), "2030-02-05T14:00:00Z");
  EXPECT_EQ(reload(s, 4).version(), 2);  // only the cancellation
}

TEST_F(SeriesMoveTest, AccessRulesMatchASingleReschedule) {
  auto s = series("2030-01-08T14:00:00Z", 2);
  for (const auto &who : {as(kClient2, Role::kClient), as(kTherapist2, Role::kTherapist),
                          as(kOtherDesk, Role::kFrontDesk, kOtherPractice)}) {
    auto r = move(who, s, 0, "2030-01-09T15:00:00Z");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Code::kNotFound);  // like a missing series
    EXPECT_EQ(r.error().field, "series_id");
  }
  EXPECT_EQ(reload(s, 0).version(), 1);
  auto by_client = move(as(kClient, Role::kClient), s, 0, "2030-01-09T15:00:00Z");
  ASSERT_TRUE(by_client.ok()) << by_client.error().message;
  auto by_therapist = move(as(kTherapist, Role::kTherapist), s, 0, "2030-01-10T15:00:00Z");
  ASSERT_TRUE(by_therapist.ok()) << by_therapist.error().message;
  auto by_admin = move(as(kAdmin, Role::kAdmin), s, 0, "2030-01-11T15:00:00Z");
  ASSERT_TRUE(by_admin.ok()) << by_admin.error().message;
  EXPECT_EQ(reload(s, 1).start_time(), "2030-01-18T15:00:00Z");
  EXPECT_EQ(reload(s, 1).version(), 4);

  // A client may not move a type that is not self-bookable.
  const auto desk_only = make_type("Intake", 50, 0, 10, 30, false);
  auto intake = series("2030-01-14T14:00:00Z", 2, desk_only);
  auto refused = move(as(kClient, Role::kClient), intake, 0, "2030-01-15T14:00:00Z");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kPermissionDenied);
  EXPECT_EQ(reload(intake, 0).start_time(), "2030-01-14T14:00:00Z");
}

TEST_F(SeriesMoveTest, BadInputNamesTheField) {
  auto s = series("2030-01-08T14:00:00Z", 2);
  auto r = move(as(kDesk, Role::kFrontDesk), s, 0, "2030-01-09T15:00:00Z", "sometimes");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "on_conflict");
  auto off_hours = move(as(kDesk, Role::kFrontDesk), s, 0, "2030-01-09T03:00:00Z");
  ASSERT_FALSE(off_hours.ok());
  EXPECT_EQ(off_hours.error().field, "new_start_time");
  pb::RescheduleSeriesRequest req;
  req.set_series_id(s.series_id());
  req.set_from_appointment_id("nope");
  req.set_new_start_time("2030-01-09T15:00:00Z");
  auto unknown = run(service_->reschedule_series(req, as(kDesk, Role::kFrontDesk)));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().field, "from_appointment_id");
}

}  // namespace
}  // namespace alliance::scheduling
