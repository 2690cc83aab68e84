// SchedulingService built directly (no RPC) over a real SQLite file in a temp dir,
// a real redis-server for its events, and an in-memory user directory standing in
// for identity. "Now" is pinned to Monday 2030-01-07 12:00Z (07:00 in New York), so
// every date below is hand-checkable: New York is UTC-5 in January.
#include "service_fixture.hpp"

namespace alliance::scheduling {
namespace {

TEST_F(SchedulingServiceTest, FrontDeskBooksForAClientWhoThenSeesItButNobodyElseDoes) {
  // Tuesday 09:00 in New York = 14:00Z.
  auto r = book(as(kDesk, Role::kFrontDesk), "2030-01-08T14:00:00Z");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& a = r->appointment();
  EXPECT_EQ(a.status(), "booked");
  EXPECT_EQ(a.version(), 1);
  EXPECT_EQ(a.end_time(), "2030-01-08T14:50:00Z");
  EXPECT_EQ(a.local_start(), "2030-01-08T09:00");
  EXPECT_EQ(a.utc_offset_minutes(), -300);
  EXPECT_EQ(a.created_by(), kDesk);

  EXPECT_TRUE(get(as(kClient, Role::kClient), a.id()).ok());
  EXPECT_TRUE(get(as(kTherapist, Role::kTherapist), a.id()).ok());
  EXPECT_TRUE(get(as(kAdmin, Role::kAdmin), a.id()).ok());
  // Another client, another therapist, another practice: like a missing id.
  for (auto ctx : {as(kClient2, Role::kClient), as(kTherapist2, Role::kTherapist),
                   as(kOtherDesk, Role::kFrontDesk, kOtherPractice)}) {
    auto hidden = get(ctx, a.id());
    ASSERT_FALSE(hidden.ok());
    EXPECT_EQ(hidden.error().code, Code::kNotFound);
    EXPECT_EQ(hidden.error().field, "appointment_id");
  }
  pb::ListAppointmentsRequest list;
  list.set_from("2030-01-07T00:00:00Z");
  list.set_to("2030-02-01T00:00:00Z");
  EXPECT_EQ(run(service_->list_appointments(list, as(kClient, Role::kClient)))->appointments_size(), 1);
  EXPECT_EQ(run(service_->list_appointments(list, as(kClient2, Role::kClient)))->appointments_size(), 0);
  EXPECT_EQ(run(service_->list_appointments(list, as(kTherapist2, Role::kTherapist)))->appointments_size(), 0);
  EXPECT_EQ(run(service_->list_appointments(list, as(kOtherDesk, Role::kFrontDesk, kOtherPractice)))
                ->appointments_size(),
            0);
  // The booked time no longer appears among the slots.
  pb::ListSlotsRequest slots;
  slots.set_therapist_id(kTherapist);
  slots.set_type_id(type_);
  slots.set_from("2030-01-08T00:00:00Z");
  slots.set_to("2030-01-09T00:00:00Z");
  auto open = run(service_->list_slots(slots, as(kClient, Role::kClient)));
  ASSERT_TRUE(open.ok()) << open.error().message;
  ASSERT_GT(open->slots_size(), 0);
  EXPECT_EQ(open->slots(0).start_time(), "2030-01-08T15:00:00Z");  // 09:00 and 09:30 (buffer) are gone
}

TEST_F(SchedulingServiceTest, ClientSelfBookingOnlyWithCareTeamTherapistAndSelfBookableType) {
  const auto client = as(kClient, Role::kClient);
  auto ok = book(client, "2030-01-08T14:00:00Z", "");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->appointment().client_id(), kClient);

  auto not_team = book(client, "2030-01-08T16:00:00Z", "", kTherapist2);
  ASSERT_FALSE(not_team.ok());
  EXPECT_EQ(not_team.error().code, Code::kPermissionDenied);
  EXPECT_EQ(not_team.error().field, "therapist_id");

