// Dispatcher over a real ReminderStore and a real redis-server: the test listens on
// the client's push channel (push:user:<id>) as a gateway does, and sees a due
// reminder published at its instant, or never if it was cancelled first. A policy
// of one 5-minute offset without quiet hours lets a booking 5 min 300 ms ahead
// plan a reminder due in 300 ms through the normal planning path.
#include "alliance/push/v1/push.pb.h"
#include "alliance/redis/client.hpp"
#include "alliance/redis/push.hpp"
#include "alliance/redis/subscriber.hpp"
#include "dispatcher.hpp"
#include "redis_login.hpp"
#include "redis_server.hpp"
#include "reminder_render.hpp"
#include "reminders_fixture.hpp"

namespace alliance::reminders {
namespace {

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class DispatcherTest : public ReminderStoreTest {
 protected:
  static void SetUpTestSuite() { redis_server_ = new testing::RedisServer(); }
  static void TearDownTestSuite() {
    delete redis_server_;
    redis_server_ = nullptr;
  }

  void SetUp() override {
    ReminderStoreTest::SetUp();
    people_.add(kClient, kPractice, "Jo", "UTC");
    people_.add(kTherapist, kPractice, "Dr Kim");
    people_.name_practice(kPractice, "Riverside Therapy");
    const auto ro = testing::redis_login(*redis_server_, "admin");
    redis_ = std::make_unique<redis::Client>(io_.get_executor(), ro);
    redis_->start();
    ASSERT_TRUE(run(redis_->wait_connected(2s)));
    subscriber_ = std::make_unique<redis::Subscriber>(io_.get_executor(), ro,
                                                      [this](std::string_view, std::string_view payload) {
                                                        received_.push_back({std::string(payload), now_us()});
                                                      });
    subscriber_->start();
    const auto channel = redis::push_channel(kClient);
    subscriber_->subscribe(channel);
    ASSERT_TRUE(run(subscriber_->wait_subscribed(channel, 2s)));
    const auto now = now_unix_ms();
    ASSERT_TRUE(run(store_->set_policy(PolicyRow{kPractice, policy({5}), kAdmin, now}, now)).ok());
  }

  void TearDown() override {
    if (dispatcher_) {
      dispatcher_->stop();
      EXPECT_TRUE(pump_until([&] { return dispatcher_done_; }, 2s));
    }
    subscriber_->stop();
    redis_->stop();
    io_.poll();
    dispatcher_.reset();
    subscriber_.reset();
    redis_.reset();
    ReminderStoreTest::TearDown();
  }

  void start_dispatcher() {
    Dispatcher::Options o;
    o.instance = "dispatcher-test";
    o.lease = 1000ms;
    o.lookahead = 2000ms;
    o.rescan = 5000ms;
    dispatcher_ = std::make_unique<Dispatcher>(io_.get_executor(), *store_, people_, *redis_, o);
    asio::co_spawn(io_, dispatcher_->run(), [this](std::exception_ptr e) {
      dispatcher_done_ = true;
      if (e) ADD_FAILURE() << "the dispatcher threw";
    });
  }

  // Books appt-1 so that its one reminder is due at `due_ms`; that reminder's id.
  std::string book_due_at(std::int64_t due_ms) {
    apply_one(appointment("appt-1", 1, "booked", due_ms + 5 * kMinuteMs), now_unix_ms());
    auto rows = reminders_of("appt-1");
    EXPECT_EQ(rows.size(), 1u);
    if (rows.empty()) return {};
    EXPECT_EQ(rows[0].due_ms, due_ms);
    return rows[0].id;
  }

  // Checks that the received frame is `reminder_id`'s "reminder.due" as the client sees it.
  void expect_due_frame(const std::string& payload, const std::string& reminder_id) {
    push::v1::PushFrame frame;
    ASSERT_TRUE(frame.ParseFromString(payload));
    EXPECT_EQ(frame.id(), reminder_id) << "clients de-duplicate by the frame id";
    EXPECT_EQ(frame.type(), "reminder.due");
    v1::ReminderDue due;
    ASSERT_TRUE(frame.body().UnpackTo(&due));
    EXPECT_EQ(due.reminder_id(), reminder_id);
    EXPECT_EQ(due.appointment_id(), "appt-1");
    EXPECT_EQ(due.practice_name(), "Riverside Therapy");
    EXPECT_EQ(due.offset_minutes(), 5);
    EXPECT_NE(due.text().find("Riverside Therapy"), std::string::npos) << due.text();
  }

  struct Received {
    std::string payload;
    std::int64_t at_us = 0;
  };
  static inline testing::RedisServer* redis_server_ = nullptr;
  FakePeople people_;
  std::unique_ptr<redis::Client> redis_;
  std::unique_ptr<redis::Subscriber> subscriber_;
  std::unique_ptr<Dispatcher> dispatcher_;
  bool dispatcher_done_ = false;
  std::vector<Received> received_;
};

TEST_F(DispatcherTest, ADueReminderIsPublishedAtItsInstantOnTheClientsChannel) {
  const auto due = now_unix_ms() + 300;
  const auto id = book_due_at(due);
  ASSERT_FALSE(id.empty());
  start_dispatcher();
  ASSERT_TRUE(pump_until([&] { return !received_.empty(); }, 3s)) << "never published";
  const auto late_ms = static_cast<double>(received_[0].at_us - due * 1000) / 1000.0;
  EXPECT_GE(late_ms, 0.0) << "published before its instant";
  EXPECT_LT(late_ms, 50.0) << "published " << late_ms << " ms after its instant";
  std::cerr << "[ reminder published " << late_ms << " ms after its instant ]\n";
  expect_due_frame(received_[0].payload, id);

  // Marked sent and its push recorded; not published again.
  EXPECT_TRUE(pump_until([&] { return reminder(id).deliveries == 1; }, 2s));
  const auto row = reminder(id);
  EXPECT_EQ(row.state, "sent");
  EXPECT_GE(row.sent_ms, due);
  EXPECT_FALSE(pump_until([&] { return received_.size() > 1; }, 300ms)) << "published twice";
  EXPECT_EQ(dispatcher_->stats().sent, 1u);
}

TEST_F(DispatcherTest, AReminderCancelledBeforeItsInstantIsNeverPublished) {
  const auto due = now_unix_ms() + 800;
  const auto id = book_due_at(due);
  ASSERT_FALSE(id.empty());
  start_dispatcher();
  // Leased and armed ahead of its instant (lookahead), then the appointment is cancelled.
  ASSERT_TRUE(pump_until([&] { return dispatcher_->armed() == 1; }, 2s));
  apply_one(appointment("appt-1", 2, "cancelled", due + 5 * kMinuteMs), now_unix_ms());
  ASSERT_LT(now_unix_ms(), due) << "the machine was too slow to cancel before the instant";
  // At its instant the dispatcher finds it no longer its to send.
  ASSERT_TRUE(pump_until([&] { return dispatcher_->stats().lost == 1; }, 3s));
  EXPECT_FALSE(pump_until([&] { return !received_.empty(); }, 200ms)) << "a cancelled reminder was pushed";
  EXPECT_EQ(dispatcher_->stats().sent, 0u);
  const auto row = reminder(id);
  EXPECT_EQ(row.state, "cancelled");
  EXPECT_EQ(row.sent_ms, 0);
  EXPECT_EQ(row.deliveries, 0);
}

TEST_F(DispatcherTest, WokenForANewPlanItFiresThatReminderOnTime) {
  start_dispatcher();
  // Its first scan finds nothing: it sleeps until its next rescan, 5 s away.
  pump_until([] { return false; }, 200ms);
  ASSERT_EQ(dispatcher_->armed(), 0u);
  const auto due = now_unix_ms() + 300;
  const auto id = book_due_at(due);
  ASSERT_FALSE(id.empty());
  dispatcher_->wake();  // what the event feed does after applying a batch
  ASSERT_TRUE(pump_until([&] { return !received_.empty(); }, 3s)) << "never published";
  const auto late_ms = static_cast<double>(received_[0].at_us - due * 1000) / 1000.0;
  EXPECT_GE(late_ms, 0.0);
  EXPECT_LT(late_ms, 50.0) << "published " << late_ms << " ms after its instant";
  expect_due_frame(received_[0].payload, id);
}

}  // namespace
}  // namespace alliance::reminders
