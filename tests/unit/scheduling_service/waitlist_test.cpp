// The waitlist and the calendar feed built directly (no RPC) over a real SQLite
// file in a temp dir and a real redis-server (offers are pushed on the client's
// channel), with an in-memory user directory. The rules' "now" is pinned to Monday
// 2030-01-07 12:00Z (07:00 in New York, UTC-5); holds expire by the wall clock, so
// the expiry tests use holds of a fraction of a second and wait on conditions.
#include <gtest/gtest.h>

#include "alliance/core/ids.hpp"
#include "alliance/redis/client.hpp"
#include "alliance/redis/push.hpp"
#include "alliance/redis/subscriber.hpp"
#include "calendar_feed.hpp"
#include "io_test_support.hpp"
#include "process.hpp"
#include "redis_login.hpp"
#include "redis_server.hpp"
#include "scheduling_service.hpp"
#include "waitlist.hpp"

namespace alliance::scheduling {
namespace {

constexpr const char* kPractice = "practice-1";
constexpr const char* kAdmin = "admin-1";
constexpr const char* kDesk = "desk-1";
constexpr const char* kTherapist = "therapist-1";
constexpr const char* kTherapist2 = "therapist-2";
constexpr const char* kAnn = "client-ann";  // the clients, in the order they usually join
constexpr const char* kBob = "client-bob";
constexpr const char* kCat = "client-cat";
constexpr const char* kDan = "client-dan";  // holds the appointment that gets cancelled
// Tuesday 2030-01-08 09:00 in New York.
constexpr const char* kSlot = "2030-01-08T14:00:00Z";

class WaitlistTest : public IoTest {
 protected:
  static void SetUpTestSuite() { redis_server_ = new testing::RedisServer(); }
  static void TearDownTestSuite() {
    delete redis_server_;
    redis_server_ = nullptr;
  }

  void SetUp() override {
    for (auto* c : {kAnn, kBob, kCat, kDan}) {
      directory_.add(c, kPractice, Role::kClient);
      directory_.link(c, kTherapist);
    }
    directory_.add(kAdmin, kPractice, Role::kAdmin);
    directory_.add(kDesk, kPractice, Role::kFrontDesk);
    directory_.add(kTherapist, kPractice, Role::kTherapist);
    directory_.add(kTherapist2, kPractice, Role::kTherapist);
    redis_ = std::make_unique<redis::Client>(io_.get_executor(),
                                             testing::redis_login(*redis_server_, "admin"));
    redis_->start();
    ASSERT_TRUE(run(redis_->wait_connected(2s)));
    start(15min);
    pb::SetAvailabilityRequest req;
    req.set_therapist_id(kTherapist);
    req.set_time_zone("America/New_York");
    for (int d = 1; d <= 5; ++d) {
      auto* w = req.add_weekly();
      w->set_weekday(d);
      w->set_start("09:00");
      w->set_end("17:00");
    }
    auto a = run(service_->set_availability(req, as(kAdmin, Role::kAdmin)));
    ASSERT_TRUE(a.ok()) << a.error().message;
    pb::CreateAppointmentTypeRequest type;
    type.set_name("Individual therapy");
    type.set_duration_minutes(50);
    type.set_modality("telehealth");
    type.set_buffer_after_minutes(10);
    type.set_step_minutes(30);
    type.set_client_self_booking(true);
    auto t = run(service_->create_appointment_type(type, as(kAdmin, Role::kAdmin)));
    ASSERT_TRUE(t.ok()) << t.error().message;
    type_ = t->type().id();
  }

  void TearDown() override {
    shut_down();
    redis_->stop();
    io_.poll();
  }

  // Opens the database and builds the service, waitlist and feed as main.cpp wires them.
  void start(std::chrono::milliseconds hold) {
    auto store = SchedulingStore::open(dir_.path() / "scheduling.db", store::KekPair{std::string(32, 'k')});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    WaitlistOptions wo;
    wo.hold = hold;
    wo.clock = [this] { return now_; };
    waitlist_ = std::make_unique<Waitlist>(io_.get_executor(), *store_, directory_, redis_.get(), wo);
    SchedulingOptions so;
    so.clock = [this] { return now_; };
    so.slot_freed = [this](FreedSlot s) { waitlist_->slot_freed(std::move(s)); };
    service_ = std::make_unique<SchedulingService>(*store_, directory_, so);
    feed_ = std::make_unique<CalendarFeed>(*store_, directory_, [this] { return now_; });
    loop_done_ = false;
    asio::co_spawn(io_, waitlist_->run(), [this](std::exception_ptr e) {
      loop_done_ = true;
      if (e) ADD_FAILURE() << "waitlist loop threw";
    });
  }