  auto staff_only = make_type("Intake", 60, 0, 0, 60, false);
  auto type_refused = book(client, "2030-01-08T16:00:00Z", "", kTherapist, "", staff_only);
  ASSERT_FALSE(type_refused.ok());
  EXPECT_EQ(type_refused.error().code, Code::kPermissionDenied);
  EXPECT_EQ(type_refused.error().field, "type_id");

  auto for_other = book(client, "2030-01-08T16:00:00Z", kClient2);
  ASSERT_FALSE(for_other.ok());
  EXPECT_EQ(for_other.error().field, "client_id");

  // The front desk may book the staff-only type; a client of another practice is unknown.
  EXPECT_TRUE(book(as(kDesk, Role::kFrontDesk), "2030-01-08T16:00:00Z", kClient, kTherapist, "", staff_only).ok());
  directory_.add("client-9", kOtherPractice, Role::kClient);
  auto foreign = book(as(kDesk, Role::kFrontDesk), "2030-01-09T16:00:00Z", "client-9");
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, Code::kNotFound);
  EXPECT_EQ(foreign.error().field, "client_id");
}

TEST_F(SchedulingServiceTest, ATherapistBooksOnlyClientsOfTheirCareTeamUnlessThePracticeAllowsAny) {
  const auto therapist = as(kTherapist, Role::kTherapist);
  // kClient has kTherapist on their care team; kClient2 does not.
  auto mine = book(therapist, "2030-01-08T14:00:00Z", kClient);
  ASSERT_TRUE(mine.ok()) << mine.error().message;
  EXPECT_EQ(mine->appointment().client_id(), kClient);

  // Another client of the practice looks like no client at all, for one booking and a series.
  auto other = book(therapist, "2030-01-08T16:00:00Z", kClient2);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, Code::kNotFound);
  EXPECT_EQ(other.error().field, "client_id");
  EXPECT_EQ(other.error().message, book(therapist, "2030-01-08T16:00:00Z", "no-such-client").error().message);
  auto refused_series =
      run(service_->book_series(series_request("series-not-my-client", kClient2, "2030-01-09T14:00:00Z", 2), therapist));
  ASSERT_FALSE(refused_series.ok());
  EXPECT_EQ(refused_series.error().code, Code::kNotFound);
  EXPECT_EQ(refused_series.error().field, "client_id");
  pb::ListAppointmentsRequest list;
  list.set_from("2030-01-07T00:00:00Z");
  list.set_client_id(kClient2);
  EXPECT_EQ(run(service_->list_appointments(list, as(kDesk, Role::kFrontDesk)))->appointments_size(), 0);

  // The front desk still books anyone in the practice.
  EXPECT_TRUE(book(as(kDesk, Role::kFrontDesk), "2030-01-08T16:00:00Z", kClient2).ok());

  // A practice whose policy lets therapists book any of its clients.
  directory_.let_therapists_book_any_client(kPractice);
  auto allowed = book(therapist, "2030-01-08T18:00:00Z", kClient2);
  ASSERT_TRUE(allowed.ok()) << allowed.error().message;
  EXPECT_EQ(allowed->appointment().client_id(), kClient2);
  // Still only on their own calendar.
  EXPECT_EQ(book(therapist, "2030-01-08T19:00:00Z", kClient2, kTherapist2).error().code, Code::kPermissionDenied);
}

TEST_F(SchedulingServiceTest, NothingNewIsBookedForADeactivatedClientAndTheirAppointmentsStay) {
  const auto desk = as(kDesk, Role::kFrontDesk);
  auto before = book(desk, "2030-01-08T14:00:00Z", kClient2);
  ASSERT_TRUE(before.ok()) << before.error().message;
  directory_.deactivate(kClient2);
  auto refused = book(desk, "2030-01-09T14:00:00Z", kClient2);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(refused.error().field, "client_id");
  auto series = run(service_->book_series(series_request("series-gone", kClient2, "2030-01-10T14:00:00Z", 2), desk));
  ASSERT_FALSE(series.ok());
  EXPECT_EQ(series.error().field, "client_id");
  EXPECT_EQ(get(desk, before->appointment().id())->appointment().status(), "booked");
}

