#include "checkin_audit.hpp"

#include <string>

#include "alliance/reminders/v1/reminders.pb.h"

namespace alliance::reminders {
namespace {

// The action each audited method is recorded as; methods not listed are not audited
// (a client's own list of open check-ins, preferences, the policy read).
std::string_view action_of(std::string_view method) {
  static constexpr std::pair<std::string_view, std::string_view> kActions[] = {
      {"ListTherapistCheckins", "checkin.read"}, {"ListCheckinAlerts", "checkin_alert.read"},
      {"SubmitCheckin", "checkin.submit"},       {"SetCheckinPolicy", "checkin_policy.change"},
      {"GetCheckinSummary", "checkin_summary.read"},   {"EraseClientCheckins", "checkin.erase"},
  };
  for (const auto& [name, action] : kActions)
    if (name == method) return action;
  return {};
}

}  // namespace

net::CallObserver checkin_auditor(audit::AuditSender& sender) {
  return [&sender](std::string_view method, const net::CallContext& ctx, const google::protobuf::Message* response,
                   const Error* error) {
    const auto action = action_of(method);
    if (action.empty() || ctx.caller.user_id().empty()) return;
    if (error) {
      const auto outcome = audit::outcome_of(*error);
      if (outcome != "failed") sender.record(ctx, {.action = action, .object_type = "checkin", .outcome = outcome});
      return;
    }
    if (const auto* l = dynamic_cast<const v1::ListTherapistCheckinsResponse*>(response)) {
      for (const auto& c : l->checkins())
        sender.record(ctx, {.action = action, .object_type = "checkin", .object_id = c.id(),
                            .subject_user_id = c.client_id()});
    } else if (const auto* a = dynamic_cast<const v1::ListCheckinAlertsResponse*>(response)) {
      for (const auto& alert : a->alerts())
        sender.record(ctx, {.action = action, .object_type = "checkin", .object_id = alert.checkin_id(),
                            .subject_user_id = alert.client_id()});
    } else if (const auto* s = dynamic_cast<const v1::SubmitCheckinResponse*>(response)) {
      sender.record(ctx, {.action = action, .object_type = "checkin", .object_id = s->checkin().id(),
                          .subject_user_id = s->checkin().client_id()});
    } else if (const auto* e = dynamic_cast<const v1::EraseClientCheckinsResponse*>(response)) {
      sender.record(ctx, {.action = action, .object_type = "checkin", .object_id = e->client_id(),
                          .subject_user_id = e->client_id()});
    } else {
      sender.record(ctx, {.action = action, .object_type = "checkin_policy", .object_id = ctx.caller.practice_id()});
    }
  };
}

}  // namespace alliance::reminders