  // Stops everything and closes the database, as a process exit would.
  void shut_down() {
    if (!waitlist_) return;
    waitlist_->stop();
    pump_until([&] { return loop_done_; }, 2s);
    io_.poll();
    service_.reset();
    feed_.reset();
    waitlist_.reset();
    store_.reset();
  }

  static net::CallContext client(const std::string& id) { return as(id, Role::kClient); }

  // The client joins for Tuesday..Friday of that week; `weekdays` empty = any day.
  std::string join(const std::string& who, std::vector<int> weekdays = {}) {
    pb::JoinWaitlistRequest req;
    req.set_therapist_id(kTherapist);
    req.set_type_id(type_);
    req.set_from_date("2030-01-08");
    req.set_to_date("2030-01-11");
    if (!weekdays.empty()) {
      auto* w = req.add_preferred();
      for (int d : weekdays) w->add_weekdays(d);
      w->set_start("08:00");
      w->set_end("12:00");
    }
    auto r = run(waitlist_->join(req, client(who)));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r->entry().id() : "";
  }

  Result<pb::AppointmentResponse> book(const std::string& for_client, const std::string& start = kSlot) {
    pb::BookAppointmentRequest req;
    req.set_idempotency_key(new_id());
    req.set_therapist_id(kTherapist);
    req.set_client_id(for_client);
    req.set_type_id(type_);
    req.set_start_time(start);
    return run(service_->book_appointment(req, as(kDesk, Role::kFrontDesk)));
  }

  // Dan's appointment at kSlot, cancelled by the front desk: the time the waitlist offers.
  void free_the_slot() {
    auto booked = book(kDan);
    ASSERT_TRUE(booked.ok()) << booked.error().message;
    pb::CancelAppointmentRequest req;
    req.set_appointment_id(booked->appointment().id());
    req.set_reason("moved away");
    auto cancelled = run(service_->cancel_appointment(req, as(kDesk, Role::kFrontDesk)));
    ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  }

  std::vector<pb::WaitlistOffer> offers(const std::string& who, bool include_closed = false) {
    pb::ListWaitlistOffersRequest req;
    req.set_include_closed(include_closed);
    auto r = run(waitlist_->list_offers(req, client(who)));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? std::vector<pb::WaitlistOffer>(r->offers().begin(), r->offers().end())
                  : std::vector<pb::WaitlistOffer>{};
  }
  // Waits until `who` holds an open offer; returns it.
  std::optional<pb::WaitlistOffer> wait_offer(const std::string& who, std::chrono::milliseconds timeout = 3s) {
    std::vector<pb::WaitlistOffer> got;
    pump_until(
        [&] {
          got = offers(who);
          return !got.empty();
        },
        timeout);
    if (got.empty()) return std::nullopt;
    return got.front();
  }

  Result<pb::WaitlistOfferResponse> accept(const std::string& who, const std::string& offer_id) {
    pb::AcceptWaitlistOfferRequest req;
    req.set_offer_id(offer_id);
    return run(waitlist_->accept_offer(req, client(who)));
  }

