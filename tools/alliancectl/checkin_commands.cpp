#include "checkin_commands.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <ostream>

#include "table.hpp"

namespace alliance::ctl {
namespace json = boost::json;
namespace {

// --<name> as a whole number; kInvalidArgument naming the option otherwise.
Result<int> whole_number(const Context& ctx, const std::string& name) {
  const auto& text = ctx.inv.options.at(name);
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size())
    return invalid_argument(name, name + ": must be a whole number, got \"" + text + "\"");
  return v;
}

// The signed-in user's id and practice id (GET /v1/me).
Result<std::pair<std::string, std::string>> who(client::AllianceClient& c) {
  auto me = c.me();
  if (!me) return std::move(me).error();
  return std::pair<std::string, std::string>{str(sub(*me, "user"), "id"), str(sub(*me, "practice"), "id")};
}

// 3550 -> "35.50".
std::string hundredths(std::int64_t x100) {
  std::string cents = std::to_string(x100 % 100);
  return std::to_string(x100 / 100) + "." + (cents.size() < 2 ? "0" : "") + cents;
}

std::string ratings_text(const json::value& r) {
  return std::to_string(int64_of(r, "relationship")) + "/" + std::to_string(int64_of(r, "goals")) + "/" +
         std::to_string(int64_of(r, "approach")) + "/" + std::to_string(int64_of(r, "overall"));
}

}  // namespace

Outcome checkins_list(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  return show_list(
      ctx, (*c)->get_json("/v1/me/check-ins"), "checkins", "no open check-ins",
      Table({{"ID", 34}, {"SESSION", 22}, {"EXPIRES", 22}, {"THERAPIST", 0}}),
      [](const json::value& v) -> std::vector<std::string> {
        return {str(v, "checkin_id"), str(v, "session_time"), str(v, "expires_at"), str(v, "therapist_id")};
      });
}

Outcome checkin_submit(Context& ctx) {
  json::object ratings;
  for (const char* name : {"relationship", "goals", "approach", "overall"}) {
    auto v = whole_number(ctx, name);
    if (!v) return failed(v.error(), kUsage);
    ratings[name] = *v;
  }
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  json::value body = {{"ratings", std::move(ratings)}};
  auto r = (*c)->post_json("/v1/check-ins/" + path_part(ctx.inv.options.at("id")), body);
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
    return {};
  }
  const auto& k = sub(*r, "checkin");
  ctx.out << (r->as_object().contains("replayed") && sub(*r, "replayed").as_bool() ? "already answered: " : "answered: ")
          << str(k, "id") << " total " << int64_of(k, "total") << " of 40\n";
  return {};
}

Outcome checkin_scores(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  auto me = who(**c);
  if (!me) return failed(me.error());
  std::string target = "/v1/therapists/" + path_part(me->first) + "/check-ins";
  if (auto it = ctx.inv.options.find("client"); it != ctx.inv.options.end()) target += "?client_id=" + path_part(it->second);
  return show_list(
      ctx, (*c)->get_json(target), "checkins", "no answered check-ins",
      Table({{"ANSWERED", 22}, {"CLIENT", 34}, {"SESSION", 22}, {"TOTAL", 7}, {"R/G/A/O", 13}, {"COMMENT", 0}}),
      [](const json::value& v) -> std::vector<std::string> {
        const bool comment = v.as_object().contains("comment");
        return {str(v, "submitted_at"),          str(v, "client_id"),
                str(v, "session_time"),          std::to_string(int64_of(v, "total")),
                ratings_text(sub(v, "ratings")), comment ? "sealed (open it in your app)" : "-"};
      });
}

Outcome checkin_alerts(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  return show_list(
      ctx, (*c)->get_json("/v1/me/check-in-alerts"), "alerts", "no check-in alerts",
      Table({{"RAISED", 22}, {"CLIENT", 34}, {"TOTAL", 7}, {"AVERAGE", 9}, {"WHY", 0}}),
      [](const json::value& v) -> std::vector<std::string> {
        std::string why;
        if (const auto& reasons = sub(v, "reasons"); reasons.is_array())
          for (const auto& r : reasons.as_array())
            if (r.is_string()) why += (why.empty() ? "" : ", ") + std::string(r.as_string());
        const auto average = hundredths(int64_of(v, "previous_average_x100"));
        return {str(v, "created_at"), str(v, "client_id"), std::to_string(int64_of(v, "total")), average, why};
      });
}

Outcome checkin_summary(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  auto me = who(**c);
  if (!me) return failed(me.error());
  return show_list(ctx, (*c)->get_json("/v1/practices/" + path_part(me->second) + "/check-in-summary"), "therapists",
                   "no check-ins yet", Table({{"THERAPIST", 34}, {"ANSWERED", 10}, {"UNANSWERED", 12}, {"AVERAGE", 0}}),
                   [](const json::value& v) -> std::vector<std::string> {
                     return {str(v, "therapist_id"), std::to_string(int64_of(v, "submitted")),
                             std::to_string(int64_of(v, "unanswered")), hundredths(int64_of(v, "average_total_x100"))};
                   });
}

Outcome checkin_policy_set(Context& ctx) {
  auto below = whole_number(ctx, "below");
  if (!below) return failed(below.error(), kUsage);
  auto drop = whole_number(ctx, "drop");
  if (!drop) return failed(drop.error(), kUsage);
  bool summary = false;
  if (auto it = ctx.inv.options.find("admin-summary"); it != ctx.inv.options.end()) {
    if (it->second != "yes" && it->second != "no")
      return failed(invalid_argument("admin-summary", "admin-summary: yes or no"), kUsage);
    summary = it->second == "yes";
  }
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  json::value body = {{"alert_below_total", *below}, {"alert_drop_points", *drop}, {"admin_summary", summary}};
  auto r = (*c)->put_json("/v1/check-ins/policy", body);
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
    return {};
  }
  const auto& p = sub(*r, "policy");
  ctx.out << "check-in alerts: total below " << int64_of(p, "alert_below_total") << " (0 = off), drop of more than "
          << int64_of(p, "alert_drop_points") << " (0 = off); admin summary "
          << (sub(p, "admin_summary").is_bool() && sub(p, "admin_summary").as_bool() ? "on" : "off") << "\n";
  return {};
}

}  // namespace alliance::ctl
