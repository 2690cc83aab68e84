#include "reminders_audit.hpp"

#include "alliance/audit/call_auditor.hpp"
#include "alliance/reminders/v1/reminders.pb.h"

namespace alliance::reminders {
namespace {

namespace pb = ::alliance::reminders::v1;
using audit::Emit;
using net::CallContext;

// The audited methods; the others are not (DeliverPendingReminders is the gateway
// handing a reconnecting device what is due, and the policy read is the same for
// everyone in the practice).
constexpr audit::AuditedMethod kMethods[] = {
    {"ListPendingReminders", "reminder.list", "reminder"},
    {"ListAppointmentReminders", "reminder.list", "reminder"},
    {"AckReminder", "reminder.ack", "reminder"},
    {"SetReminderPolicy", "reminder_policy.change", "reminder"},
    {"GetReminderPreference", "reminder_preference.read", "reminder"},
    {"SetReminderPreference", "reminder_preference.change", "reminder"},
};

// A record about the caller's own data.
void own(std::string_view object_type, const CallContext& ctx, const Emit& emit) {
  const auto& self = ctx.caller.user_id();
  emit({.object_type = object_type, .object_id = self, .subject_user_id = self});
}

}  // namespace

net::CallObserver reminder_auditor(audit::AuditSender& sender) {
  audit::CallAuditor auditor(kMethods);
  // One record per appointment whose reminders were read (a staff read of a client's plan).
  auditor.read<pb::ListAppointmentRemindersResponse>([](const auto& r, const CallContext&, const Emit& emit) {
    if (r.reminders_size() == 0) return;
    const auto& first = r.reminders(0);
    emit({.object_type = "appointment", .object_id = first.appointment_id(), .subject_user_id = first.client_id()});
  });
  auditor.read<pb::AckReminderResponse>([](const auto& r, const CallContext&, const Emit& emit) {
    emit({.object_type = "reminder", .object_id = r.reminder().id(), .subject_user_id = r.reminder().client_id()});
  });
  auditor.read<pb::ReminderPolicyResponse>([](const auto& r, const CallContext&, const Emit& emit) {
    emit({.object_type = "practice", .object_id = r.policy().practice_id()});
  });
  auditor.read<pb::ListPendingRemindersResponse>(
      [](const auto&, const CallContext& ctx, const Emit& emit) { own("reminder_list", ctx, emit); });
  auditor.read<pb::ReminderPreferenceResponse>(
      [](const auto&, const CallContext& ctx, const Emit& emit) { own("reminder_preference", ctx, emit); });
  return auditor.observer(sender);
}

}  // namespace alliance::reminders