  static inline testing::RedisServer* redis_server_ = nullptr;
  testing::TempDir dir_;
  Instant now_ = *parse_instant("2030-01-07T12:00:00Z", "t");
  FakeDirectory directory_;
  std::unique_ptr<redis::Client> redis_;
  std::unique_ptr<SchedulingStore> store_;
  std::unique_ptr<Waitlist> waitlist_;
  std::unique_ptr<SchedulingService> service_;
  std::unique_ptr<CalendarFeed> feed_;
  bool loop_done_ = true;
  std::string type_;
  std::vector<std::string> pushes_;
};

TEST_F(WaitlistTest, FreedSlotIsOfferedToTheFirstMatchingClientPushedLiveAndHeldAgainstEveryoneElse) {
  redis::Subscriber sub(io_.get_executor(), testing::redis_login(*redis_server_, "admin"),
                        [&](std::string_view, std::string_view payload) { pushes_.emplace_back(payload); });
  sub.start();
  sub.subscribe(redis::push_channel(kBob));
  ASSERT_TRUE(run(sub.wait_subscribed(redis::push_channel(kBob), 3s)));

  join(kAnn, {6});  // first in line, but only Saturdays: no match
  join(kBob);       // first match
  join(kCat);
  free_the_slot();

  auto offer = wait_offer(kBob);
  ASSERT_TRUE(offer) << "Bob got no offer";
  EXPECT_EQ(offer->start_time(), kSlot);
  EXPECT_EQ(offer->local_start(), "2030-01-08T09:00");
  EXPECT_EQ(offer->status(), "held");
  EXPECT_EQ(offer->type_name(), "Individual therapy");
  EXPECT_TRUE(offers(kAnn).empty());
  EXPECT_TRUE(offers(kCat).empty());

  // The same offer arrived live on Bob's channel.
  ASSERT_TRUE(pump_until([&] { return !pushes_.empty(); }, 3s));
  push::v1::PushFrame frame;
  ASSERT_TRUE(frame.ParseFromString(pushes_.front()));
  EXPECT_EQ(frame.type(), "waitlist.offer");
  pb::WaitlistOffer pushed;
  ASSERT_TRUE(frame.body().UnpackTo(&pushed));
  EXPECT_EQ(pushed.id(), offer->id());
  sub.stop();

  // Nobody else can take the held time, and it is gone from the slots others see.
  auto taken = book(kCat);
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, Code::kAlreadyExists);
  EXPECT_EQ(taken.error().field, "start_time");
  EXPECT_NE(taken.error().message.find("held"), std::string::npos) << taken.error().message;
  pb::ListSlotsRequest slots;
  slots.set_therapist_id(kTherapist);
  slots.set_type_id(type_);
  slots.set_from("2030-01-08T00:00:00Z");
  slots.set_to("2030-01-09T00:00:00Z");
  auto open = run(service_->list_slots(slots, client(kCat)));
  ASSERT_TRUE(open.ok());
  ASSERT_GT(open->slots_size(), 0);
  EXPECT_NE(open->slots(0).start_time(), kSlot);

  // Accepting books it for Bob; accepting again answers the same appointment. Bob
  // lives in Berlin: the appointment and its event show his own local start too.
  directory_.set_time_zone(kBob, "Europe/Berlin");
  auto accepted = accept(kBob, offer->id());
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_EQ(accepted->appointment().client_id(), kBob);
  EXPECT_EQ(accepted->appointment().start_time(), kSlot);
  EXPECT_EQ(accepted->appointment().status(), "booked");
  EXPECT_EQ(accepted->appointment().local_start(), "2030-01-08T09:00");
  EXPECT_EQ(accepted->appointment().client_time_zone(), "Europe/Berlin");
  EXPECT_EQ(accepted->appointment().client_local_start(), "2030-01-08T15:00");
  EXPECT_EQ(accepted->appointment().late_cancellation_from(), "2030-01-07T14:00:00Z");
  auto feed = run(service_->list_events_since(pb::ListEventsSinceRequest(), client(kBob)));
  ASSERT_TRUE(feed.ok()) << feed.error().message;
  ASSERT_GT(feed->events_size(), 0);
  const auto& booked_event = feed->events(feed->events_size() - 1).event();
  EXPECT_EQ(booked_event.type(), "booked");
  EXPECT_EQ(booked_event.appointment().id(), accepted->appointment().id());
  EXPECT_EQ(booked_event.appointment().client_local_start(), "2030-01-08T15:00");
  EXPECT_EQ(booked_event.appointment().late_cancellation_from(), "2030-01-07T14:00:00Z");
  EXPECT_EQ(accepted->offer().status(), "accepted");
  EXPECT_FALSE(accepted->replayed());
  auto again = accept(kBob, offer->id());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->appointment().id(), accepted->appointment().id());
  // Bob's entry is done; Cat is still waiting; another client cannot see Bob's offer.
  pb::ListWaitlistRequest list;
  EXPECT_EQ(run(waitlist_->list(list, client(kBob)))->entries_size(), 0);
  EXPECT_EQ(run(waitlist_->list(list, client(kCat)))->entries_size(), 1);
  auto foreign = accept(kCat, offer->id());
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, Code::kNotFound);
}

TEST_F(WaitlistTest, TheFrontDeskCannotPutADeactivatedClientOnAWaitlist) {
  pb::JoinWaitlistRequest req;
  req.set_therapist_id(kTherapist);
  req.set_type_id(type_);
  req.set_client_id(kAnn);
  req.set_from_date("2030-01-08");
  req.set_to_date("2030-01-11");
  directory_.deactivate(kAnn);
  auto refused = run(waitlist_->join(req, as(kDesk, Role::kFrontDesk)));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(refused.error().field, "client_id");
  req.set_client_id(kBob);
  EXPECT_TRUE(run(waitlist_->join(req, as(kDesk, Role::kFrontDesk))).ok());
}

