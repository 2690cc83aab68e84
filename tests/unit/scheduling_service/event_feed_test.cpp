// The durable event feed: the service behind a real RpcServer (mutual TLS with the
// development certificates) over real SQLite and a real redis-server. The reminders
// service reads the outbox with ListEventsSince and may call nothing else; the
// gateway may call everything else but not the feed. Events outlive Redis losing its
// data, page without gaps, and the prune removes only old events already published.
#include <set>

#include "alliance/net/rpc_client.hpp"
#include "alliance/net/rpc_methods.hpp"
#include "alliance/net/tls.hpp"
#include "alliance/push/v1/push.pb.h"
#include "alliance/redis/push.hpp"
#include "alliance/redis/subscriber.hpp"
#include "dev_certs.hpp"
#include "scheduling_rpc.hpp"
#include "service_fixture.hpp"

namespace alliance::scheduling {
namespace {

// Built once per process and never destroyed: they outlive every connection the
// fixture's io_context may still hold when it is torn down.
asio::ssl::context& server_tls() {
  static auto* ctx = new asio::ssl::context(net::make_rpc_server_context(
      {testing::dev_certs().ca(), testing::dev_certs().cert("scheduling"), testing::dev_certs().key("scheduling")}));
  return *ctx;
}
asio::ssl::context& client_tls(const std::string& peer) {
  static auto* contexts = new std::map<std::string, asio::ssl::context>();
  auto it = contexts->find(peer);
  if (it == contexts->end()) {
    const auto& c = testing::dev_certs();
    it = contexts->emplace(peer, net::make_rpc_client_context({c.ca(), c.cert(peer), c.key(peer)})).first;
  }
  return it->second;
}

class EventFeedTest : public SchedulingServiceTest {
 protected:
  void SetUp() override {
    SchedulingServiceTest::SetUp();
    if (HasFatalFailure()) return;
    net::RpcServer::Options so;
    so.service_name = "scheduling";
    server_ = std::make_unique<net::RpcServer>(io_.get_executor(), server_tls(), so);
    register_scheduling_rpc(*server_, *service_, net::PeerSet{"gateway"});  // as the default allowed_peers
    port_ = server_->listen();
  }

  void TearDown() override {
    clients_.clear();
    if (server_) server_->stop();
    io_.poll();
    server_.reset();
    SchedulingServiceTest::TearDown();
  }

  // A call over TLS presenting `peer`'s certificate, for `caller` (empty: the peer
  // calls as itself).
  template <class Resp, class Req>
  Result<Resp> call_as(const std::string& peer, const std::string& method, const Req& req,
                       const rpc::v1::Caller& caller = {}) {
    auto& client = clients_[peer];
    if (!client)
      client = std::make_unique<net::RpcClient>(
          io_.get_executor(), client_tls(peer),
          net::RpcClient::Options{.host = "127.0.0.1", .port = port_, .server_name = "scheduling"});
    const std::string full = std::string(kMethodPrefix) + method;
    return run(client->call<Resp>(full, req, caller, std::chrono::milliseconds(10s)));
  }

  Result<pb::ListEventsSinceResponse> feed(std::int64_t after_seq = 0, int limit = 0) {
    pb::ListEventsSinceRequest req;
    req.set_after_seq(after_seq);
    req.set_limit(limit);
    return call_as<pb::ListEventsSinceResponse>("reminders", "ListEventsSince", req);
  }

  static rpc::v1::Caller desk() {
    rpc::v1::Caller c;
    c.set_user_id(kDesk);
    c.set_practice_id(kPractice);
    c.set_role("front_desk");
    return c;
  }

  // `n` appointments booked in one transaction straight through the store (one
  // "booked" event each), an hour apart from Monday 2030-01-14: a big outbox fast.
  void write_events(int n) {
    BookingRequest bulk;
    for (int i = 0; i < n; ++i) {
      Appointment a;
      a.id = new_id();
      a.practice_id = kPractice;
      a.therapist_id = kTherapist;
      a.client_id = kClient;
      a.type_id = type_;
      a.start = at("2030-01-14T00:00:00Z") + std::chrono::hours(next_hour_++);
      a.end = a.start + std::chrono::minutes(50);
      a.version = 1;
      a.created_by = a.updated_by = kDesk;
      a.time_zone = "America/New_York";
      a.type_name = "Individual therapy";
      a.modality = "telehealth";
      bulk.candidates.push_back(std::move(a));
    }
    bulk.idempotency = IdempotencyRecord{kDesk, new_id(), "bulk", "", "", ""};
    auto saved = run(store_->book(std::move(bulk), kDesk));
    ASSERT_TRUE(saved.ok()) << saved.error().message;
  }

