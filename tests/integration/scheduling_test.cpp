// Scheduling through the public API with real processes: redis-server, identity,
// scheduling and the gateway, talked to over HTTPS with the client SDK. Dates are
// picked relative to the real clock (slots are searched from tomorrow on), except
// the DST series, which picks the next New York transition that is still ahead.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <boost/json.hpp>
#include <latch>
#include <thread>

#include "alliance/core/ids.hpp"
#include "alliance/redis/client.hpp"
#include "alliance/scheduling/v1/scheduling.pb.h"
#include "redis_login.hpp"
#include "scheduling_practice.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// "2026-11-27T14:00:00Z" + minutes, in the same form ("" if `utc` is not in that form).
std::string plus_minutes(const std::string& utc, std::int64_t minutes) {
  std::tm tm{};
  if (std::sscanf(utc.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec) != 6)
    return "";
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t t = timegm(&tm) + static_cast<std::time_t>(minutes * 60);
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

class Scheduling : public SchedulingPractice {
 protected:
  // Every AppointmentEvent on the stream for `appointment_id`, in stream order.
  std::vector<scheduling::v1::AppointmentEvent> events_for(const std::string& appointment_id) {
    asio::io_context io;
    redis::Client redis(io.get_executor(), alliance::testing::redis_login(sys_->redis(), "admin"));
    redis.start();
    std::vector<scheduling::v1::AppointmentEvent> out;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          if (co_await redis.wait_connected(5s)) {
            std::vector<std::string> cmd{"XRANGE", "scheduling:events", "-", "+"};
            auto reply = co_await redis.command(std::move(cmd));
            if (reply && reply->type == redis::Reply::Type::kArray) {
              for (const auto& entry : reply->elements) {
                const auto& fields = entry.elements.at(1).elements;
                for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
                  scheduling::v1::AppointmentEvent ev;
                  if (fields[i].str == "event" && ev.ParseFromString(fields[i + 1].str) &&
                      ev.appointment().id() == appointment_id)
                    out.push_back(std::move(ev));
                }
              }
            }
          }
          redis.stop();
        },
        asio::detached);
    io.run_for(10s);
    return out;
  }

};

TEST_F(Scheduling, FrontDeskBooksForAClientWhoSeesItAndAnotherClientDoesNot) {
  auto open = slots(therapist_id_);
  ASSERT_FALSE(open.empty());
  auto r = post(*desk_, "/v1/appointments", booking(open[0], client_id_));
  ASSERT_EQ(r.status, 201) << r.body;
  auto a = json::parse(r.body).at("appointment");
  EXPECT_EQ(str(a, "status"), "booked");
  EXPECT_EQ(str(a, "start_time"), open[0]);
  EXPECT_EQ(str(a, "client_id"), client_id_);
  EXPECT_EQ(str(a, "time_zone"), "America/New_York");

  auto seen = client_->get_json("/v1/appointments/" + str(a, "id"));
  ASSERT_TRUE(seen) << seen.error().message;
  EXPECT_EQ(str(seen->at("appointment"), "id"), str(a, "id"));
  auto other = sys_->login(slug_, "sam@" + slug_ + ".example");
  auto hidden = other->get_json("/v1/appointments/" + str(a, "id"));
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().code, Code::kNotFound);
  // The slot is gone from the list.
  auto after = slots(therapist_id_);
  EXPECT_EQ(std::find(after.begin(), after.end(), open[0]), after.end());
}