TEST_F(WaitlistTest, DeclineAndAnExpiredHoldPassTheSlotToTheNextClientInJoinOrder) {
  shut_down();
  start(400ms);
  join(kAnn);
  join(kBob);
  join(kCat);
  free_the_slot();
  auto ann = wait_offer(kAnn);
  ASSERT_TRUE(ann);
  pb::DeclineWaitlistOfferRequest decline;
  decline.set_offer_id(ann->id());
  auto declined = run(waitlist_->decline_offer(decline, client(kAnn)));
  ASSERT_TRUE(declined.ok()) << declined.error().message;
  EXPECT_EQ(declined->offer().status(), "declined");

  auto bob = wait_offer(kBob);
  ASSERT_TRUE(bob) << "the declined slot did not reach Bob";
  // Bob does not answer: when his hold runs out, Cat is offered the time.
  auto cat = wait_offer(kCat, 3s);
  ASSERT_TRUE(cat) << "the expired hold did not reach Cat";
  EXPECT_EQ(cat->start_time(), kSlot);
  auto bobs = offers(kBob, true);
  ASSERT_EQ(bobs.size(), 1u);
  EXPECT_EQ(bobs[0].status(), "expired");
  auto late = accept(kBob, bob->id());
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(late.error().field, "offer_id");
  // Ann declined this time once: it is not offered to her again.
  EXPECT_TRUE(offers(kAnn).empty());
}

TEST_F(WaitlistTest, NoMatchingClientMeansNoOfferAndTheTimeStaysOpen) {
  join(kAnn, {3});  // Wednesdays only; the freed time is a Tuesday
  pb::JoinWaitlistRequest late;  // dates after the freed time
  late.set_therapist_id(kTherapist);
  late.set_type_id(type_);
  late.set_from_date("2030-01-09");
  late.set_to_date("2030-01-20");
  ASSERT_TRUE(run(waitlist_->join(late, client(kBob))).ok());
  free_the_slot();
  auto made = run(waitlist_->offer_next(FreedSlot{kPractice, kTherapist, *parse_instant(kSlot, "t"),
                                                  *parse_instant("2030-01-08T14:50:00Z", "t")}));
  EXPECT_FALSE(made);
  EXPECT_TRUE(offers(kAnn).empty());
  EXPECT_TRUE(offers(kBob).empty());
  auto anyone = book(kCat);
  EXPECT_TRUE(anyone.ok()) << anyone.error().message;
}

TEST_F(WaitlistTest, AfterARestartTheHoldStillBlocksAndItsExpiryStillHandsOver) {
  shut_down();
  start(1500ms);
  join(kAnn);
  join(kBob);
  free_the_slot();
  ASSERT_TRUE(wait_offer(kAnn));
  shut_down();  // the process stops with the hold open

  start(1500ms);
  auto blocked = book(kCat);
  ASSERT_FALSE(blocked.ok());
  EXPECT_NE(blocked.error().message.find("held"), std::string::npos) << blocked.error().message;
  auto bob = wait_offer(kBob, 4s);
  ASSERT_TRUE(bob) << "the hold that expired after the restart did not pass on";
  EXPECT_EQ(offers(kAnn, true).at(0).status(), "expired");
}

TEST_F(WaitlistTest, AJoinRetriedWithItsKeyAnswersTheSameEntryAndAddsNoOther) {
  pb::JoinWaitlistRequest req;
  req.set_idempotency_key("join-ann-0001");
  req.set_therapist_id(kTherapist);
  req.set_type_id(type_);
  req.set_from_date("2030-01-08");
  req.set_to_date("2030-01-11");
  auto first = run(waitlist_->join(req, client(kAnn)));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_FALSE(first->replayed());
  auto retry = run(waitlist_->join(req, client(kAnn)));
  ASSERT_TRUE(retry.ok()) << retry.error().message;
  EXPECT_TRUE(retry->replayed());
  EXPECT_EQ(retry->entry().id(), first->entry().id());
  pb::ListWaitlistRequest list;
  EXPECT_EQ(run(waitlist_->list(list, client(kAnn)))->entries_size(), 1) << "the retry joined again";

  auto other = req;
  other.set_to_date("2030-01-12");
  auto reused = run(waitlist_->join(other, client(kAnn)));
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.error().code, Code::kAlreadyExists);
  EXPECT_EQ(reused.error().field, "idempotency_key");
  other.set_idempotency_key("short");
  auto bad = run(waitlist_->join(other, client(kAnn)));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "idempotency_key");
  EXPECT_EQ(run(waitlist_->list(list, client(kAnn)))->entries_size(), 1);
}

