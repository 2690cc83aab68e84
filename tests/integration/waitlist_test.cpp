// Waitlist and calendar feed through the public API with real processes (holds of
// 2 s, set through scheduling's waitlist_hold flag). A client's appointment is
// cancelled; the first waitlisted client gets the offer live on their WebSocket,
// the held time refuses another booking saying it is held, the unanswered hold
// expires and the second client gets it and books it. Then the therapist's
// calendar feed is fetched without a token, parsed with libical, shows no client
// detail, and dies when rotated.
#include <gtest/gtest.h>
#include <libical/ical.h>

#include <boost/json.hpp>

#include "alliance/core/ids.hpp"
#include "system.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::string str(const json::value& v, std::string_view key) { return std::string(v.at(key).as_string()); }

// "YYYY-MM-DD" (UTC) and "YYYY-MM-DDT00:00:00Z" for now + days.
std::string utc_day(int days, bool instant) {
  auto t = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()) + std::chrono::days(days);
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, instant ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d", &tm);
  return buf;
}

class Waitlist : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SystemOptions options;
    options.scheduling_flags["waitlist_hold"] = "2s";
    sys_ = new System(options);
  }
  static void TearDownTestSuite() {
    delete sys_;
    sys_ = nullptr;
  }

  void SetUp() override {
    slug_ = "w" + new_id().substr(0, 12);
    sys_->create_practice(slug_);
    admin_ = sys_->login(slug_, "admin@" + slug_ + ".example");
    therapist_id_ = sys_->create_user(slug_, "kim@" + slug_ + ".example", "therapist");
    sys_->create_user(slug_, "desk@" + slug_ + ".example", "front_desk");
    for (const char* name : {"jo", "sam", "pat"}) {
      auto id = sys_->create_user(slug_, std::string(name) + "@" + slug_ + ".example", "client");
      clients_[name] = id;
      auto link = admin_->post_json("/v1/care-team", json::value{{"client_id", id}, {"therapist_id", therapist_id_}});
      ASSERT_TRUE(link) << link.error().message;
    }
    json::array weekly;
    for (int d = 0; d <= 6; ++d) weekly.push_back(json::value{{"weekday", d}, {"start", "08:00"}, {"end", "20:00"}});
    json::value hours = {{"time_zone", "America/New_York"}, {"weekly", weekly}};
    auto h = admin_->call_json("PUT", "/v1/therapists/" + therapist_id_ + "/availability", &hours);
    ASSERT_TRUE(h) << h.error().message;
    json::value type = {{"name", "Couples session"}, {"duration_minutes", 50}, {"modality", "in_person"},
                        {"buffer_after_minutes", 10}, {"step_minutes", 60}, {"client_self_booking", true}};
    auto t = admin_->post_json("/v1/appointment-types", type);
    ASSERT_TRUE(t) << t.error().message;
    type_id_ = str(t->at("type"), "id");
    desk_ = sys_->login(slug_, "desk@" + slug_ + ".example");
  }

  std::unique_ptr<client::AllianceClient> login(const std::string& name) {
    return sys_->login(slug_, name + "@" + slug_ + ".example");
  }

  // The first open slot two days from now.
  std::string a_slot() {
    auto r = desk_->get_json("/v1/therapists/" + therapist_id_ + "/slots?type_id=" + type_id_ +
                             "&from=" + client::url_encode(utc_day(2, true)) +
                             "&to=" + client::url_encode(utc_day(3, true)));
    EXPECT_TRUE(r) << r.error().message;
    if (!r || r->at("slots").as_array().empty()) return "";
    return str(r->at("slots").as_array().front(), "start_time");
  }

  json::value booking(const std::string& start, const std::string& client) {
    return json::value{{"idempotency_key", new_id()}, {"therapist_id", therapist_id_}, {"client_id", client},
                       {"type_id", type_id_}, {"start_time", start}};
  }

  // The next "waitlist.offer" frame's body on `socket`.
  static std::optional<json::value> next_offer(client::WebSocket& socket, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      auto frame = socket.read_text(std::max(left, 1ms));
      if (!frame) return std::nullopt;
      auto v = json::parse(*frame);
      if (v.at("type").as_string() == "waitlist.offer") return v.at("body");
    }
    return std::nullopt;
  }

  static inline System* sys_ = nullptr;
  std::string slug_, therapist_id_, type_id_;
  std::map<std::string, std::string> clients_;
  std::unique_ptr<client::AllianceClient> admin_, desk_;
};