TEST_F(SchedulingServiceTest, IdempotentRetryReturnsTheSameAppointmentAndAReusedKeyIsRefused) {
  const auto desk = as(kDesk, Role::kFrontDesk);
  auto first = book(desk, "2030-01-08T14:00:00Z", kClient, kTherapist, "key-0001-abcdef");
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto retry = book(desk, "2030-01-08T14:00:00Z", kClient, kTherapist, "key-0001-abcdef");
  ASSERT_TRUE(retry.ok()) << retry.error().message;
  EXPECT_EQ(retry->appointment().id(), first->appointment().id());
  EXPECT_TRUE(retry->replayed());
  auto other = book(desk, "2030-01-08T16:00:00Z", kClient, kTherapist, "key-0001-abcdef");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, Code::kAlreadyExists);
  EXPECT_EQ(other.error().field, "idempotency_key");
  // Nothing else was booked, and only one event was published.
  pb::ListAppointmentsRequest list;
  list.set_from("2030-01-07T00:00:00Z");
  EXPECT_EQ(run(service_->list_appointments(list, desk))->appointments_size(), 1);
  EXPECT_EQ(wait_events(1).size(), 1u);
}

TEST_F(SchedulingServiceTest, OverlapAndBufferConflictsAreRefusedSayingWhy) {
  const auto desk = as(kDesk, Role::kFrontDesk);
  ASSERT_TRUE(book(desk, "2030-01-08T14:00:00Z").ok());
  // 09:30 local starts inside the first session's 10-minute buffer (14:50-15:00Z).
  auto clash = book(desk, "2030-01-08T14:30:00Z", kClient2);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code, Code::kAlreadyExists);
  EXPECT_EQ(clash.error().field, "start_time");
  EXPECT_EQ(clash.error().message, "start_time: overlaps another appointment or its buffer");
  // 10:00 local is free: the buffer ends exactly there.
  EXPECT_TRUE(book(desk, "2030-01-08T15:00:00Z", kClient2).ok());
  // Off the 30-minute grid, and outside the hours.
  auto off_grid = book(desk, "2030-01-08T17:10:00Z", kClient2);
  ASSERT_FALSE(off_grid.ok());
  EXPECT_EQ(off_grid.error().field, "start_time");
  auto night = book(desk, "2030-01-09T03:00:00Z", kClient2);
  ASSERT_FALSE(night.ok());
  EXPECT_EQ(night.error().field, "start_time");
}

TEST_F(SchedulingServiceTest, TheDatabaseRefusesAnOverlapEvenWhenCodeSkipsTheCheck) {
  ASSERT_TRUE(book(as(kDesk, Role::kFrontDesk), "2030-01-08T14:00:00Z").ok());
  const auto start = to_unix(at("2030-01-08T14:20:00Z"));
  auto raw_insert = [start](store::Connection& c) -> Status {
    auto& st = c.prepare(
        "INSERT INTO appointments (id, practice_id, therapist_id, client_id, type_id, start_unix, end_unix, "
        "buffer_before_s, buffer_after_s, status, version, created_by, created_unix_ms, updated_by, "
        "updated_unix_ms, time_zone, type_name, modality) "
        "SELECT 'sneaky', practice_id, therapist_id, 'client-2', type_id, ?1, ?1 + 1800, 0, 0, 'booked', 1, "
        "'x', 0, 'x', 0, time_zone, type_name, modality FROM appointments LIMIT 1");
    st.bind(1, start);
    st.step();
    return {};
  };
  Status inserted = run(store_->database().write(std::move(raw_insert)));
  ASSERT_FALSE(inserted.ok());
  EXPECT_NE(inserted.error().message.find("overlaps another appointment"), std::string::npos)
      << inserted.error().message;

  // Moving a second appointment onto the first with a bare UPDATE is refused too.
  auto second = book(as(kDesk, Role::kFrontDesk), "2030-01-08T16:00:00Z", kClient2);
  ASSERT_TRUE(second.ok());
  auto raw_update = [id = second->appointment().id(), start](store::Connection& c) -> Status {
    auto& st = c.prepare("UPDATE appointments SET start_unix = ?2, end_unix = ?2 + 600 WHERE id = ?1");
    st.bind_all(id, start);
    st.step();
    return {};
  };
  Status updated = run(store_->database().write(std::move(raw_update)));
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(get(as(kDesk, Role::kFrontDesk), second->appointment().id())->appointment().start_time(),
            "2030-01-08T16:00:00Z");
}