  // Stops the fixture's publisher and, with `options`, starts another on the same
  // store and stream (the service notifies whichever runs).
  void replace_publisher(std::optional<EventPublisher::Options> options) {
    publisher_->stop();
    ASSERT_TRUE(pump_until([&] { return publisher_done_; }, 2s));
    if (!options) return;
    options->stream = stream_;
    publisher_done_ = false;
    publisher_ = std::make_unique<EventPublisher>(io_.get_executor(), *store_, *redis_, *options);
    asio::co_spawn(io_, publisher_->run(), [this](std::exception_ptr e) {
      publisher_done_ = true;
      if (e) ADD_FAILURE() << "publisher threw";
    });
  }

  std::unique_ptr<net::RpcServer> server_;
  std::uint16_t port_ = 0;
  std::map<std::string, std::unique_ptr<net::RpcClient>> clients_;
  int next_hour_ = 0;
};

TEST_F(EventFeedTest, RemindersMayReadOnlyTheFeedAndTheGatewayEverythingButIt) {
  auto booked = book(as(kDesk, Role::kFrontDesk), "2030-01-08T14:00:00Z");
  ASSERT_TRUE(booked.ok()) << booked.error().message;
  const std::string id = booked->appointment().id();

  auto events = feed();
  ASSERT_TRUE(events.ok()) << events.error().message;
  ASSERT_EQ(events->events_size(), 1);
  EXPECT_EQ(events->events(0).event().type(), "booked");
  EXPECT_EQ(events->events(0).event().appointment().id(), id);

  // Even asserting a front-desk user, the reminders certificate reads and books nothing.
  pb::GetAppointmentRequest get_req;
  get_req.set_appointment_id(id);
  auto read = call_as<pb::AppointmentResponse>("reminders", "GetAppointment", get_req, desk());
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, Code::kPermissionDenied);
  pb::BookAppointmentRequest book_req;
  book_req.set_idempotency_key(new_id());
  book_req.set_therapist_id(kTherapist);
  book_req.set_client_id(kClient);
  book_req.set_type_id(type_);
  book_req.set_start_time("2030-01-09T14:00:00Z");
  auto wrote = call_as<pb::AppointmentResponse>("reminders", "BookAppointment", book_req, desk());
  ASSERT_FALSE(wrote.ok());
  EXPECT_EQ(wrote.error().code, Code::kPermissionDenied);