TEST_F(Waitlist, AJoinRetriedWithTheSameKeyGetsTheSameEntryAndJoinsOnce) {
  // Jo's app joins, loses the answer and sends the same request again.
  auto jo = login("jo");
  json::value join = {{"idempotency_key", "join-" + new_id()}, {"therapist_id", therapist_id_},
                      {"type_id", type_id_}, {"from_date", utc_day(0, false)}, {"to_date", utc_day(10, false)}};
  const std::string body = json::serialize(join);
  auto first = jo->http().request("POST", "/v1/waitlist", body, jo->tokens().access_token);
  auto retry = jo->http().request("POST", "/v1/waitlist", body, jo->tokens().access_token);
  ASSERT_TRUE(first && retry);
  ASSERT_EQ(first->status, 201) << first->body;
  ASSERT_EQ(retry->status, 201) << retry->body;
  auto entry = json::parse(first->body).at("entry");
  auto again = json::parse(retry->body);
  EXPECT_EQ(str(again.at("entry"), "id"), str(entry, "id"));
  EXPECT_TRUE(again.at("replayed").as_bool());
  auto listed = jo->get_json("/v1/waitlist");
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->at("entries").as_array().size(), 1u) << "the retry joined a second time";

  join.as_object()["to_date"] = utc_day(11, false);  // the same key for another request
  auto reused = jo->http().request("POST", "/v1/waitlist", json::serialize(join), jo->tokens().access_token);
  ASSERT_TRUE(reused);
  EXPECT_EQ(reused->status, 409) << reused->body;
  EXPECT_EQ(str(json::parse(reused->body).at("error"), "field"), "idempotency_key");
}

TEST_F(Waitlist, OfferIsPushedLiveTheHoldBlocksOthersAndAnExpiredHoldPassesToTheNextClient) {
  const auto slot = a_slot();
  ASSERT_FALSE(slot.empty());
  auto pats = desk_->post_json("/v1/appointments", booking(slot, clients_["pat"]));
  ASSERT_TRUE(pats) << pats.error().message;

  auto jo = login("jo");
  auto sam = login("sam");
  for (auto* who : {jo.get(), sam.get()}) {
    json::value join = {{"therapist_id", therapist_id_}, {"type_id", type_id_}, {"from_date", utc_day(0, false)},
                        {"to_date", utc_day(10, false)}};
    auto r = who->http().request("POST", "/v1/waitlist", json::serialize(join), who->tokens().access_token);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
  }
  auto jo_socket = jo->open_push_socket();
  auto sam_socket = sam->open_push_socket();
  ASSERT_TRUE(jo_socket && sam_socket);

  json::value reason = {{"reason", "moving away"}};
  auto cancelled =
      desk_->post_json("/v1/appointments/" + str(pats->at("appointment"), "id") + "/cancel", reason);
  ASSERT_TRUE(cancelled) << cancelled.error().message;

  // Jo joined first: the offer arrives on her socket.
  auto offer = next_offer(**jo_socket, 5s);
  ASSERT_TRUE(offer) << "no live waitlist offer for the first client";
  EXPECT_EQ(str(*offer, "start_time"), slot);
  EXPECT_EQ(str(*offer, "client_id"), clients_["jo"]);
  EXPECT_EQ(str(*offer, "status"), "held");

  // While held, the front desk cannot give the time to someone else.
  auto other = desk_->http().request("POST", "/v1/appointments", json::serialize(booking(slot, clients_["pat"])),
                                     desk_->tokens().access_token);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 409) << other->body;
  EXPECT_NE(other->body.find("held"), std::string::npos) << other->body;

  // Jo does not answer: after 2 s Sam is offered the time, live, and books it.
  auto sams = next_offer(**sam_socket, 8s);
  ASSERT_TRUE(sams) << "the expired hold did not pass to the next client";
  EXPECT_EQ(str(*sams, "start_time"), slot);
  auto accept = sam->http().request("POST", "/v1/waitlist/offers/" + str(*sams, "id") + "/accept", "{}",
                                    sam->tokens().access_token);
  ASSERT_TRUE(accept);
  ASSERT_EQ(accept->status, 201) << accept->body;
  auto booked = json::parse(accept->body);
  EXPECT_EQ(str(booked.at("appointment"), "client_id"), clients_["sam"]);
  EXPECT_EQ(str(booked.at("appointment"), "start_time"), slot);
  // Jo's offer is recorded as expired; accepting it now is refused.
  auto jos = jo->get_json("/v1/waitlist/offers?include_closed=true");
  ASSERT_TRUE(jos) << jos.error().message;
  ASSERT_EQ(jos->at("offers").as_array().size(), 1u);
  EXPECT_EQ(str(jos->at("offers").as_array()[0], "status"), "expired");
  auto late = jo->http().request("POST", "/v1/waitlist/offers/" + str(*offer, "id") + "/accept", "{}",
                                 jo->tokens().access_token);
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 409) << late->body;
  EXPECT_NE(late->body.find("expired"), std::string::npos) << late->body;
}