TEST_F(SchedulingServiceTest, RescheduleIsAtomicTheOldTimeIsFreedOnlyIfTheNewOneIsTaken) {
  const auto desk = as(kDesk, Role::kFrontDesk);
  auto a = book(desk, "2030-01-08T14:00:00Z");
  auto b = book(desk, "2030-01-08T16:00:00Z", kClient2);
  ASSERT_TRUE(a.ok() && b.ok());
  auto refused = reschedule(desk, a->appointment().id(), "2030-01-08T16:00:00Z");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kAlreadyExists);
  EXPECT_EQ(refused.error().field, "new_start_time");
  auto still = get(desk, a->appointment().id());
  EXPECT_EQ(still->appointment().start_time(), "2030-01-08T14:00:00Z");
  EXPECT_EQ(still->appointment().version(), 1);
  // The old time is still held: nobody else can take it.
  EXPECT_FALSE(book(desk, "2030-01-08T14:00:00Z", kClient2).ok());

  auto moved = reschedule(desk, a->appointment().id(), "2030-01-08T18:00:00Z");
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_EQ(moved->appointment().start_time(), "2030-01-08T18:00:00Z");
  EXPECT_EQ(moved->appointment().version(), 2);
  // Now the old time is free.
  EXPECT_TRUE(book(desk, "2030-01-08T14:00:00Z", kClient2).ok());
}

TEST_F(SchedulingServiceTest, ClientCancellationInsideThePolicyWindowIsLateStaffAreNeverBlocked) {
  const auto desk = as(kDesk, Role::kFrontDesk);
  const auto client = as(kClient, Role::kClient);
  auto soon = book(desk, "2030-01-07T20:00:00Z");        // 8 h from now
  auto later = book(desk, "2030-01-09T14:00:00Z");       // 50 h from now
  auto soon2 = book(desk, "2030-01-07T21:00:00Z");       // 9 h from now
  ASSERT_TRUE(soon.ok() && later.ok() && soon2.ok());
  auto late = cancel(client, soon->appointment().id());
  ASSERT_TRUE(late.ok()) << late.error().message;
  EXPECT_TRUE(late->appointment().late_cancellation());
  EXPECT_EQ(late->appointment().status(), "cancelled");
  EXPECT_EQ(late->appointment().cancelled_by(), kClient);
  auto on_time = cancel(client, later->appointment().id());
  ASSERT_TRUE(on_time.ok());
  EXPECT_FALSE(on_time->appointment().late_cancellation());
  auto by_desk = cancel(desk, soon2->appointment().id());
  ASSERT_TRUE(by_desk.ok()) << by_desk.error().message;
  EXPECT_FALSE(by_desk->appointment().late_cancellation());
  // Cancelling twice is refused, and a cancelled slot is free again.
  auto twice = cancel(desk, soon2->appointment().id());
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, Code::kFailedPrecondition);
  EXPECT_TRUE(book(desk, "2030-01-07T20:00:00Z", kClient2).ok());
}

