#include "scheduling_rpc.hpp"

#include "alliance/net/rpc_methods.hpp"

namespace alliance::scheduling {

void register_scheduling_rpc(net::RpcServer& server, SchedulingService& service,
                             std::set<std::string, std::less<>> allowed_peers, net::CallObserver audit) {
  using S = SchedulingService;
  net::MethodTable<S> t(server, service, std::string(kMethodPrefix), std::move(allowed_peers));
  t.observe(std::move(audit));
  t.add("CreateAppointmentType", &S::create_appointment_type);
  t.add("ListAppointmentTypes", &S::list_appointment_types);
  t.add("SetAvailability", &S::set_availability);
  t.add("GetAvailability", &S::get_availability);
  t.add("ListSlots", &S::list_slots);
  t.add("ListSlotRuns", &S::list_slot_runs);
  t.add("BookAppointment", &S::book_appointment);
  t.add("GetAppointment", &S::get_appointment);
  t.add("ConfirmAppointment", &S::confirm_appointment);
  t.add("CancelAppointment", &S::cancel_appointment);
  t.add("CompleteAppointment", &S::complete_appointment);
  t.add("MarkNoShow", &S::mark_no_show);
  t.add("RescheduleAppointment", &S::reschedule_appointment);
  t.add("ListAppointments", &S::list_appointments);
  t.add("BookSeries", &S::book_series);
  t.add("CancelSeries", &S::cancel_series);
  t.add("RescheduleSeries", &S::reschedule_series);
  t.add("CreateLocation", &S::create_location);
  t.add("ListLocations", &S::list_locations);
  t.add("UpdateLocation", &S::update_location);
  t.add("SetPracticeVideoLink", &S::set_practice_video_link);
  t.add("GetPracticeVideoLink", &S::get_practice_video_link);
  // Services calling as themselves: only what each needs.
  t.add("ListEventsSince", &S::list_events_since, net::PeerSet{"reminders"});
}

void register_waitlist_rpc(net::RpcServer& server, Waitlist& waitlist, CalendarFeed& feed,
                           std::set<std::string, std::less<>> allowed_peers, net::CallObserver audit) {
  net::MethodTable<Waitlist> w(server, waitlist, std::string(kMethodPrefix), allowed_peers);
  net::MethodTable<CalendarFeed> f(server, feed, std::string(kMethodPrefix), std::move(allowed_peers));
  w.observe(std::move(audit));
  w.add("JoinWaitlist", &Waitlist::join);
  w.add("ListWaitlist", &Waitlist::list);
  w.add("LeaveWaitlist", &Waitlist::leave);
  w.add("ListWaitlistOffers", &Waitlist::list_offers);
  w.add("AcceptWaitlistOffer", &Waitlist::accept_offer);
  w.add("DeclineWaitlistOffer", &Waitlist::decline_offer);
  f.add("RotateCalendarFeed", &CalendarFeed::rotate);
  f.add("GetCalendarFeed", &CalendarFeed::get);
}

void register_calendar_rpc(net::RpcServer& server, Calendar& calendar, std::set<std::string, std::less<>> allowed_peers,
                           net::CallObserver audit) {
  net::MethodTable<Calendar> t(server, calendar, std::string(kMethodPrefix), std::move(allowed_peers));
  t.observe(std::move(audit));
  t.add("CreateTimeBlock", &Calendar::create_time_block);
  t.add("ListTimeBlocks", &Calendar::list_time_blocks);
  t.add("DeleteTimeBlock", &Calendar::delete_time_block);
  t.add("GetCalendar", &Calendar::get_calendar);
  t.add("SetAppointmentNote", &Calendar::set_note);
  t.add("GetAppointmentNote", &Calendar::get_note);
}

}  // namespace alliance::scheduling