// A client app asks for four weeks of open times in the compact shape: the runs hold
// exactly the starts the long list holds, and a booking by the front desk, then its
// cancellation, show in the client's very next search (served from scheduling's cache).
TEST_F(Scheduling, CompactSlotRunsHoldTheSameStartsAndShowABookingInTheNextSearch) {
  const std::string from = day_from_now(1), to = day_from_now(29);
  auto runs_now = [&] {
    std::vector<std::string> out;
    auto r = client_->get_json("/v1/therapists/" + therapist_id_ + "/slot-runs?type_id=" + type_id_ +
                               "&from=" + client::url_encode(from) + "&to=" + client::url_encode(to));
    EXPECT_TRUE(r) << r.error().message;
    if (!r) return out;
    EXPECT_EQ(r->at("duration_minutes").as_int64(), 50);
    for (const auto& run : r->at("runs").as_array())
      for (std::int64_t i = 0; i < run.at("count").as_int64(); ++i)
        out.push_back(plus_minutes(str(run, "start_time"), i * run.at("step_minutes").as_int64()));
    return out;
  };
  const auto listed = slots(therapist_id_, from, to);
  ASSERT_FALSE(listed.empty());
  EXPECT_EQ(runs_now(), listed);
  EXPECT_EQ(runs_now(), listed);  // twice: the second from the cache

  auto r = post(*desk_, "/v1/appointments", booking(listed[3], client_id_));
  ASSERT_EQ(r.status, 201) << r.body;
  auto after = runs_now();
  EXPECT_EQ(std::find(after.begin(), after.end(), listed[3]), after.end());
  EXPECT_EQ(after.size(), listed.size() - 1);

  const std::string id = str(json::parse(r.body).at("appointment"), "id");
  ASSERT_TRUE(desk_->post_json("/v1/appointments/" + id + "/cancel", json::value{{"reason", "moved"}}));
  EXPECT_EQ(runs_now(), listed);
}

TEST_F(Scheduling, ClientSelfBooksAndIsRefusedWhereNotAllowed) {
  auto open = slots(therapist_id_);
  ASSERT_GE(open.size(), 3u);
  auto ok = post(*client_, "/v1/appointments", booking(open[0], ""));
  ASSERT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(str(json::parse(ok.body).at("appointment"), "client_id"), client_id_);

  auto staff_only = make_type("Intake", false);
  auto refused_type = post(*client_, "/v1/appointments", booking(open[1], "", new_id(), "", staff_only));
  EXPECT_EQ(refused_type.status, 403) << refused_type.body;
  EXPECT_NE(refused_type.body.find("type_id"), std::string::npos);

  auto refused_team = post(*client_, "/v1/appointments", booking(open[1], "", new_id(), therapist2_id_));
  EXPECT_EQ(refused_team.status, 403) << refused_team.body;
  EXPECT_NE(refused_team.body.find("care team"), std::string::npos);

  auto for_other = post(*client_, "/v1/appointments", booking(open[2], client2_id_));
  EXPECT_EQ(for_other.status, 403) << for_other.body;
}