TEST_F(SchedulingServiceTest, AChangeRetriedWithItsKeyChangesNothingMore) {
  const auto desk = as(kDesk, Role::kFrontDesk);
  auto a = book(desk, "2030-01-08T14:00:00Z");
  auto b = book(desk, "2030-01-08T16:00:00Z", kClient2);
  ASSERT_TRUE(a.ok() && b.ok());

  // Sends a request whose answer is lost, then the same again: the second answer.
  auto sent_twice = [](const auto& send) -> Result<pb::AppointmentResponse> {
    auto first = send();
    if (!first.ok()) return first;
    EXPECT_FALSE(first->replayed());
    return send();
  };

  // The front desk moves A, loses the answer and sends the same request again.
  pb::RescheduleAppointmentRequest move;
  move.set_idempotency_key("move-a-0001");
  move.set_appointment_id(a->appointment().id());
  move.set_new_start_time("2030-01-08T18:00:00Z");
  auto moved_again = sent_twice([&] { return run(service_->reschedule_appointment(move, desk)); });
  ASSERT_TRUE(moved_again.ok()) << moved_again.error().message;
  EXPECT_TRUE(moved_again->replayed());
  EXPECT_EQ(moved_again->appointment().start_time(), "2030-01-08T18:00:00Z");
  EXPECT_EQ(moved_again->appointment().version(), 2) << "the retry moved it again";

  // Confirming it (and so completing or marking a no-show) is answered the same way.
  pb::ConfirmAppointmentRequest confirm;
  confirm.set_idempotency_key("confirm-a-0001");
  confirm.set_appointment_id(a->appointment().id());
  auto confirmed_again = sent_twice([&] { return run(service_->confirm_appointment(confirm, desk)); });
  ASSERT_TRUE(confirmed_again.ok()) << confirmed_again.error().message;
  EXPECT_TRUE(confirmed_again->replayed());
  EXPECT_EQ(confirmed_again->appointment().status(), "confirmed");

  // The same for cancelling B: one cancellation, the retry answers it.
  pb::CancelAppointmentRequest cancel;
  cancel.set_idempotency_key("cancel-b-0001");
  cancel.set_appointment_id(b->appointment().id());
  cancel.set_reason("moving away");
  auto cancelled_again = sent_twice([&] { return run(service_->cancel_appointment(cancel, desk)); });
  ASSERT_TRUE(cancelled_again.ok()) << "a lost answer's retry must not be an error: "
                                    << cancelled_again.error().message;
  EXPECT_TRUE(cancelled_again->replayed());
  EXPECT_EQ(cancelled_again->appointment().status(), "cancelled");
  EXPECT_EQ(cancelled_again->appointment().version(), 2);

  auto a_history = run(store_->history(a->appointment().id()));
  auto b_history = run(store_->history(b->appointment().id()));
  ASSERT_TRUE(a_history.ok() && b_history.ok());
  EXPECT_EQ(a_history->size(), 3u) << "booked, rescheduled, confirmed: each once";
  EXPECT_EQ(b_history->size(), 2u) << "booked, cancelled once";

  // The same key for another request is refused and changes nothing.
  cancel.set_reason("another reason");
  auto reused = run(service_->cancel_appointment(cancel, desk));
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.error().code, Code::kAlreadyExists);
  EXPECT_EQ(reused.error().field, "idempotency_key");
  move.set_idempotency_key("bad key");
  auto bad = run(service_->reschedule_appointment(move, desk));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "idempotency_key");
}

