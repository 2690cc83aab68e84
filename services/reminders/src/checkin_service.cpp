#include "checkin_service.hpp"

#include <optional>

#include "alliance/core/ids.hpp"
#include "alliance/net/rpc_methods.hpp"
#include "call_checks.hpp"
#include "checkin_render.hpp"
#include "reminders_service.hpp"

namespace alliance::reminders {
namespace {

Status client_only(const net::CallContext& ctx) {
  if (auto s = signed_in(ctx); !s) return s;
  if (ctx.caller.role() != "client") return make_error(Code::kPermissionDenied, "check-ins are answered by clients");
  return {};
}

std::optional<int> rating(bool has, int value) { return has ? std::optional<int>(value) : std::nullopt; }

}  // namespace

CheckinService::CheckinService(CheckinStore& store, Hooks hooks) : store_(store), hooks_(std::move(hooks)) {}

asio::awaitable<Result<v1::ListPendingCheckinsResponse>> CheckinService::pending(const Ctx& ctx, bool unacked_only) {
  if (auto s = signed_in(ctx); !s) co_return s.error();
  auto rows = co_await store_.open_for(ctx.caller.user_id(), now_unix_ms(), unacked_only);
  if (!rows) co_return rows.error();
  v1::ListPendingCheckinsResponse out;
  for (const auto& r : *rows) *out.add_checkins() = render_checkin_due(r);
  co_return out;
}

asio::awaitable<Result<v1::ListPendingCheckinsResponse>> CheckinService::list_pending(
    const v1::ListPendingCheckinsRequest&, const Ctx& ctx) {
  co_return co_await pending(ctx, false);
}

asio::awaitable<Result<v1::ListPendingCheckinsResponse>> CheckinService::deliver_pending(
    const v1::ListPendingCheckinsRequest&, const Ctx& ctx) {
  co_return co_await pending(ctx, true);
}

asio::awaitable<Result<bool>> CheckinService::acknowledge(const Ctx& ctx, std::string id) {
  if (auto s = signed_in(ctx); !s) co_return s.error();
  auto row = co_await store_.acknowledge(ctx.caller.user_id(), std::move(id), now_unix_ms());
  if (!row) co_return row.error();
  co_return row->has_value();
}

asio::awaitable<Result<v1::SubmitCheckinResponse>> CheckinService::submit(const v1::SubmitCheckinRequest& req,
                                                                          const Ctx& ctx) {
  if (auto s = client_only(ctx); !s) co_return s.error();
  if (auto s = valid_id(req.checkin_id(), "checkin_id"); !s) co_return s.error();
  if (!req.has_ratings()) co_return invalid_argument("ratings", "ratings: required (relationship, goals, approach, overall)");
  const auto& r = req.ratings();
  auto ratings = parse_ratings(rating(r.has_relationship(), r.relationship()), rating(r.has_goals(), r.goals()),
                               rating(r.has_approach(), r.approach()), rating(r.has_overall(), r.overall()));
  if (!ratings) co_return ratings.error();
  auto comment = comment_of(req.comment());
  if (auto s = check_comment(comment); !s) co_return s.error();
  auto done = co_await store_.submit(ctx.caller.user_id(), req.checkin_id(), *ratings, std::move(comment),
                                     now_unix_ms());
  if (!done) co_return done.error();
  if (done->alert && hooks_.alert_raised) hooks_.alert_raised();
  v1::SubmitCheckinResponse out;
  *out.mutable_checkin() = to_proto(done->checkin);
  out.set_replayed(done->replayed);
  co_return out;
}

asio::awaitable<Result<v1::CheckinPreferenceResponse>> CheckinService::get_preference(
    const v1::GetCheckinPreferenceRequest&, const Ctx& ctx) {
  if (auto s = signed_in(ctx); !s) co_return s.error();
  auto pref = co_await store_.preference(ctx.caller.user_id());
  if (!pref) co_return pref.error();
  v1::CheckinPreferenceResponse out;
  out.set_enabled(pref->first);
  out.set_updated_unix_ms(pref->second);
  co_return out;
}

asio::awaitable<Result<v1::CheckinPreferenceResponse>> CheckinService::set_preference(
    const v1::SetCheckinPreferenceRequest& req, const Ctx& ctx) {
  if (auto s = client_only(ctx); !s) co_return s.error();
  const auto now = now_unix_ms();
  auto done = co_await store_.set_preference(ctx.caller.user_id(), req.enabled(), now);
  if (!done) co_return done.error();
  v1::CheckinPreferenceResponse out;
  out.set_enabled(req.enabled());
  out.set_updated_unix_ms(now);
  co_return out;
}

asio::awaitable<Result<v1::ListTherapistCheckinsResponse>> CheckinService::list_for_therapist(
    const v1::ListTherapistCheckinsRequest& req, const Ctx& ctx) {
  if (auto s = signed_in(ctx); !s) co_return s.error();
  if (auto s = valid_id(req.therapist_id(), "therapist_id"); !s) co_return s.error();
  if (!req.client_id().empty())
    if (auto s = valid_id(req.client_id(), "client_id"); !s) co_return s.error();
  // Scores are for the therapist the client saw, and nobody else in the practice.
  if (ctx.caller.role() != "therapist" || ctx.caller.user_id() != req.therapist_id())
    co_return make_error(Code::kPermissionDenied, "therapist_id: only the therapist themself reads their clients' check-ins");
  auto rows = co_await store_.submitted_for(req.therapist_id(), req.client_id());
  if (!rows) co_return rows.error();
  v1::ListTherapistCheckinsResponse out;
  for (const auto& r : *rows) *out.add_checkins() = to_proto(r);
  co_return out;
}

asio::awaitable<Result<v1::ListCheckinAlertsResponse>> CheckinService::list_alerts(const v1::ListCheckinAlertsRequest&,
                                                                                   const Ctx& ctx) {
  if (auto s = signed_in(ctx); !s) co_return s.error();
  if (ctx.caller.role() != "therapist")
    co_return make_error(Code::kPermissionDenied, "check-in alerts go to the client's therapist only");
  auto rows = co_await store_.alerts_for(ctx.caller.user_id());
  if (!rows) co_return rows.error();
  v1::ListCheckinAlertsResponse out;
  for (const auto& a : *rows) *out.add_alerts() = to_proto(a);
  co_return out;
}

asio::awaitable<Result<v1::CheckinPolicyResponse>> CheckinService::get_policy(const v1::GetCheckinPolicyRequest&,
                                                                              const Ctx& ctx) {
  if (auto s = signed_in(ctx); !s) co_return s.error();
  auto row = co_await store_.policy(ctx.caller.practice_id());
  if (!row) co_return row.error();
  v1::CheckinPolicyResponse out;
  *out.mutable_policy() = to_proto(*row);
  co_return out;
}

asio::awaitable<Result<v1::CheckinPolicyResponse>> CheckinService::set_policy(const v1::SetCheckinPolicyRequest& req,
                                                                              const Ctx& ctx) {
  if (auto s = signed_in(ctx); !s) co_return s.error();
  if (ctx.caller.role() != "admin")
    co_return make_error(Code::kPermissionDenied, "only an admin can change the check-in policy");
  CheckinPolicy policy{req.alert_below_total(), req.alert_drop_points(), req.admin_summary()};
  if (auto s = check_policy(policy); !s) co_return s.error();
  PolicyOfCheckins row{ctx.caller.practice_id(), policy, ctx.caller.user_id(), now_unix_ms()};
  auto done = co_await store_.set_policy(row);
  if (!done) co_return done.error();
  v1::CheckinPolicyResponse out;
  *out.mutable_policy() = to_proto(row);
  co_return out;
}

asio::awaitable<Result<v1::GetCheckinSummaryResponse>> CheckinService::summary(const v1::GetCheckinSummaryRequest& req,
                                                                               const Ctx& ctx) {
  if (auto s = signed_in(ctx); !s) co_return s.error();
  if (auto s = valid_id(req.practice_id(), "practice_id"); !s) co_return s.error();
  if (ctx.caller.role() != "admin" || ctx.caller.practice_id() != req.practice_id())
    co_return make_error(Code::kPermissionDenied, "practice_id: only the practice's admins read check-in summaries");
  auto policy = co_await store_.policy(req.practice_id());
  if (!policy) co_return policy.error();
  if (!policy->policy.admin_summary)
    co_return make_error(Code::kPermissionDenied, "the practice's check-in policy keeps summaries off (admin_summary)");
  auto rows = co_await store_.summary(req.practice_id());
  if (!rows) co_return rows.error();
  v1::GetCheckinSummaryResponse out;
  for (const auto& t : *rows) {
    auto* s = out.add_therapists();
    s->set_therapist_id(t.therapist_id);
    s->set_submitted(t.submitted);
    s->set_unanswered(t.unanswered);
    s->set_average_total_x100(t.average_total_x100);
  }
  co_return out;
}

asio::awaitable<Result<v1::EraseClientCheckinsResponse>> CheckinService::erase_client(
    const v1::EraseClientCheckinsRequest& req, const Ctx& ctx) {
  if (auto s = signed_in(ctx); !s) co_return s.error();
  if (auto s = valid_id(req.client_id(), "client_id"); !s) co_return s.error();
  if (ctx.caller.role() != "admin") co_return make_error(Code::kPermissionDenied, "only an admin can erase check-ins");
  auto erased = co_await store_.erase_client(ctx.caller.practice_id(), req.client_id());
  if (!erased) co_return erased.error();
  v1::EraseClientCheckinsResponse out;
  out.set_erased(*erased);
  out.set_client_id(req.client_id());
  co_return out;
}

void register_checkin_rpc(net::RpcServer& server, CheckinService& service,
                          std::set<std::string, std::less<>> user_peers, net::CallObserver audit) {
  using S = CheckinService;
  net::MethodTable<S> t(server, service, std::string(kMethodPrefix), std::move(user_peers));
  t.observe(std::move(audit));
  t.add("ListPendingCheckins", &S::list_pending);
  t.add("DeliverPendingCheckins", &S::deliver_pending);
  t.add("SubmitCheckin", &S::submit);
  t.add("GetCheckinPreference", &S::get_preference);
  t.add("SetCheckinPreference", &S::set_preference);
  t.add("ListTherapistCheckins", &S::list_for_therapist);
  t.add("ListCheckinAlerts", &S::list_alerts);
  t.add("GetCheckinPolicy", &S::get_policy);
  t.add("SetCheckinPolicy", &S::set_policy);
  t.add("GetCheckinSummary", &S::summary);
  t.add("EraseClientCheckins", &S::erase_client);
}

}  // namespace alliance::reminders
