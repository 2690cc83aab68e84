#include "scheduling_practice.hpp"

#include <chrono>
#include <ctime>

#include "alliance/client/https_client.hpp"
#include "alliance/core/ids.hpp"

namespace alliance::testing {

namespace json = boost::json;

std::string str(const json::value& v, std::string_view key) { return std::string(v.at(key).as_string()); }

std::string day_from_now(int days) {
  auto t = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()) + std::chrono::days(days);
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void SchedulingPractice::SetUp() {
  slug_ = "p" + new_id().substr(0, 12);
  sys_->create_practice(slug_);
  admin_ = sys_->login(slug_, "admin@" + slug_ + ".example");
  desk_id_ = sys_->create_user(slug_, "desk@" + slug_ + ".example", "front_desk");
  therapist_id_ = sys_->create_user(slug_, "kim@" + slug_ + ".example", "therapist");
  therapist2_id_ = sys_->create_user(slug_, "lee@" + slug_ + ".example", "therapist");
  client_id_ = sys_->create_user(slug_, "jo@" + slug_ + ".example", "client");
  client2_id_ = sys_->create_user(slug_, "sam@" + slug_ + ".example", "client");
  auto link = admin_->post_json("/v1/care-team", json::value{{"client_id", client_id_}, {"therapist_id", therapist_id_}});
  ASSERT_TRUE(link) << link.error().message;
  desk_ = sys_->login(slug_, "desk@" + slug_ + ".example");
  client_ = sys_->login(slug_, "jo@" + slug_ + ".example");
  for (const auto& t : {therapist_id_, therapist2_id_}) {
    json::array weekly;
    for (int d = 0; d <= 6; ++d) weekly.push_back(json::value{{"weekday", d}, {"start", "08:00"}, {"end", "20:00"}});
    json::value body = {{"time_zone", "America/New_York"}, {"weekly", weekly}};
    auto r = admin_->call_json("PUT", "/v1/therapists/" + t + "/availability", &body);
    ASSERT_TRUE(r) << r.error().message;
  }
  type_id_ = make_type("Individual therapy", true);
}

std::string SchedulingPractice::make_type(const std::string& name, bool self_booking) {
  json::value body = {{"name", name},
                      {"duration_minutes", 50},
                      {"modality", "telehealth"},
                      {"buffer_after_minutes", 10},
                      {"step_minutes", 60},
                      {"booking_horizon_days", 700},
                      {"client_self_booking", self_booking}};
  auto r = admin_->post_json("/v1/appointment-types", body);
  EXPECT_TRUE(r) << r.error().message;
  return r ? str(r->at("type"), "id") : "";
}

std::vector<std::string> SchedulingPractice::slots(const std::string& therapist) {
  return slots(therapist, day_from_now(1), day_from_now(8));
}

std::vector<std::string> SchedulingPractice::slots(const std::string& therapist, const std::string& from,
                                                   const std::string& to) {
  auto r = client_->get_json("/v1/therapists/" + therapist + "/slots?type_id=" + type_id_ +
                             "&from=" + client::url_encode(from) + "&to=" + client::url_encode(to));
  EXPECT_TRUE(r) << r.error().message;
  std::vector<std::string> out;
  if (r)
    for (const auto& s : r->at("slots").as_array()) out.push_back(str(s, "start_time"));
  return out;
}

json::value SchedulingPractice::booking(const std::string& start, const std::string& client, const std::string& key,
                                        const std::string& therapist, const std::string& type) {
  return json::value{{"idempotency_key", key.empty() ? new_id() : key},
                     {"therapist_id", therapist.empty() ? therapist_id_ : therapist},
                     {"client_id", client},
                     {"type_id", type.empty() ? type_id_ : type},
                     {"start_time", start}};
}

std::string SchedulingPractice::fetch_feed(client::AllianceClient& therapist) {
  auto rotated = therapist.post_json("/v1/calendar-feed/rotate", json::object{});
  EXPECT_TRUE(rotated) << rotated.error().message;
  if (!rotated) return "";
  client::HttpsClient anonymous(sys_->endpoint());
  auto feed = anonymous.request("GET", str(*rotated, "path"), {}, {}, std::chrono::seconds(5));
  EXPECT_TRUE(feed) << feed.error().message;
  if (!feed) return "";
  EXPECT_EQ(feed->status, 200) << feed->body;
  return feed->status == 200 ? feed->body : "";
}

client::HttpResponse SchedulingPractice::post(client::AllianceClient& who, const std::string& target,
                                              const json::value& body) {
  auto r = who.http().request("POST", target, json::serialize(body), who.tokens().access_token);
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : client::HttpResponse{};
}

}  // namespace alliance::testing