  // The gateway reads the appointment for the front desk, and sees nothing was booked...
  auto gateway_read = call_as<pb::AppointmentResponse>("gateway", "GetAppointment", get_req, desk());
  ASSERT_TRUE(gateway_read.ok()) << gateway_read.error().message;
  EXPECT_EQ(gateway_read->appointment().id(), id);
  pb::ListAppointmentsRequest list;
  list.set_from("2030-01-07T00:00:00Z");
  list.set_to("2030-02-01T00:00:00Z");
  auto listed = call_as<pb::ListAppointmentsResponse>("gateway", "ListAppointments", list, desk());
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_EQ(listed->appointments_size(), 1);
  // ...but may not read the feed, with or without a user; nor may another service.
  pb::ListEventsSinceRequest all;
  auto gateway_feed = call_as<pb::ListEventsSinceResponse>("gateway", "ListEventsSince", all);
  ASSERT_FALSE(gateway_feed.ok());
  EXPECT_EQ(gateway_feed.error().code, Code::kPermissionDenied);
  auto gateway_feed_for_user = call_as<pb::ListEventsSinceResponse>("gateway", "ListEventsSince", all, desk());
  ASSERT_FALSE(gateway_feed_for_user.ok());
  EXPECT_EQ(gateway_feed_for_user.error().code, Code::kPermissionDenied);
  auto messaging_feed = call_as<pb::ListEventsSinceResponse>("messaging", "ListEventsSince", all);
  ASSERT_FALSE(messaging_feed.ok());
  EXPECT_EQ(messaging_feed.error().code, Code::kPermissionDenied);
}

// A front desk's console hears each change of its practice at once on the staff
// channel: which appointment, when and its status, but never who the client is or
// why it was cancelled.
TEST_F(EventFeedTest, EachChangeIsAnnouncedOnThePracticesStaffChannelWithoutClientOrReason) {
  const std::string channel = redis::staff_push_channel(kPractice);
  std::vector<push::v1::PushFrame> frames;
  redis::Subscriber listener(io_.get_executor(), testing::redis_login(*redis_server_, "gateway"),
                             [&](std::string_view, std::string_view payload) {
                               push::v1::PushFrame f;
                               if (f.ParseFromArray(payload.data(), static_cast<int>(payload.size())))
                                 frames.push_back(std::move(f));
                             });
  listener.start();
  listener.subscribe(channel);
  ASSERT_TRUE(run(listener.wait_subscribed(channel, 5s)));
  auto booked = book(as(kDesk, Role::kFrontDesk), "2030-01-08T14:00:00Z");
  ASSERT_TRUE(booked.ok()) << booked.error().message;
  ASSERT_TRUE(cancel(as(kDesk, Role::kFrontDesk), booked->appointment().id()).ok());
  ASSERT_TRUE(pump_until([&] { return frames.size() >= 2; }, 5s)) << frames.size() << " frames";
  std::vector<std::string> types;
  for (const auto& f : frames) {
    EXPECT_EQ(f.type(), "appointment.changed");
    pb::AppointmentEvent event;
    ASSERT_TRUE(f.body().UnpackTo(&event));
    EXPECT_EQ(f.id(), event.event_id());
    EXPECT_EQ(event.appointment().id(), booked->appointment().id());
    EXPECT_EQ(event.appointment().therapist_id(), kTherapist);
    EXPECT_EQ(event.appointment().start_time(), "2030-01-08T14:00:00Z");
    EXPECT_TRUE(event.appointment().client_id().empty());
    EXPECT_TRUE(event.appointment().cancel_reason().empty());
    EXPECT_EQ(f.SerializeAsString().find("schedule change"), std::string::npos);
    types.push_back(event.type() + "/" + event.appointment().status());
  }
  EXPECT_EQ(types, (std::vector<std::string>{"booked/booked", "cancelled/cancelled"}));
  listener.stop();
}

TEST_F(EventFeedTest, EventsOutliveRedisLosingEverything) {
  for (const char* start : {"2030-01-08T14:00:00Z", "2030-01-08T15:00:00Z", "2030-01-08T16:00:00Z"}) {
    auto r = book(as(kDesk, Role::kFrontDesk), start);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  auto streamed = wait_events(3);
  ASSERT_EQ(streamed.size(), 3u);
  redis_server_->cli({"FLUSHALL"});
  EXPECT_TRUE(events().empty()) << "the stream should be gone";

  auto page = feed();
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->events_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(page->events(i).seq(), i + 1);
    EXPECT_EQ(page->events(i).event().event_id(), streamed[static_cast<std::size_t>(i)].event_id());
  }
  EXPECT_EQ(page->last_seq(), 3);
  EXPECT_EQ(page->oldest_seq(), 1);

  // Later events go on from there.
  ASSERT_TRUE(book(as(kDesk, Role::kFrontDesk), "2030-01-09T14:00:00Z").ok());
  auto next = feed(3);
  ASSERT_TRUE(next.ok()) << next.error().message;
  ASSERT_EQ(next->events_size(), 1);
  EXPECT_EQ(next->events(0).seq(), 4);
  EXPECT_EQ(next->last_seq(), 4);
}

TEST_F(EventFeedTest, PagingIsGapFreeAcross1200Events) {
  write_events(1200);
  // The default page (500) walked to the end.
  std::vector<std::int64_t> seqs;
  std::set<std::string> ids;
  std::vector<int> sizes;
  std::int64_t after = 0;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = feed(after);
    ASSERT_TRUE(page.ok()) << page.error().message;
    EXPECT_EQ(page->last_seq(), 1200);
    EXPECT_EQ(page->oldest_seq(), 1);
    if (page->events_size() == 0) break;
    sizes.push_back(page->events_size());
    for (const auto& e : page->events()) {
      seqs.push_back(e.seq());
      ids.insert(e.event().event_id());
    }
    after = seqs.back();
  }
  EXPECT_EQ(sizes, (std::vector<int>{500, 500, 200}));
  ASSERT_EQ(seqs.size(), 1200u);
  for (std::size_t i = 0; i < seqs.size(); ++i)
    ASSERT_EQ(seqs[i], static_cast<std::int64_t>(i + 1)) << "gap or disorder at position " << i;
  EXPECT_EQ(ids.size(), 1200u);

  // A limit that divides nothing: the same 1200, in order, none twice.
  std::vector<std::int64_t> odd;
  after = 0;
  for (int guard = 0; guard < 100; ++guard) {
    auto page = feed(after, 37);
    ASSERT_TRUE(page.ok()) << page.error().message;
    ASSERT_LE(page->events_size(), 37);
    if (page->events_size() == 0) break;
    for (const auto& e : page->events()) odd.push_back(e.seq());
    after = odd.back();
  }
  EXPECT_EQ(odd, seqs);