TEST_F(Scheduling, ATherapistBooksOnlyClientsOfTheirCareTeamUnlessThePracticeAllowsAny) {
  // Kim books Jo, whose care team Kim is on; booking Sam, who is not Kim's client, is
  // answered as if Sam did not exist, alone or as a series, and books nothing, until
  // the practice's policy allows any of its clients.
  auto kim = sys_->login(slug_, "kim@" + slug_ + ".example");
  auto open = slots(therapist_id_);
  ASSERT_GE(open.size(), 3u);
  auto mine = post(*kim, "/v1/appointments", booking(open[0], client_id_));
  ASSERT_EQ(mine.status, 201) << mine.body;

  auto not_mine = post(*kim, "/v1/appointments", booking(open[1], client2_id_));
  EXPECT_EQ(not_mine.status, 404) << not_mine.body;
  auto nobody = post(*kim, "/v1/appointments", booking(open[1], new_id()));
  EXPECT_EQ(nobody.status, 404) << nobody.body;
  // The same answer but for the request's own id.
  auto error_of = [](const std::string& body) {
    auto e = json::parse(body).at("error").as_object();
    e.erase("request_id");
    return e;
  };
  EXPECT_EQ(error_of(not_mine.body), error_of(nobody.body));
  json::value series = {{"idempotency_key", new_id()}, {"therapist_id", therapist_id_}, {"client_id", client2_id_},
                        {"type_id", type_id_},         {"first_start_time", open[2]}, {"interval_weeks", 1},
                        {"count", 2},                  {"on_conflict", "reject"}};
  auto not_mine_series = post(*kim, "/v1/appointment-series", series);
  EXPECT_EQ(not_mine_series.status, 404) << not_mine_series.body;
  auto sams = desk_->get_json("/v1/appointments?client_id=" + client2_id_ +
                              "&from=" + client::url_encode(day_from_now(0)) + "&to=" + client::url_encode(day_from_now(30)));
  ASSERT_TRUE(sams) << sams.error().message;
  EXPECT_EQ(sams->at("appointments").as_array().size(), 0u);

  // The practice's policy lets therapists book any of its clients: Kim books Max, a
  // client on nobody's care team (asked about for the first time, so not cached).
  json::value policy = {{"therapists_book_any_client", true}};
  auto denied = kim->call_json("PUT", "/v1/practice/policy", &policy);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, Code::kPermissionDenied);
  auto set = admin_->call_json("PUT", "/v1/practice/policy", &policy);
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_TRUE(set->at("practice").at("therapists_book_any_client").as_bool());
  const auto max_id = sys_->create_user(slug_, "max@" + slug_ + ".example", "client");
  auto any_client = post(*kim, "/v1/appointments", booking(open[1], max_id));
  EXPECT_EQ(any_client.status, 201) << any_client.body;
}

TEST_F(Scheduling, HundredConcurrentBookingsOfOneSlotExactlyOneSucceeds) {
  auto open = slots(therapist_id_);
  ASSERT_FALSE(open.empty());
  const std::string slot = open[0];
  const std::string token = desk_->tokens().access_token;
  constexpr int kClients = 100;
  std::vector<int> status(kClients, 0);
  std::vector<std::string> body(kClients);
  std::latch connected(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      client::HttpsClient http(sys_->endpoint());
      auto warm = http.request("GET", "/healthz", {}, {}, 20s);  // connection and TLS up first
      connected.arrive_and_wait();
      if (!warm) return;
      auto r = http.request("POST", "/v1/appointments",
                            json::serialize(booking(slot, i % 2 ? client_id_ : client2_id_)), token, 30s);
      if (r) {
        status[i] = r->status;
        body[i] = r->body;
      }
    });
  }
  for (auto& t : threads) t.join();
  int created = 0, conflicts = 0;
  for (int i = 0; i < kClients; ++i) {
    if (status[i] == 201) ++created;
    if (status[i] == 409) {
      ++conflicts;
      EXPECT_NE(body[i].find("overlaps another appointment"), std::string::npos) << body[i];
    }
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(conflicts, kClients - 1);
  auto list = desk_->get_json("/v1/appointments?therapist_id=" + therapist_id_ +
                              "&from=" + client::url_encode(slot));
  ASSERT_TRUE(list) << list.error().message;
  int at_slot = 0;
  for (const auto& a : list->at("appointments").as_array())
    if (str(a, "start_time") == slot) ++at_slot;
  EXPECT_EQ(at_slot, 1);
}

TEST_F(Scheduling, IdempotentRetryReturnsTheSameAppointment) {
  auto open = slots(therapist_id_);
  ASSERT_GE(open.size(), 2u);
  const std::string key = new_id();
  auto first = post(*desk_, "/v1/appointments", booking(open[0], client_id_, key));
  ASSERT_EQ(first.status, 201) << first.body;
  auto retry = post(*desk_, "/v1/appointments", booking(open[0], client_id_, key));
  ASSERT_EQ(retry.status, 201) << retry.body;
  EXPECT_EQ(str(json::parse(retry.body).at("appointment"), "id"), str(json::parse(first.body).at("appointment"), "id"));
  EXPECT_TRUE(json::parse(retry.body).at("replayed").as_bool());
  auto reused = post(*desk_, "/v1/appointments", booking(open[1], client_id_, key));
  EXPECT_EQ(reused.status, 409) << reused.body;
  EXPECT_NE(reused.body.find("idempotency_key"), std::string::npos);
}

