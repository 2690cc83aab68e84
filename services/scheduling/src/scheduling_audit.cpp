#include "scheduling_audit.hpp"

#include <set>
#include <string>
#include <utility>

#include "alliance/audit/call_auditor.hpp"
#include "alliance/scheduling/v1/scheduling.pb.h"

namespace alliance::scheduling {
namespace {

namespace pb = ::alliance::scheduling::v1;
using audit::Emit;
using net::CallContext;

// The audited methods; the others (types, availability, slots, time blocks, locations,
// the video link, the token-only calendar feed) show no client's data.
constexpr audit::AuditedMethod kMethods[] = {
    {"BookAppointment", "appointment.book", "appointment"},
    {"GetAppointment", "appointment.read", "appointment"},
    {"ConfirmAppointment", "appointment.confirm", "appointment"},
    {"CancelAppointment", "appointment.cancel", "appointment"},
    {"CompleteAppointment", "appointment.complete", "appointment"},
    {"MarkNoShow", "appointment.no_show", "appointment"},
    {"RescheduleAppointment", "appointment.reschedule", "appointment"},
    {"ListAppointments", "appointment.list", "appointment"},
    {"BookSeries", "series.book", "series"},
    {"CancelSeries", "series.cancel", "series"},
    {"RescheduleSeries", "series.reschedule", "series"},
    {"JoinWaitlist", "waitlist.join", "waitlist_entry"},
    {"ListWaitlist", "waitlist.read", "waitlist_entry"},
    {"LeaveWaitlist", "waitlist.leave", "waitlist_entry"},
    {"ListWaitlistOffers", "waitlist_offer.read", "waitlist_offer"},
    {"AcceptWaitlistOffer", "waitlist_offer.accept", "waitlist_offer"},
    {"DeclineWaitlistOffer", "waitlist_offer.decline", "waitlist_offer"},
    {"GetCalendar", "calendar.read", "calendar"},
    {"GetAppointmentNote", "appointment_note.read", "appointment"},
    {"SetAppointmentNote", "appointment_note.change", "appointment"},
};

void appointment(const pb::Appointment& a, const Emit& emit) {
  if (!a.id().empty()) emit({.object_type = "appointment", .object_id = a.id(), .subject_user_id = a.client_id()});
}

void entry(const pb::WaitlistEntry& e, const Emit& emit) {
  emit({.object_type = "waitlist_entry", .object_id = e.id(), .subject_user_id = e.client_id()});
}

void offer(const pb::WaitlistOffer& o, const Emit& emit) {
  emit({.object_type = "waitlist_offer", .object_id = o.id(), .subject_user_id = o.client_id()});
}

// A calendar shows many clients' appointments: one record per client on each
// therapist's calendar (object: the therapist's calendar), so each client's access log
// shows who looked, and no client's record names another client's appointment.
void calendar(const pb::GetCalendarResponse& r, const CallContext&, const Emit& emit) {
  for (const auto& t : r.therapists()) {
    std::set<std::string_view> clients;
    for (const auto& a : t.appointments()) clients.insert(a.appointment().client_id());
    for (const auto client : clients)
      emit({.object_type = "calendar", .object_id = t.therapist_id(), .subject_user_id = client});
  }
}

}  // namespace

net::CallObserver scheduling_auditor(audit::AuditSender& sender) {
  audit::CallAuditor auditor(kMethods);
  auditor.read<pb::AppointmentResponse>([](const auto& r, const CallContext&, const Emit& emit) {
    appointment(r.appointment(), emit);
  });
  auditor.read<pb::ListAppointmentsResponse>([](const auto& r, const CallContext&, const Emit& emit) {
    for (const auto& a : r.appointments()) appointment(a, emit);
  });
  auditor.read<pb::BookSeriesResponse>([](const auto& r, const CallContext&, const Emit& emit) {
    for (const auto& o : r.occurrences()) appointment(o.appointment(), emit);
  });
  auditor.read<pb::CancelSeriesResponse>([](const auto& r, const CallContext&, const Emit& emit) {
    for (const auto& a : r.cancelled()) appointment(a, emit);
  });
  auditor.read<pb::RescheduleSeriesResponse>([](const auto& r, const CallContext&, const Emit& emit) {
    for (const auto& o : r.occurrences()) appointment(o.appointment(), emit);
  });
  auditor.read<pb::WaitlistEntryResponse>([](const auto& r, const CallContext&, const Emit& emit) {
    entry(r.entry(), emit);
  });
  auditor.read<pb::ListWaitlistResponse>([](const auto& r, const CallContext&, const Emit& emit) {
    for (const auto& e : r.entries()) entry(e, emit);
  });
  auditor.read<pb::WaitlistOfferResponse>([](const auto& r, const CallContext&, const Emit& emit) {
    offer(r.offer(), emit);
    appointment(r.appointment(), emit);
  });
  auditor.read<pb::ListWaitlistOffersResponse>([](const auto& r, const CallContext&, const Emit& emit) {
    for (const auto& o : r.offers()) offer(o, emit);
  });
  auditor.read<pb::GetCalendarResponse>(calendar);
  // A staff note is part of its client's record: the client sees who read or changed it.
  auditor.read<pb::AppointmentNoteResponse>([](const auto& r, const CallContext&, const Emit& emit) {
    emit({.object_type = "appointment", .object_id = r.note().appointment_id(),
          .subject_user_id = r.note().client_id()});
  });
  return auditor.observer(sender);
}

}  // namespace alliance::scheduling
