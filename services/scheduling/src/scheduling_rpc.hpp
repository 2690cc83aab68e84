#pragma once
// Registers SchedulingService's methods on an RpcServer under
// "alliance.scheduling.v1.Scheduling/<Name>", each behind its peer set (else
// kPermissionDenied). `allowed_peers` (config allowed_peers) are the peers that call
// for end users (the gateway) and get every user-facing method; a service calling
// as itself gets only the methods named for it here: the reminders service
// ListEventsSince, nothing else. Call on the server's executor before listen();
// `service` must outlive the server.
#include <set>
#include <string>
#include <string_view>

#include "alliance/net/rpc_methods.hpp"
#include "alliance/net/rpc_server.hpp"
#include "calendar.hpp"
#include "calendar_feed.hpp"
#include "scheduling_service.hpp"
#include "waitlist.hpp"

namespace alliance::scheduling {

inline constexpr std::string_view kMethodPrefix = "alliance.scheduling.v1.Scheduling/";

// `audit` (optional, each function) hears every finished call: scheduling_audit.hpp's auditor.
void register_scheduling_rpc(net::RpcServer& server, SchedulingService& service,
                             std::set<std::string, std::less<>> allowed_peers, net::CallObserver audit = {});
// The waitlist (JoinWaitlist, ListWaitlist, LeaveWaitlist, ListWaitlistOffers,
// AcceptWaitlistOffer, DeclineWaitlistOffer) and the calendar feed
// (RotateCalendarFeed, GetCalendarFeed), under the same prefix and allow-list.
void register_waitlist_rpc(net::RpcServer& server, Waitlist& waitlist, CalendarFeed& feed,
                           std::set<std::string, std::less<>> allowed_peers, net::CallObserver audit = {});

// Time blocks (CreateTimeBlock, ListTimeBlocks, DeleteTimeBlock), the calendar view
// (GetCalendar) and staff notes (SetAppointmentNote, GetAppointmentNote), under the
// same prefix and allow-list.
void register_calendar_rpc(net::RpcServer& server, Calendar& calendar, std::set<std::string, std::less<>> allowed_peers,
                           net::CallObserver audit = {});

}  // namespace alliance::scheduling
