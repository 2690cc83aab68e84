#include "scheduling_rpc.hpp"

#include <memory>

#include "alliance/core/log.hpp"

namespace alliance::scheduling {
namespace {

using Peers = std::shared_ptr<const std::set<std::string, std::less<>>>;

template <class Service, class Req, class Resp>
using Method = asio::awaitable<Result<Resp>> (Service::*)(const Req&, const net::CallContext&);

template <class Service, class Req, class Resp>
void add(net::RpcServer& server, Service& service, const Peers& peers, std::string_view name,
         Method<Service, Req, Resp> method) {
  std::function<asio::awaitable<Result<Resp>>(const Req&, const net::CallContext&)> fn =
      [&service, peers, method](const Req& req,
                                const net::CallContext& ctx) -> asio::awaitable<Result<Resp>> {
    if (!peers->contains(ctx.peer_name)) {
      log::warn("rpc refused: peer not allowed", {{"peer", ctx.peer_name}});
      co_return make_error(Code::kPermissionDenied, "this peer may not call scheduling");
    }
    co_return co_await (service.*method)(req, ctx);
  };
  server.handle<Req, Resp>(std::string(kMethodPrefix) + std::string(name), std::move(fn));
}

}  // namespace

void register_scheduling_rpc(net::RpcServer& server, SchedulingService& service,
                             std::set<std::string, std::less<>> allowed_peers) {
  auto peers = std::make_shared<const std::set<std::string, std::less<>>>(std::move(allowed_peers));
  using S = SchedulingService;
  add(server, service, peers, "CreateAppointmentType", &S::create_appointment_type);
  add(server, service, peers, "ListAppointmentTypes", &S::list_appointment_types);
  add(server, service, peers, "SetAvailability", &S::set_availability);
  add(server, service, peers, "GetAvailability", &S::get_availability);
  add(server, service, peers, "ListSlots", &S::list_slots);
  add(server, service, peers, "BookAppointment", &S::book_appointment);
  add(server, service, peers, "GetAppointment", &S::get_appointment);
  add(server, service, peers, "ConfirmAppointment", &S::confirm_appointment);
  add(server, service, peers, "CancelAppointment", &S::cancel_appointment);
  add(server, service, peers, "CompleteAppointment", &S::complete_appointment);
  add(server, service, peers, "MarkNoShow", &S::mark_no_show);
  add(server, service, peers, "RescheduleAppointment", &S::reschedule_appointment);
  add(server, service, peers, "ListAppointments", &S::list_appointments);
  add(server, service, peers, "BookSeries", &S::book_series);
  add(server, service, peers, "CancelSeries", &S::cancel_series);
  add(server, service, peers, "RescheduleSeries", &S::reschedule_series);
}

void register_waitlist_rpc(net::RpcServer& server, Waitlist& waitlist, CalendarFeed& feed,
                           std::set<std::string, std::less<>> allowed_peers) {
  auto peers = std::make_shared<const std::set<std::string, std::less<>>>(std::move(allowed_peers));
  add(server, waitlist, peers, "JoinWaitlist", &Waitlist::join);
  add(server, waitlist, peers, "ListWaitlist", &Waitlist::list);
  add(server, waitlist, peers, "LeaveWaitlist", &Waitlist::leave);
  add(server, waitlist, peers, "ListWaitlistOffers", &Waitlist::list_offers);
  add(server, waitlist, peers, "AcceptWaitlistOffer", &Waitlist::accept_offer);
  add(server, waitlist, peers, "DeclineWaitlistOffer", &Waitlist::decline_offer);
  add(server, feed, peers, "RotateCalendarFeed", &CalendarFeed::rotate);
  add(server, feed, peers, "GetCalendarFeed", &CalendarFeed::get);
}

}  // namespace alliance::scheduling
