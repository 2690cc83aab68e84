#include "reminders_audit.hpp"

#include "alliance/reminders/v1/reminders.pb.h"

namespace alliance::reminders {
namespace {

namespace pb = ::alliance::reminders::v1;

// The action each audited method is recorded as; methods not listed are not audited
// (DeliverPendingReminders is the gateway handing a reconnecting device what is due,
// and the policy read is the same for everyone in the practice).
constexpr std::pair<std::string_view, std::string_view> kActions[] = {
    {"ListPendingReminders", "reminder.list"},
    {"ListAppointmentReminders", "reminder.list"},
    {"AckReminder", "reminder.ack"},
    {"SetReminderPolicy", "reminder_policy.change"},
    {"GetReminderPreference", "reminder_preference.read"},
    {"SetReminderPreference", "reminder_preference.change"},
};

}  // namespace

net::CallObserver reminder_auditor(audit::AuditSender& sender) {
  return [&sender](std::string_view method, const net::CallContext& ctx, const google::protobuf::Message* response,
                   const Error* error) {
    const auto action = audit::action_of(method, kActions);
    if (action.empty() || ctx.caller.user_id().empty()) return;
    if (error) return sender.record_refusal(ctx, {.action = action, .object_type = "reminder"}, *error);
    const auto& self = ctx.caller.user_id();
    if (const auto* l = dynamic_cast<const pb::ListAppointmentRemindersResponse*>(response)) {
      // One record per appointment whose reminders were read (a staff read of a client's plan).
      if (l->reminders_size() > 0) {
        const auto& first = l->reminders(0);
        sender.record(ctx, {.action = action, .object_type = "appointment", .object_id = first.appointment_id(),
                            .subject_user_id = first.client_id()});
      }
    } else if (const auto* a = dynamic_cast<const pb::AckReminderResponse*>(response)) {
      sender.record(ctx, {.action = action, .object_type = "reminder", .object_id = a->reminder().id(),
                          .subject_user_id = a->reminder().client_id()});
    } else if (const auto* p = dynamic_cast<const pb::ReminderPolicyResponse*>(response)) {
      sender.record(ctx, {.action = action, .object_type = "practice", .object_id = p->policy().practice_id()});
    } else if (dynamic_cast<const pb::ListPendingRemindersResponse*>(response)) {
      sender.record(ctx, {.action = action, .object_type = "reminder_list", .object_id = self, .subject_user_id = self});
    } else if (dynamic_cast<const pb::ReminderPreferenceResponse*>(response)) {
      sender.record(ctx, {.action = action, .object_type = "reminder_preference", .object_id = self,
                          .subject_user_id = self});
    }
  };
}

}  // namespace alliance::reminders