TEST_F(SchedulingServiceTest, LifeCycleRulesAndHistoryRecordWhoDidWhat) {
  const auto desk = as(kDesk, Role::kFrontDesk);
  const auto client = as(kClient, Role::kClient);
  const auto therapist = as(kTherapist, Role::kTherapist);
  auto a = book(desk, "2030-01-08T14:00:00Z");
  ASSERT_TRUE(a.ok());
  const auto id = a->appointment().id();
  pb::ConfirmAppointmentRequest confirm;
  confirm.set_appointment_id(id);
  EXPECT_FALSE(run(service_->confirm_appointment(confirm, as(kClient2, Role::kClient))).ok());
  auto confirmed = run(service_->confirm_appointment(confirm, client));
  ASSERT_TRUE(confirmed.ok()) << confirmed.error().message;
  EXPECT_EQ(confirmed->appointment().status(), "confirmed");

  pb::CompleteAppointmentRequest complete;
  complete.set_appointment_id(id);
  auto by_client = run(service_->complete_appointment(complete, client));
  ASSERT_FALSE(by_client.ok());
  EXPECT_EQ(by_client.error().code, Code::kPermissionDenied);
  auto too_early = run(service_->complete_appointment(complete, therapist));
  ASSERT_FALSE(too_early.ok());
  EXPECT_EQ(too_early.error().code, Code::kFailedPrecondition);
  now_ = at("2030-01-08T15:00:00Z");
  auto done = run(service_->complete_appointment(complete, therapist));
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->appointment().status(), "completed");
  EXPECT_EQ(done->appointment().version(), 3);

  auto history = run(store_->history(id));
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].action, "booked");
  EXPECT_EQ((*history)[0].actor_user_id, kDesk);
  EXPECT_EQ((*history)[1].action, "confirmed");
  EXPECT_EQ((*history)[1].actor_user_id, kClient);
  EXPECT_EQ((*history)[2].action, "completed");
  EXPECT_EQ((*history)[2].actor_user_id, kTherapist);
}

TEST_F(SchedulingServiceTest, SeriesSkipsConflictingOccurrencesOrRejectsTheWholeRequest) {
  const auto desk = as(kDesk, Role::kFrontDesk);
  // Week 3 of a weekly Tuesday 09:00 series is already taken.
  ASSERT_TRUE(book(desk, "2030-01-22T14:00:00Z", kClient2).ok());
  pb::BookSeriesRequest req = series_request("series-key-0001", kClient, "2030-01-08T14:00:00Z", 4);
  auto rejected = run(service_->book_series(req, desk));
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().code, Code::kAlreadyExists);
  EXPECT_NE(rejected.error().message.find("occurrence 3"), std::string::npos) << rejected.error().message;
  pb::ListAppointmentsRequest list;
  list.set_from("2030-01-07T00:00:00Z");
  list.set_client_id(kClient);
  EXPECT_EQ(run(service_->list_appointments(list, desk))->appointments_size(), 0);

  req.set_idempotency_key("series-key-0002");
  req.set_on_conflict("skip");
  auto skipped = run(service_->book_series(req, desk));
  ASSERT_TRUE(skipped.ok()) << skipped.error().message;
  EXPECT_EQ(skipped->booked(), 3);
  EXPECT_EQ(skipped->skipped(), 1);
  ASSERT_EQ(skipped->occurrences_size(), 4);
  EXPECT_EQ(skipped->occurrences(2).outcome(), "skipped");
  EXPECT_EQ(skipped->occurrences(2).reason(), "start_time: overlaps another appointment or its buffer");
  EXPECT_EQ(skipped->occurrences(3).appointment().start_time(), "2030-01-29T14:00:00Z");
  EXPECT_EQ(skipped->occurrences(3).appointment().series_id(), skipped->series_id());
  // A retry replays the same answer; cancelling "all future" frees them all.
  auto again = run(service_->book_series(req, desk));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->series_id(), skipped->series_id());
  pb::CancelSeriesRequest cancel_all;
  cancel_all.set_series_id(skipped->series_id());
  cancel_all.set_reason("moving away");
  cancel_all.set_from_appointment_id(skipped->occurrences(1).appointment().id());
  auto cancelled = run(service_->cancel_series(cancel_all, desk));
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_EQ(cancelled->cancelled_size(), 2);  // occurrences 2 and 4; the first stays
  list.set_status("booked");
  EXPECT_EQ(run(service_->list_appointments(list, desk))->appointments_size(), 1);
}

