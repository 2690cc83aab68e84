#include "scheduling_audit.hpp"

#include <string>

#include "alliance/scheduling/v1/scheduling.pb.h"

namespace alliance::scheduling {
namespace {

namespace pb = ::alliance::scheduling::v1;

// The action each audited method is recorded as; methods not listed are not audited.
constexpr std::pair<std::string_view, std::string_view> kActions[] = {
      {"BookAppointment", "appointment.book"},         {"GetAppointment", "appointment.read"},
      {"ConfirmAppointment", "appointment.confirm"},   {"CancelAppointment", "appointment.cancel"},
      {"CompleteAppointment", "appointment.complete"}, {"MarkNoShow", "appointment.no_show"},
      {"RescheduleAppointment", "appointment.reschedule"}, {"ListAppointments", "appointment.list"},
};

}  // namespace

net::CallObserver appointment_auditor(audit::AuditSender& sender) {
  return [&sender](std::string_view method, const net::CallContext& ctx, const google::protobuf::Message* response,
                   const Error* error) {
    const auto action = audit::action_of(method, kActions);
    if (action.empty() || ctx.caller.user_id().empty()) return;
    if (error) return sender.record_refusal(ctx, {.action = action, .object_type = "appointment"}, *error);
    auto one = [&](const pb::Appointment& a) {
      sender.record(ctx, {.action = action, .object_type = "appointment", .object_id = a.id(),
                          .subject_user_id = a.client_id()});
    };
    if (const auto* r = dynamic_cast<const pb::AppointmentResponse*>(response)) {
      one(r->appointment());
    } else if (const auto* l = dynamic_cast<const pb::ListAppointmentsResponse*>(response)) {
      for (const auto& a : l->appointments()) one(a);
    }
  };
}

}  // namespace alliance::scheduling