  // A cursor in the middle with the largest page; the end leads straight on to new events.
  auto middle = feed(700, 1000);
  ASSERT_TRUE(middle.ok()) << middle.error().message;
  ASSERT_EQ(middle->events_size(), 500);
  EXPECT_EQ(middle->events(0).seq(), 701);
  EXPECT_EQ(middle->events(499).seq(), 1200);
  write_events(1);
  auto fresh = feed(1200);
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  ASSERT_EQ(fresh->events_size(), 1);
  EXPECT_EQ(fresh->events(0).seq(), 1201);
  EXPECT_EQ(fresh->last_seq(), 1201);
}

TEST_F(EventFeedTest, BadLimitOrAfterSeqIsRefusedNamingTheField) {
  write_events(3);
  for (int limit : {-1, 1001}) {
    auto bad = feed(0, limit);
    ASSERT_FALSE(bad.ok()) << "limit " << limit;
    EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
    EXPECT_EQ(bad.error().field, "limit");
  }
  auto negative = feed(-1);
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().code, Code::kInvalidArgument);
  EXPECT_EQ(negative.error().field, "after_seq");
  auto one = feed(0, 1);
  ASSERT_TRUE(one.ok()) << one.error().message;
  ASSERT_EQ(one->events_size(), 1);
  EXPECT_EQ(one->events(0).seq(), 1);
  auto most = feed(0, 1000);
  ASSERT_TRUE(most.ok()) << most.error().message;
  EXPECT_EQ(most->events_size(), 3);
}

TEST_F(EventFeedTest, PruneDeletesOldPublishedEventsButNeverUnpublishedOnes) {
  write_events(3);
  ASSERT_TRUE(pump_until([&] { return publisher_->published() >= 3; }, 5s));
  replace_publisher(std::nullopt);  // from here on nothing is published (as with Redis down)
  write_events(2);

  const std::int64_t now = now_unix_ms();
  auto young = run(store_->prune_events(now - 3'600'000, 2));
  ASSERT_TRUE(young.ok()) << young.error().message;
  EXPECT_EQ(*young, 0) << "nothing is older than the retention yet";
  // Everything is older than a cutoff an hour ahead: the three published go, in
  // batches, and the two unpublished stay.
  std::vector<std::int64_t> batches;
  for (int i = 0; i < 3; ++i) {
    auto deleted = run(store_->prune_events(now + 3'600'000, 2));
    ASSERT_TRUE(deleted.ok()) << deleted.error().message;
    batches.push_back(*deleted);
  }
  EXPECT_EQ(batches, (std::vector<std::int64_t>{2, 1, 0}));
  auto kept = feed();
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  ASSERT_EQ(kept->events_size(), 2);
  EXPECT_EQ(kept->events(0).seq(), 4);
  EXPECT_EQ(kept->events(1).seq(), 5);
  EXPECT_EQ(kept->oldest_seq(), 4);
  EXPECT_EQ(kept->last_seq(), 5);

  // Once published they may go too; the sequence goes on and never reuses a number.
  EventPublisher::Options po;
  po.poll_interval = 50ms;
  replace_publisher(po);
  ASSERT_TRUE(pump_until([&] { return publisher_->published() >= 2; }, 5s));
  auto rest = run(store_->prune_events(now + 3'600'000, 100));
  ASSERT_TRUE(rest.ok()) << rest.error().message;
  EXPECT_EQ(*rest, 2);
  auto empty = feed();
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(empty->events_size(), 0);
  EXPECT_EQ(empty->oldest_seq(), 0);
  EXPECT_EQ(empty->last_seq(), 5);
  write_events(1);
  auto after = feed(5);
  ASSERT_TRUE(after.ok()) << after.error().message;
  ASSERT_EQ(after->events_size(), 1);
  EXPECT_EQ(after->events(0).seq(), 6);
  EXPECT_EQ(after->oldest_seq(), 6);
}

TEST_F(EventFeedTest, ThePublisherPrunesPastTheRetentionOnItsOwn) {
  // Its clock is 31 days ahead: every event is past the 30-day retention once published.
  EventPublisher::Options po;
  po.poll_interval = 20ms;
  po.prune_interval = 20ms;
  po.now_ms = [] { return now_unix_ms() + std::int64_t{31} * 24 * 3'600'000; };
  replace_publisher(po);
  write_events(4);
  std::int64_t left = -1, last = 0;
  ASSERT_TRUE(pump_until(
      [&] {
        auto page = feed();
        if (!page.ok()) return false;
        left = page->events_size();
        last = page->last_seq();
        return left == 0 && publisher_->pruned() == 4;
      },
      5s))
      << left << " events left";
  EXPECT_EQ(publisher_->published(), 4u);
  EXPECT_EQ(last, 4);
  EXPECT_EQ(wait_events(4).size(), 4u) << "the stream still had its wake-ups";
}

}  // namespace
}  // namespace alliance::scheduling
