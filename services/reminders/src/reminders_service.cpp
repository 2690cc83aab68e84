#include "reminders_service.hpp"

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "call_checks.hpp"
#include "reminder_render.hpp"

namespace alliance::reminders {

RemindersService::RemindersService(ReminderStore& store, PeopleDirectory& people, std::string instance, Hooks hooks)
    : store_(store), people_(people), instance_(std::move(instance)), hooks_(std::move(hooks)) {}

asio::awaitable<Result<v1::ListPendingRemindersResponse>> RemindersService::pending(const Ctx& ctx, bool record) {
  if (auto s = signed_in(ctx); !s) co_return s.error();
  const auto now = now_unix_ms();
  auto rows = co_await store_.pending_for(ctx.caller.user_id(), now);
  if (!rows) co_return rows.error();
  v1::ListPendingRemindersResponse out;
  if (rows->empty()) co_return out;
  std::vector<std::string> ids;
  for (const auto& p : *rows) {
    ids.push_back(p.appointment.client_id);
    ids.push_back(p.appointment.therapist_id);
  }
  auto people = co_await people_.lookup(std::move(ids));
  const People none;
  std::vector<Delivery> delivered;
  for (const auto& p : *rows) {
    *out.add_reminders() = render_due(p.reminder, p.appointment, p.show_therapist_name, people ? *people : none, now);
    delivered.push_back(Delivery{p.reminder.id, now});
  }
  if (record) {
    auto done = co_await store_.record_deliveries(std::move(delivered), "reconnect", instance_);
    if (!done) log::warn("cannot record reminder deliveries", {{"reason", done.error().message}});
  }
  co_return out;
}

asio::awaitable<Result<v1::ListPendingRemindersResponse>> RemindersService::list_pending(
    const v1::ListPendingRemindersRequest&, const Ctx& ctx) {
  co_return co_await pending(ctx, false);
}

asio::awaitable<Result<v1::ListPendingRemindersResponse>> RemindersService::deliver_pending(
    const v1::ListPendingRemindersRequest&, const Ctx& ctx) {
  co_return co_await pending(ctx, true);
}

asio::awaitable<Result<v1::AckReminderResponse>> RemindersService::ack(const v1::AckReminderRequest& req,
                                                                       const Ctx& ctx) {
  if (auto s = signed_in(ctx); !s) co_return s.error();
  if (auto s = valid_id(req.reminder_id(), "reminder_id"); !s) co_return s.error();
  auto row = co_await store_.acknowledge(ctx.caller.user_id(), req.reminder_id(), now_unix_ms());
  if (!row && row.error().code == Code::kNotFound && hooks_.ack_other) {
    auto other = co_await hooks_.ack_other(ctx, req.reminder_id());
    if (!other) co_return other.error();
    if (*other) co_return v1::AckReminderResponse{};
  }
  if (!row) co_return row.error();
  v1::AckReminderResponse out;
  *out.mutable_reminder() = to_proto(*row);
  co_return out;
}

asio::awaitable<Result<v1::ListAppointmentRemindersResponse>> RemindersService::list_for_appointment(
    const v1::ListAppointmentRemindersRequest& req, const Ctx& ctx) {
  if (auto s = signed_in(ctx); !s) co_return s.error();
  if (auto s = valid_id(req.appointment_id(), "appointment_id"); !s) co_return s.error();
  const Error not_found{Code::kNotFound, "appointment_id: no such appointment", "appointment_id"};
  auto appointment = co_await store_.find_appointment(req.appointment_id());
  if (!appointment) co_return appointment.error();
  if (!*appointment) co_return not_found;
  const auto& a = **appointment;
  const auto& role = ctx.caller.role();
  const auto& user = ctx.caller.user_id();
  bool may = a.practice_id == ctx.caller.practice_id() &&
             (role == "front_desk" || role == "admin" || (role == "therapist" && a.therapist_id == user) ||
              (role == "client" && a.client_id == user));
  if (!may) co_return not_found;
  auto rows = co_await store_.reminders_of(a.id);
  if (!rows) co_return rows.error();
  v1::ListAppointmentRemindersResponse out;
  for (const auto& r : *rows) *out.add_reminders() = to_proto(r);
  co_return out;
}

asio::awaitable<Result<v1::ReminderPolicyResponse>> RemindersService::get_policy(const v1::GetReminderPolicyRequest&,
                                                                                 const Ctx& ctx) {
  if (auto s = signed_in(ctx); !s) co_return s.error();
  auto row = co_await store_.policy(ctx.caller.practice_id());
  if (!row) co_return row.error();
  v1::ReminderPolicyResponse out;
  *out.mutable_policy() = to_proto(*row);
  co_return out;
}

asio::awaitable<Result<v1::ReminderPolicyResponse>> RemindersService::set_policy(const v1::SetReminderPolicyRequest& req,
                                                                                 const Ctx& ctx) {
  if (auto s = signed_in(ctx); !s) co_return s.error();
  if (ctx.caller.role() != "admin")
    co_return make_error(Code::kPermissionDenied, "only an admin can change the reminder policy");
  std::vector<int> offsets(req.offsets_minutes().begin(), req.offsets_minutes().end());
  std::vector<TypeOffsetsInput> types;
  for (const auto& t : req.type_overrides())
    types.push_back({t.type_id(), std::vector<int>(t.offsets_minutes().begin(), t.offsets_minutes().end())});
  auto policy = parse_policy(offsets, types, req.quiet_start(), req.quiet_end(), req.show_therapist_name());
  if (!policy) co_return policy.error();
  const auto now = now_unix_ms();
  PolicyRow row{ctx.caller.practice_id(), std::move(*policy), ctx.caller.user_id(), now};
  auto changed = co_await store_.set_policy(row, now);
  if (!changed) co_return changed.error();
  if (*changed > 0 && hooks_.plans_changed) hooks_.plans_changed();
  v1::ReminderPolicyResponse out;
  *out.mutable_policy() = to_proto(row);
  co_return out;
}

asio::awaitable<Result<v1::ReminderPreferenceResponse>> RemindersService::get_preference(
    const v1::GetReminderPreferenceRequest&, const Ctx& ctx) {
  if (auto s = signed_in(ctx); !s) co_return s.error();
  auto pref = co_await store_.preference(ctx.caller.user_id());
  if (!pref) co_return pref.error();
  v1::ReminderPreferenceResponse out;
  out.set_enabled(pref->first);
  out.set_updated_unix_ms(pref->second);
  co_return out;
}

asio::awaitable<Result<v1::ReminderPreferenceResponse>> RemindersService::set_preference(
    const v1::SetReminderPreferenceRequest& req, const Ctx& ctx) {
  if (auto s = signed_in(ctx); !s) co_return s.error();
  const auto now = now_unix_ms();
  auto done = co_await store_.set_preference(ctx.caller.user_id(), req.enabled(), now);
  if (!done) co_return done.error();
  v1::ReminderPreferenceResponse out;
  out.set_enabled(req.enabled());
  out.set_updated_unix_ms(now);
  co_return out;
}

}  // namespace alliance::reminders