TEST_F(Scheduling, ACancellationRetriedWithItsKeyAnswersTheSameCancellation) {
  // The front desk cancels, the answer is lost (a 503), and the app sends it again.
  auto open = slots(therapist_id_);
  ASSERT_GE(open.size(), 1u);
  auto booked = post(*desk_, "/v1/appointments", booking(open[0], client_id_));
  ASSERT_EQ(booked.status, 201) << booked.body;
  const std::string id = str(json::parse(booked.body).at("appointment"), "id");
  json::value cancel = {{"idempotency_key", "cancel-" + new_id()}, {"reason", "the client moved away"}};
  auto first = post(*desk_, "/v1/appointments/" + id + "/cancel", cancel);
  ASSERT_EQ(first.status, 200) << first.body;
  auto retry = post(*desk_, "/v1/appointments/" + id + "/cancel", cancel);
  ASSERT_EQ(retry.status, 200) << retry.body;
  auto again = json::parse(retry.body);
  EXPECT_TRUE(again.at("replayed").as_bool());
  EXPECT_EQ(str(again.at("appointment"), "status"), "cancelled");
  auto now = desk_->get_json("/v1/appointments/" + id);
  ASSERT_TRUE(now) << now.error().message;
  EXPECT_EQ(str(now->at("appointment"), "version"), "2") << "cancelled once, not twice";  // int64 is a JSON string
}

TEST_F(Scheduling, RescheduleMovesAtomically) {
  auto open = slots(therapist_id_);
  ASSERT_GE(open.size(), 3u);
  auto a = post(*desk_, "/v1/appointments", booking(open[0], client_id_));
  auto b = post(*desk_, "/v1/appointments", booking(open[1], client2_id_));
  ASSERT_EQ(a.status, 201);
  ASSERT_EQ(b.status, 201);
  const std::string id = str(json::parse(a.body).at("appointment"), "id");
  auto clash = post(*desk_, "/v1/appointments/" + id + "/reschedule", json::value{{"new_start_time", open[1]}});
  EXPECT_EQ(clash.status, 409) << clash.body;
  auto unchanged = desk_->get_json("/v1/appointments/" + id);
  ASSERT_TRUE(unchanged);
  EXPECT_EQ(str(unchanged->at("appointment"), "start_time"), open[0]);
  // The old time is still held.
  EXPECT_EQ(post(*desk_, "/v1/appointments", booking(open[0], client2_id_)).status, 409);

  auto moved = post(*desk_, "/v1/appointments/" + id + "/reschedule", json::value{{"new_start_time", open[2]}});
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(str(json::parse(moved.body).at("appointment"), "start_time"), open[2]);
  EXPECT_EQ(post(*desk_, "/v1/appointments", booking(open[0], client2_id_)).status, 201);
}

