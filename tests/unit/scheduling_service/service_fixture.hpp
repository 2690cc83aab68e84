#pragma once
// SchedulingServiceTest: the fixture the scheduling service tests share.
// SchedulingService built directly (no RPC) over a real SQLite file in a temp dir,
// a real redis-server for its events, and an in-memory user directory standing in
// for identity. "Now" is pinned to Monday 2030-01-07 12:00Z (07:00 in New York), so
// every date below is hand-checkable: New York is UTC-5 in January.
#include <gtest/gtest.h>

#include "alliance/core/ids.hpp"
#include "alliance/redis/client.hpp"
#include "event_publisher.hpp"
#include "io_test_support.hpp"
#include "process.hpp"
#include "redis_login.hpp"
#include "redis_server.hpp"
#include "scheduling_service.hpp"

namespace alliance::scheduling {
namespace {

class SchedulingServiceTest : public IoTest {
 protected:
  static void SetUpTestSuite() { redis_server_ = new testing::RedisServer(); }
  static void TearDownTestSuite() {
    delete redis_server_;
    redis_server_ = nullptr;
  }

  void SetUp() override {
    now_ = at("2030-01-07T12:00:00Z");
    auto store = SchedulingStore::open(dir_.path() / "scheduling.db", store::KekPair{std::string(32, 'k')});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    auto ro = testing::redis_login(*redis_server_, "admin");
    redis_ = std::make_unique<redis::Client>(io_.get_executor(), ro);
    redis_->start();
    ASSERT_TRUE(run(redis_->wait_connected(2s)));
    stream_ = "scheduling:events:" + new_id();
    EventPublisher::Options po;
    po.stream = stream_;
    po.poll_interval = 50ms;
    publisher_ = std::make_unique<EventPublisher>(io_.get_executor(), *store_, *redis_, po);
    asio::co_spawn(io_, publisher_->run(), [this](std::exception_ptr e) {
      publisher_done_ = true;
      if (e) ADD_FAILURE() << "publisher threw";
    });
    SchedulingOptions so;
    so.clock = [this] { return now_; };
    service_ = std::make_unique<SchedulingService>(*store_, directory_, so, [this] { publisher_->notify(); });

    directory_.add(kAdmin, kPractice, Role::kAdmin);
    directory_.add(kDesk, kPractice, Role::kFrontDesk);
    directory_.add(kTherapist, kPractice, Role::kTherapist);
    directory_.add(kTherapist2, kPractice, Role::kTherapist);
    directory_.add(kClient, kPractice, Role::kClient);
    directory_.add(kClient2, kPractice, Role::kClient);
    directory_.add(kOtherDesk, kOtherPractice, Role::kFrontDesk);
    directory_.link(kClient, kTherapist);

    hours(kTherapist);
    hours(kTherapist2);
    // 50 minutes on a 30-minute grid with a 10-minute buffer after; clients may self-book.
    type_ = make_type("Individual therapy", 50, 0, 10, 30, true);
  }

  void TearDown() override {
    publisher_->stop();
    pump_until([&] { return publisher_done_; }, 2s);
    service_.reset();
    redis_->stop();
    io_.poll();
    publisher_.reset();
    store_.reset();
  }

  // Weekdays 09:00-17:00 New York.
  static pb::SetAvailabilityRequest weekday_hours(const std::string& therapist) {
    pb::SetAvailabilityRequest req;
    req.set_therapist_id(therapist);
    req.set_time_zone("America/New_York");
    for (int d = 1; d <= 5; ++d) {
      auto* w = req.add_weekly();
      w->set_weekday(d);
      w->set_start("09:00");
      w->set_end("17:00");
    }
    return req;
  }