// A booking made from the waitlist is held where the type's sessions are by default,
// as any booking that names no place.
TEST_F(Waitlist, ABookingFromTheWaitlistIsHeldAtTheTypesLocation) {
  json::value office = {{"name", "Harbour office"}, {"address", "3 Quay St"}, {"rooms", json::array{"Blue"}}};
  auto location = admin_->post_json("/v1/locations", office);
  ASSERT_TRUE(location) << location.error().message;
  json::value type = {{"name", "Held at the office"}, {"duration_minutes", 50}, {"modality", "in_person"},
                      {"step_minutes", 60}, {"client_self_booking", true},
                      {"default_location_id", location->at("location").at("id")}};
  auto t = admin_->post_json("/v1/appointment-types", type);
  ASSERT_TRUE(t) << t.error().message;
  type_id_ = str(t->at("type"), "id");
  const auto slot = a_slot();
  ASSERT_FALSE(slot.empty());
  auto pats = desk_->post_json("/v1/appointments", booking(slot, clients_["pat"]));
  ASSERT_TRUE(pats) << pats.error().message;
  auto jo = login("jo");
  json::value join = {{"therapist_id", therapist_id_}, {"type_id", type_id_}, {"from_date", utc_day(0, false)},
                      {"to_date", utc_day(10, false)}};
  ASSERT_TRUE(jo->post_json("/v1/waitlist", join));
  auto socket = jo->open_push_socket();
  ASSERT_TRUE(socket);
  json::value reason = {{"reason", "moving away"}};
  ASSERT_TRUE(desk_->post_json("/v1/appointments/" + str(pats->at("appointment"), "id") + "/cancel", reason));
  auto offer = next_offer(**socket, 5s);
  ASSERT_TRUE(offer) << "no waitlist offer";
  auto accepted = jo->post_json("/v1/waitlist/offers/" + str(*offer, "id") + "/accept", json::object{});
  ASSERT_TRUE(accepted) << accepted.error().message;
  const auto& a = accepted->at("appointment");
  EXPECT_EQ(str(a, "modality"), "in_person");
  EXPECT_EQ(str(a, "location_name"), "Harbour office");
  EXPECT_EQ(str(a, "location_address"), "3 Quay St");
  EXPECT_EQ(str(a, "room"), "");
}

TEST_F(Waitlist, CalendarFeedParsesWithLibicalHasNoClientDetailAndRotationKillsTheOldUrl) {
  const auto slot = a_slot();
  ASSERT_FALSE(slot.empty());
  auto booked = desk_->post_json("/v1/appointments", booking(slot, clients_["jo"]));
  ASSERT_TRUE(booked) << booked.error().message;
  auto therapist = login("kim");
  auto rotated = therapist->post_json("/v1/calendar-feed/rotate", json::object{});
  ASSERT_TRUE(rotated) << rotated.error().message;
  const auto path = str(*rotated, "path");

  client::HttpsClient anonymous(sys_->endpoint());
  auto feed = anonymous.request("GET", path, {}, {}, 5s);
  ASSERT_TRUE(feed);
  ASSERT_EQ(feed->status, 200) << feed->body;
  EXPECT_EQ(feed->header("content-type").rfind("text/calendar", 0), 0u);
  EXPECT_EQ(feed->body.find("jo@"), std::string::npos);
  EXPECT_EQ(feed->body.find(clients_["jo"]), std::string::npos);

  icalcomponent* cal = icalparser_parse_string(feed->body.c_str());
  ASSERT_NE(cal, nullptr);
  int events = 0;
  for (auto* ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); ev;
       ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
    ++events;
    EXPECT_STREQ(icalcomponent_get_summary(ev), "Appointment");
    EXPECT_EQ(std::string(icalcomponent_get_uid(ev)), str(booked->at("appointment"), "id") + "@alliance");
  }
  icalcomponent_free(cal);
  EXPECT_EQ(events, 1);
  EXPECT_NE(feed->body.find("Couples session"), std::string::npos);

  auto again = therapist->post_json("/v1/calendar-feed/rotate", json::object{});
  ASSERT_TRUE(again) << again.error().message;
  auto old = anonymous.request("GET", path, {}, {}, 5s);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->status, 404);
  auto fresh = anonymous.request("GET", str(*again, "path"), {}, {}, 5s);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->status, 200);
}

}  // namespace
}  // namespace alliance::testing