TEST_F(SchedulingServiceTest, EventsArePublishedOncePerChangeWithIncreasingVersionsAndNotForRefusals) {
  const auto desk = as(kDesk, Role::kFrontDesk);
  auto a = book(desk, "2030-01-08T14:00:00Z");
  ASSERT_TRUE(a.ok());
  const auto id = a->appointment().id();
  EXPECT_FALSE(book(desk, "2030-01-08T14:00:00Z", kClient2).ok());  // refused: no event
  pb::ConfirmAppointmentRequest confirm;
  confirm.set_appointment_id(id);
  ASSERT_TRUE(run(service_->confirm_appointment(confirm, as(kClient, Role::kClient))).ok());
  EXPECT_FALSE(reschedule(desk, id, "2030-01-08T14:10:00Z").ok());   // off grid: no event
  ASSERT_TRUE(reschedule(desk, id, "2030-01-08T16:00:00Z").ok());
  ASSERT_TRUE(cancel(desk, id).ok());

  auto got = wait_events(4);
  ASSERT_EQ(got.size(), 4u);
  const char* types[] = {"booked", "confirmed", "rescheduled", "cancelled"};
  std::set<std::string> ids;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].type(), types[i]);
    EXPECT_EQ(got[i].version(), static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(got[i].appointment().id(), id);
    EXPECT_EQ(got[i].appointment().version(), got[i].version());
    ids.insert(got[i].event_id());
  }
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(got[2].previous_start_time(), "2030-01-08T14:00:00Z");
  EXPECT_EQ(got[2].appointment().start_time(), "2030-01-08T16:00:00Z");
  // Nothing more arrives later (the outbox is drained, nothing sent twice).
  pump_until([] { return false; }, 200ms);
  EXPECT_EQ(events().size(), 4u);
}

TEST_F(SchedulingServiceTest, EventsWrittenWhileRedisIsDownArePublishedWhenItReturns) {
  const auto desk = as(kDesk, Role::kFrontDesk);
  redis_server_->stop();
  auto a = book(desk, "2030-01-08T14:00:00Z");
  ASSERT_TRUE(a.ok()) << a.error().message;  // the booking is durable without Redis
  pump_until([] { return false; }, 200ms);
  redis_server_->restart();
  ASSERT_TRUE(pump_until([&] { return redis_->connected(); }, 5s));
  auto got = wait_events(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].appointment().id(), a->appointment().id());
}