  void hours(const std::string& therapist) {
    auto r = run(service_->set_availability(weekday_hours(therapist), as(kAdmin, Role::kAdmin)));
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  std::string make_type(const std::string& name, int duration, int before, int after, int step, bool self) {
    pb::CreateAppointmentTypeRequest req;
    req.set_name(name);
    req.set_duration_minutes(duration);
    req.set_modality("telehealth");
    req.set_buffer_before_minutes(before);
    req.set_buffer_after_minutes(after);
    req.set_step_minutes(step);
    req.set_client_self_booking(self);
    req.set_booking_horizon_days(60);
    auto r = run(service_->create_appointment_type(req, as(kAdmin, Role::kAdmin)));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r->type().id() : "";
  }

  Result<pb::AppointmentResponse> book(const net::CallContext& who, const std::string& start,
                                       const std::string& client = kClient, const std::string& therapist = kTherapist,
                                       std::string key = "", std::string type = "") {
    pb::BookAppointmentRequest req;
    req.set_idempotency_key(key.empty() ? new_id() : key);
    req.set_therapist_id(therapist);
    req.set_client_id(client);
    req.set_type_id(type.empty() ? type_ : type);
    req.set_start_time(start);
    return run(service_->book_appointment(req, who));
  }

  // A weekly series with kTherapist, refused whole on a conflict.
  pb::BookSeriesRequest series_request(const std::string& key, const std::string& client, const std::string& first,
                                       int count) {
    pb::BookSeriesRequest req;
    req.set_idempotency_key(key);
    req.set_therapist_id(kTherapist);
    req.set_client_id(client);
    req.set_type_id(type_);
    req.set_first_start_time(first);
    req.set_interval_weeks(1);
    req.set_count(count);
    req.set_on_conflict("reject");
    return req;
  }

  Result<pb::AppointmentResponse> get(const net::CallContext& who, const std::string& id) {
    pb::GetAppointmentRequest req;
    req.set_appointment_id(id);
    return run(service_->get_appointment(req, who));
  }

  Result<pb::AppointmentResponse> cancel(const net::CallContext& who, const std::string& id) {
    pb::CancelAppointmentRequest req;
    req.set_appointment_id(id);
    req.set_reason("schedule change");
    return run(service_->cancel_appointment(req, who));
  }

  Result<pb::AppointmentResponse> reschedule(const net::CallContext& who, const std::string& id,
                                             const std::string& start) {
    pb::RescheduleAppointmentRequest req;
    req.set_appointment_id(id);
    req.set_new_start_time(start);
    return run(service_->reschedule_appointment(req, who));
  }

  // The events on this test's stream, decoded.
  std::vector<pb::AppointmentEvent> events() {
    std::vector<std::string> cmd{"XRANGE", stream_, "-", "+"};
    auto reply = run(redis_->command(std::move(cmd)));
    std::vector<pb::AppointmentEvent> out;
    if (!reply || reply->type != redis::Reply::Type::kArray) return out;
    for (const auto& entry : reply->elements) {
      const auto& fields = entry.elements.at(1).elements;
      for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (fields[i].str != "event") continue;
        pb::AppointmentEvent ev;
        EXPECT_TRUE(ev.ParseFromString(fields[i + 1].str));
        out.push_back(std::move(ev));
      }
    }
    return out;
  }
  std::vector<pb::AppointmentEvent> wait_events(std::size_t n) {
    std::vector<pb::AppointmentEvent> got;
    pump_until(
        [&] {
          got = events();
          return got.size() >= n;
        },
        5s);
    return got;
  }

  static constexpr const char* kPractice = "practice-1";
  static constexpr const char* kOtherPractice = "practice-2";
  static constexpr const char* kAdmin = "admin-1";
  static constexpr const char* kDesk = "desk-1";
  static constexpr const char* kTherapist = "therapist-1";
  static constexpr const char* kTherapist2 = "therapist-2";
  static constexpr const char* kClient = "client-1";
  static constexpr const char* kClient2 = "client-2";
  static constexpr const char* kOtherDesk = "desk-9";

  static inline testing::RedisServer* redis_server_ = nullptr;
  testing::TempDir dir_;
  Instant now_{};
  std::unique_ptr<SchedulingStore> store_;
  std::unique_ptr<redis::Client> redis_;
  std::unique_ptr<EventPublisher> publisher_;
  bool publisher_done_ = false;
  FakeDirectory directory_;
  std::unique_ptr<SchedulingService> service_;
  std::string stream_;
  std::string type_;
};

}  // namespace
}  // namespace alliance::scheduling
