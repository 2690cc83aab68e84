#include "reminders_support.hpp"

#include <boost/json.hpp>
#include <algorithm>
#include <array>
#include <ctime>
#include <stdexcept>

#include "alliance/core/ids.hpp"
#include "alliance/store/connection.hpp"
#include "alliance/store/query.hpp"

namespace alliance::testing {

namespace json = boost::json;

std::string rfc3339(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::int64_t slot_after(std::chrono::milliseconds ahead, std::chrono::milliseconds span) {
  const std::int64_t five = 5 * 60 * 1000;
  const std::int64_t day = 24 * 3600 * 1000LL;
  auto t = now_unix_ms() + ahead.count();
  t = (t + five - 1) / five * five;
  const std::int64_t next_midnight = (t / day + 1) * day;
  return t + span.count() > next_midnight ? next_midnight : t;
}

void open_around_the_clock(client::AllianceClient& admin, const std::string& therapist_id) {
  json::array weekly;
  for (int d = 0; d <= 6; ++d) weekly.push_back(json::value{{"weekday", d}, {"start", "00:00"}, {"end", "24:00"}});
  json::value body = {{"time_zone", "UTC"}, {"weekly", weekly}};
  auto r = admin.call_json("PUT", "/v1/therapists/" + therapist_id + "/availability", &body);
  if (!r) throw std::runtime_error("availability: " + r.error().message);
}

std::string quick_type(client::AllianceClient& admin, const std::string& name) {
  json::value type = {{"name", name},         {"duration_minutes", 30},     {"modality", "telehealth"},
                      {"step_minutes", 5},    {"min_notice_minutes", 0},    {"booking_horizon_days", 30},
                      {"client_self_booking", true}};
  auto t = admin.post_json("/v1/appointment-types", type);
  if (!t) throw std::runtime_error("type: " + t.error().message);
  return std::string(t->at("type").at("id").as_string());
}

TwoTherapistPractice::TwoTherapistPractice(System& s, const std::string& slug_prefix) : sys(s) {
  slug = slug_prefix + new_id().substr(0, 12);
  sys.create_practice(slug);
  admin = sys.login(slug, "admin@" + slug + ".example");
  sys.create_user(slug, "desk@" + slug + ".example", "front_desk");
  therapist_id = sys.create_user(slug, "kim@" + slug + ".example", "therapist");
  therapist2_id = sys.create_user(slug, "lee@" + slug + ".example", "therapist");
  client_id = sys.create_user(slug, "jo@" + slug + ".example", "client");
  client2_id = sys.create_user(slug, "sam@" + slug + ".example", "client");
  for (const auto& c : std::array<std::string, 2>{client_id, client2_id}) {
    auto link = admin->post_json("/v1/care-team", boost::json::value{{"client_id", c}, {"therapist_id", therapist_id}});
    if (!link) throw std::runtime_error("care team: " + link.error().message);
  }
  desk = sys.login(slug, "desk@" + slug + ".example");
  therapist = sys.login(slug, "kim@" + slug + ".example");
  therapist2 = sys.login(slug, "lee@" + slug + ".example");
  client = sys.login(slug, "jo@" + slug + ".example");
  client2 = sys.login(slug, "sam@" + slug + ".example");
  auto me = admin->me();
  if (!me) throw std::runtime_error("me: " + me.error().message);
  practice_id = std::string(me->at("practice").at("id").as_string());
  open_around_the_clock(*admin, therapist_id);
  open_around_the_clock(*admin, therapist2_id);
  type_id = quick_type(*admin, "Couples therapy");
}

int make_due(System& sys, const std::vector<std::string>& reminder_ids, std::int64_t due_ms) {
  auto c = store::Connection::open(sys.reminders_database(), {});
  int moved = 0;
  for (const auto& id : reminder_ids)
    moved += store::execute(*c, "UPDATE reminders SET due_ms = ?2 WHERE id = ?1", id, due_ms);
  c.reset();
  sys.redis().cli({"PUBLISH", "reminders:wake", "test"});
  return moved;
}

std::unique_ptr<client::WebSocket> push_socket(client::AllianceClient& who) {
  auto ws = who.open_push_socket();
  if (!ws) throw std::runtime_error("socket: " + ws.error().message);
  return std::move(*ws);
}

json::value next_frame(client::WebSocket& ws, std::string_view type, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    auto text = ws.read_text(std::max(left, std::chrono::milliseconds(1)));
    if (!text) return nullptr;
    auto v = json::parse(*text);
    const auto* t = v.is_object() ? v.as_object().if_contains("type") : nullptr;
    if (t && t->is_string() && t->as_string() == type) return v;
  }
  return nullptr;
}

}  // namespace alliance::testing