TEST_F(SchedulingServiceTest, BadInputNamesTheField) {
  const auto admin = as(kAdmin, Role::kAdmin);
  pb::SetAvailabilityRequest avail;
  avail.set_therapist_id(kTherapist);
  avail.set_time_zone("Mars/Olympus_Mons");
  auto tz = run(service_->set_availability(avail, admin));
  ASSERT_FALSE(tz.ok());
  EXPECT_EQ(tz.error().field, "time_zone");
  avail.set_time_zone("Europe/London");
  auto* w = avail.add_weekly();
  w->set_weekday(1);
  w->set_start("17:00");
  w->set_end("09:00");
  auto backwards = run(service_->set_availability(avail, admin));
  ASSERT_FALSE(backwards.ok());
  EXPECT_EQ(backwards.error().field, "weekly[0].end");
  // A therapist may not set a colleague's hours; a client none at all.
  w->set_start("09:00");
  w->set_end("17:00");
  EXPECT_EQ(run(service_->set_availability(avail, as(kTherapist2, Role::kTherapist))).error().code,
            Code::kPermissionDenied);
  EXPECT_EQ(run(service_->set_availability(avail, as(kClient, Role::kClient))).error().code,
            Code::kPermissionDenied);

  pb::ListSlotsRequest slots;
  slots.set_therapist_id(kTherapist);
  slots.set_type_id(type_);
  slots.set_from("2030-01-08T00:00:00Z");
  slots.set_to("2030-03-08T00:00:00Z");
  auto too_long = run(service_->list_slots(slots, admin));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().field, "to");
  slots.set_to("2030-01-07T00:00:00Z");
  EXPECT_EQ(run(service_->list_slots(slots, admin)).error().field, "to");
  slots.set_from("yesterday");
  EXPECT_EQ(run(service_->list_slots(slots, admin)).error().field, "from");

  auto no_key = book(as(kDesk, Role::kFrontDesk), "2030-01-08T14:00:00Z", kClient, kTherapist, "short");
  EXPECT_EQ(no_key.error().field, "idempotency_key");
  auto far = book(as(kDesk, Role::kFrontDesk), "2031-06-03T14:00:00Z");  // beyond the 60-day horizon
  ASSERT_FALSE(far.ok());
  EXPECT_EQ(far.error().field, "start_time");

  pb::CreateAppointmentTypeRequest type;
  type.set_name("Odd");
  type.set_duration_minutes(3);
  type.set_modality("in_person");
  EXPECT_EQ(run(service_->create_appointment_type(type, admin)).error().field, "duration_minutes");
  type.set_duration_minutes(50);
  type.set_modality("carrier pigeon");
  EXPECT_EQ(run(service_->create_appointment_type(type, admin)).error().field, "modality");
  EXPECT_EQ(run(service_->create_appointment_type(type, as(kDesk, Role::kFrontDesk))).error().code,
            Code::kPermissionDenied);
}

TEST_F(SchedulingServiceTest, NamesAndReasonsCountCharactersNotBytesAndRefuseControlCharacters) {
  const auto admin = as(kAdmin, Role::kAdmin);
  auto named = [&](const std::string& name) {
    pb::CreateAppointmentTypeRequest type;
    type.set_name(name);
    type.set_duration_minutes(50);
    type.set_modality("in_person");
    return run(service_->create_appointment_type(type, admin));
  };
  std::string e_acute;
  for (int i = 0; i < 100; ++i) e_acute += "\xc3\xa9";  // 100 characters, 200 bytes
  EXPECT_TRUE(named(e_acute).ok()) << named(e_acute).error().message;
  auto long_name = named(e_acute + "\xc3\xa9");
  ASSERT_FALSE(long_name.ok());
  EXPECT_EQ(long_name.error().message, "name: at most 100 characters");
  auto control = named("Intake\rATTENDEE:x");
  ASSERT_FALSE(control.ok());
  EXPECT_EQ(control.error().message, "name: must not contain control characters");
}

TEST_F(SchedulingServiceTest, ARetriedTypeCreateWithItsKeyAnswersTheSameType) {
  pb::CreateAppointmentTypeRequest req;
  req.set_name("Couples intake");
  req.set_duration_minutes(80);
  req.set_modality("in_person");
  req.set_idempotency_key("type-couples-01");
  auto first = run(service_->create_appointment_type(req, as(kAdmin, Role::kAdmin)));
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto again = run(service_->create_appointment_type(req, as(kAdmin, Role::kAdmin)));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->type().id(), first->type().id());
  // Without the key the repeat is refused as a taken name; the key with another type too.
  req.clear_idempotency_key();
  auto unkeyed = run(service_->create_appointment_type(req, as(kAdmin, Role::kAdmin)));
  ASSERT_FALSE(unkeyed.ok());
  EXPECT_EQ(unkeyed.error().field, "name");
  req.set_idempotency_key("type-couples-01");
  req.set_duration_minutes(90);
  auto reused = run(service_->create_appointment_type(req, as(kAdmin, Role::kAdmin)));
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.error().field, "idempotency_key");
}

}  // namespace
}  // namespace alliance::scheduling
