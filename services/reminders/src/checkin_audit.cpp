#include "checkin_audit.hpp"

#include "alliance/audit/call_auditor.hpp"
#include "alliance/reminders/v1/reminders.pb.h"

namespace alliance::reminders {
namespace {

namespace pb = ::alliance::reminders::v1;
using audit::Emit;
using net::CallContext;

// The audited methods; the others are not (a client's own list of open check-ins,
// preferences, the policy read).
constexpr audit::AuditedMethod kMethods[] = {
    {"ListTherapistCheckins", "checkin.read", "checkin"},
    {"ListCheckinAlerts", "checkin_alert.read", "checkin"},
    {"SubmitCheckin", "checkin.submit", "checkin"},
    {"SetCheckinPolicy", "checkin_policy.change", "checkin"},
    {"GetCheckinSummary", "checkin_summary.read", "checkin"},
    {"EraseClientCheckins", "checkin.erase", "checkin"},
};

void practice_policy(const CallContext& ctx, const Emit& emit) {
  emit({.object_type = "checkin_policy", .object_id = ctx.caller.practice_id()});
}

}  // namespace

net::CallObserver checkin_auditor(audit::AuditSender& sender) {
  audit::CallAuditor auditor(kMethods);
  auditor.read<pb::ListTherapistCheckinsResponse>([](const auto& r, const CallContext&, const Emit& emit) {
    for (const auto& c : r.checkins())
      emit({.object_type = "checkin", .object_id = c.id(), .subject_user_id = c.client_id()});
  });
  auditor.read<pb::ListCheckinAlertsResponse>([](const auto& r, const CallContext&, const Emit& emit) {
    for (const auto& a : r.alerts())
      emit({.object_type = "checkin", .object_id = a.checkin_id(), .subject_user_id = a.client_id()});
  });
  auditor.read<pb::SubmitCheckinResponse>([](const auto& r, const CallContext&, const Emit& emit) {
    emit({.object_type = "checkin", .object_id = r.checkin().id(), .subject_user_id = r.checkin().client_id()});
  });
  auditor.read<pb::EraseClientCheckinsResponse>([](const auto& r, const CallContext&, const Emit& emit) {
    emit({.object_type = "checkin", .object_id = r.client_id(), .subject_user_id = r.client_id()});
  });
  // Policy changes and the practice's aggregates: about the practice, nobody's record.
  auditor.read<pb::CheckinPolicyResponse>(
      [](const auto&, const CallContext& ctx, const Emit& emit) { practice_policy(ctx, emit); });
  auditor.read<pb::GetCheckinSummaryResponse>(
      [](const auto&, const CallContext& ctx, const Emit& emit) { practice_policy(ctx, emit); });
  return auditor.observer(sender);
}

}  // namespace alliance::reminders