TEST_F(WaitlistTest, ClientsOnlyJoinForThemselvesAndBadInputNamesTheField) {
  pb::JoinWaitlistRequest req;
  req.set_therapist_id(kTherapist);
  req.set_type_id(type_);
  req.set_client_id(kBob);
  req.set_from_date("2030-01-08");
  req.set_to_date("2030-01-11");
  auto other = run(waitlist_->join(req, client(kAnn)));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, Code::kPermissionDenied);
  auto desk = run(waitlist_->join(req, as(kDesk, Role::kFrontDesk)));
  ASSERT_TRUE(desk.ok()) << desk.error().message;
  EXPECT_EQ(desk->entry().client_id(), kBob);
  // Ann cannot see or remove Bob's entry; the front desk can.
  pb::LeaveWaitlistRequest leave;
  leave.set_entry_id(desk->entry().id());
  auto hidden = run(waitlist_->leave(leave, client(kAnn)));
  ASSERT_FALSE(hidden.ok());
  EXPECT_EQ(hidden.error().code, Code::kNotFound);
  auto left = run(waitlist_->leave(leave, client(kBob)));
  ASSERT_TRUE(left.ok()) << left.error().message;
  EXPECT_EQ(left->entry().status(), "left");

  req.clear_client_id();
  req.set_to_date("2030-01-01");
  auto backwards = run(waitlist_->join(req, client(kAnn)));
  ASSERT_FALSE(backwards.ok());
  EXPECT_EQ(backwards.error().field, "to_date");
  req.set_to_date("2030-01-11");
  auto* w = req.add_preferred();
  w->set_start("12:00");
  w->set_end("11:00");
  auto window = run(waitlist_->join(req, client(kAnn)));
  ASSERT_FALSE(window.ok());
  EXPECT_EQ(window.error().field, "preferred[0].end");
}

TEST_F(WaitlistTest, CalendarFeedServesOnlyAppointmentAndTypeAndRotationKillsTheOldToken) {
  pb::CancelAppointmentRequest cancel;
  auto booked = book(kDan);
  ASSERT_TRUE(booked.ok()) << booked.error().message;
  pb::RotateCalendarFeedRequest rotate;
  auto first = run(feed_->rotate(rotate, as(kTherapist, Role::kTherapist)));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->token().size(), 43u);  // 32 bytes, base64url
  EXPECT_EQ(first->path(), "/v1/calendars/" + first->token() + ".ics");

  pb::GetCalendarFeedRequest get;
  get.set_feed_token(first->token());
  auto feed = run(feed_->get(get, net::CallContext{}));
  ASSERT_TRUE(feed.ok()) << feed.error().message;
  EXPECT_EQ(feed->content_type().rfind("text/calendar", 0), 0u);
  const auto& body = feed->body();
  EXPECT_NE(body.find("BEGIN:VCALENDAR"), std::string::npos);
  EXPECT_NE(body.find("SUMMARY:Appointment"), std::string::npos);
  EXPECT_NE(body.find("Individual therapy"), std::string::npos);
  EXPECT_NE(body.find(booked->appointment().id()), std::string::npos);
  EXPECT_EQ(body.find(kDan), std::string::npos);
  EXPECT_EQ(body.find(kDesk), std::string::npos);

  // Only the therapist (or an admin) rotates; a rotation kills the old URL.
  auto by_client = run(feed_->rotate(rotate, client(kAnn)));
  ASSERT_FALSE(by_client.ok());
  EXPECT_EQ(by_client.error().code, Code::kPermissionDenied);
  rotate.set_therapist_id(kTherapist);
  auto second = run(feed_->rotate(rotate, as(kAdmin, Role::kAdmin)));
  ASSERT_TRUE(second.ok()) << second.error().message;
  auto old = run(feed_->get(get, net::CallContext{}));
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, Code::kNotFound);
  get.set_feed_token(second->token());
  EXPECT_TRUE(run(feed_->get(get, net::CallContext{})).ok());
  get.set_feed_token("not-a-token");
  EXPECT_EQ(run(feed_->get(get, net::CallContext{})).error().code, Code::kNotFound);
}

}  // namespace
}  // namespace alliance::scheduling