TEST_F(Scheduling, WeeklySeriesAcrossADstChangeKeepsItsLocalTime) {
  // The next New York transition still at least two days ahead of the first
  // occurrence (12 days before it, a Tuesday). 09:00 EST = 14:00Z, 09:00 EDT = 13:00Z.
  struct Transition {
    const char* first;      // Tuesday, 12 days before the Sunday transition, 09:00 local
    const char* before_utc;
    const char* after_utc;
  };
  const Transition transitions[] = {
      {"2027-03-02T14:00:00Z", "T14:00:00Z", "T13:00:00Z"},  // spring forward 2027-03-14
      {"2027-10-26T13:00:00Z", "T13:00:00Z", "T14:00:00Z"},  // fall back 2027-11-07
      {"2028-02-29T14:00:00Z", "T14:00:00Z", "T13:00:00Z"},  // spring forward 2028-03-12
  };
  const Transition* pick = nullptr;
  for (const auto& t : transitions)
    if (std::string(t.first) > day_from_now(2)) {
      pick = &t;
      break;
    }
  ASSERT_NE(pick, nullptr) << "extend the transition table";
  json::value body = {{"idempotency_key", new_id()}, {"therapist_id", therapist_id_}, {"client_id", client_id_},
                      {"type_id", type_id_},         {"first_start_time", pick->first}, {"interval_weeks", 1},
                      {"count", 4},                  {"on_conflict", "reject"}};
  auto r = post(*desk_, "/v1/appointment-series", body);
  ASSERT_EQ(r.status, 201) << r.body;
  auto resp = json::parse(r.body);
  const auto& occ = resp.at("occurrences").as_array();
  ASSERT_EQ(occ.size(), 4u);
  for (std::size_t i = 0; i < occ.size(); ++i) {
    EXPECT_EQ(str(occ[i], "outcome"), "booked");
    const std::string local = str(occ[i], "local_start");
    EXPECT_EQ(local.substr(10), "T09:00") << local;
    const std::string start = str(occ[i], "start_time");
    EXPECT_EQ(start.substr(10), i < 2 ? pick->before_utc : pick->after_utc) << start;
  }
  // Cancelling all future occurrences frees them.
  auto cancel = post(*desk_, "/v1/appointment-series/" + str(resp, "series_id") + "/cancel",
                     json::value{{"reason", "moving"}});
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(json::parse(cancel.body).at("cancelled").as_array().size(), 4u);
}

TEST_F(Scheduling, EventsAppearOnTheStreamOncePerChange) {
  auto open = slots(therapist_id_);
  ASSERT_GE(open.size(), 2u);
  auto r = post(*desk_, "/v1/appointments", booking(open[0], client_id_));
  ASSERT_EQ(r.status, 201);
  const std::string id = str(json::parse(r.body).at("appointment"), "id");
  EXPECT_EQ(post(*desk_, "/v1/appointments", booking(open[0], client2_id_)).status, 409);  // no event
  EXPECT_EQ(post(*client_, "/v1/appointments/" + id + "/confirm", json::value{{"appointment_id", id}}).status, 200);
  EXPECT_EQ(post(*client_, "/v1/appointments/" + id + "/cancel", json::value{{"reason", "ill"}}).status, 200);
  // A later change on another appointment: once its event is on the stream, every
  // earlier one is too (the outbox publishes in commit order).
  auto sentinel = post(*desk_, "/v1/appointments", booking(open[1], client2_id_));
  ASSERT_EQ(sentinel.status, 201);
  const std::string sentinel_id = str(json::parse(sentinel.body).at("appointment"), "id");
  ASSERT_TRUE(wait_until([&] { return !events_for(sentinel_id).empty(); }, 10s));
  auto events = events_for(id);
  ASSERT_EQ(events.size(), 3u);
  const char* types[] = {"booked", "confirmed", "cancelled"};
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].type(), types[i]);
    EXPECT_EQ(events[i].version(), static_cast<std::int64_t>(i + 1));
  }
  EXPECT_NE(events[0].event_id(), events[1].event_id());
  EXPECT_EQ(events[2].actor_user_id(), client_id_);
}

TEST_F(Scheduling, MovingAllFutureOccurrencesOfASeriesKeepsLocalTimeAcrossDstAndSkipsAConflict) {
  // A front desk moves a weekly Tuesday 09:00 series that crosses a DST change to
  // Thursdays 10:00: with one Thursday taken, "reject" moves nothing, "skip" moves
  // the other three, each still at 10:00 local, and each move is one event.
  struct Transition {
    const char* first;     // Tuesday 09:00 local, 12 days before the transition
    const char* moved[4];  // Thursday 10:00 local of each week
  };
  const Transition transitions[] = {
      {"2027-03-02T14:00:00Z",
       {"2027-03-04T15:00:00Z", "2027-03-11T15:00:00Z", "2027-03-18T14:00:00Z", "2027-03-25T14:00:00Z"}},
      {"2027-10-26T13:00:00Z",
       {"2027-10-28T14:00:00Z", "2027-11-04T14:00:00Z", "2027-11-11T15:00:00Z", "2027-11-18T15:00:00Z"}},
      {"2028-02-29T14:00:00Z",
       {"2028-03-02T15:00:00Z", "2028-03-09T15:00:00Z", "2028-03-16T14:00:00Z", "2028-03-23T14:00:00Z"}},
  };
  const Transition* pick = nullptr;
  for (const auto& t : transitions)
    if (std::string(t.first) > day_from_now(2)) {
      pick = &t;
      break;
    }
  ASSERT_NE(pick, nullptr) << "extend the transition table";
  json::value body = {{"idempotency_key", new_id()}, {"therapist_id", therapist_id_}, {"client_id", client_id_},
                      {"type_id", type_id_},         {"first_start_time", pick->first}, {"interval_weeks", 1},
                      {"count", 4},                  {"on_conflict", "reject"}};
  auto r = post(*desk_, "/v1/appointment-series", body);
  ASSERT_EQ(r.status, 201) << r.body;
  auto booked = json::parse(r.body);
  const std::string series_id = str(booked, "series_id");
  std::vector<std::string> ids, starts;
  for (const auto& o : booked.at("occurrences").as_array()) {
    ids.push_back(str(o.at("appointment"), "id"));
    starts.push_back(str(o, "start_time"));
  }
  ASSERT_EQ(ids.size(), 4u);
  // Another client has the third Thursday.
  ASSERT_EQ(post(*desk_, "/v1/appointments", booking(pick->moved[2], client2_id_)).status, 201);

  const std::string target = "/v1/appointment-series/" + series_id + "/reschedule";
  json::value move = {{"from_appointment_id", ids[0]}, {"new_start_time", pick->moved[0]}, {"on_conflict", "reject"}};
  auto rejected = post(*desk_, target, move);
  EXPECT_EQ(rejected.status, 409) << rejected.body;
  for (std::size_t i = 0; i < 4; ++i) {
    auto a = desk_->get_json("/v1/appointments/" + ids[i]);
    ASSERT_TRUE(a);
    EXPECT_EQ(str(a->at("appointment"), "start_time"), starts[i]);
  }

  move.as_object()["on_conflict"] = "skip";
  auto skipped = post(*desk_, target, move);
  ASSERT_EQ(skipped.status, 200) << skipped.body;
  auto resp = json::parse(skipped.body);
  EXPECT_EQ(resp.at("moved").as_int64(), 3);
  EXPECT_EQ(resp.at("skipped").as_int64(), 1);
  const auto& occ = resp.at("occurrences").as_array();
  ASSERT_EQ(occ.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    auto a = desk_->get_json("/v1/appointments/" + ids[i]);
    ASSERT_TRUE(a);
    if (i == 2) {
      EXPECT_EQ(str(occ[i], "outcome"), "skipped");
      EXPECT_EQ(str(a->at("appointment"), "start_time"), starts[i]);
      continue;
    }
    EXPECT_EQ(str(occ[i], "outcome"), "moved");
    EXPECT_EQ(str(a->at("appointment"), "start_time"), pick->moved[i]);
    EXPECT_EQ(str(a->at("appointment"), "local_start").substr(10), "T10:00");
  }
  // One "rescheduled" event per moved occurrence, none for the skipped one.
  ASSERT_TRUE(wait_until([&] { return events_for(ids[3]).size() == 2; }, 10s));
  for (std::size_t i : {0u, 1u, 3u}) {
    auto events = events_for(ids[i]);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].type(), "rescheduled");
    EXPECT_EQ(events[1].previous_start_time(), starts[i]);
    EXPECT_EQ(events[1].version(), 2);
  }
  EXPECT_EQ(events_for(ids[2]).size(), 1u);
}

}  // namespace
}  // namespace alliance::testing
