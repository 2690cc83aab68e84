#pragma once
// RemindersService: the reminders API. Each method takes the protobuf request and
// the call's context (the Caller the gateway asserted) and returns a Result;
// protobuf stays at this edge. Anything the caller may not see answers NOT_FOUND,
// as a missing one does. Runs on the service's executor.
#include <functional>
#include <string>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/net/rpc_server.hpp"
#include "alliance/reminders/v1/reminders.pb.h"
#include "people_directory.hpp"
#include "reminder_store.hpp"

namespace alliance::reminders {

inline constexpr std::string_view kMethodPrefix = "alliance.reminders.v1.Reminders/";

class RemindersService {
 public:
  struct Hooks {
    std::function<void()> plans_changed;  // a policy change re-planned reminders
    // An ack whose id is no reminder of the caller's: the push of a check-in of theirs?
    // (true if it was one; its push is then acknowledged). Check-ins share the ack frame.
    std::function<asio::awaitable<Result<bool>>(const net::CallContext&, std::string)> ack_other;
  };
  RemindersService(ReminderStore& store, PeopleDirectory& people, std::string instance, Hooks hooks);

  using Ctx = net::CallContext;
  // GET /v1/reminders: the caller's sent, unacknowledged reminders of appointments not yet started.
  asio::awaitable<Result<v1::ListPendingRemindersResponse>> list_pending(const v1::ListPendingRemindersRequest& req,
                                                                        const Ctx& ctx);
  // The gateway, for a new socket: the same list, each recorded as delivered ("reconnect").
  asio::awaitable<Result<v1::ListPendingRemindersResponse>> deliver_pending(
      const v1::ListPendingRemindersRequest& req, const Ctx& ctx);
  // Also acknowledges a check-in's push (Hooks::ack_other): the answer then holds no reminder.
  asio::awaitable<Result<v1::AckReminderResponse>> ack(const v1::AckReminderRequest& req, const Ctx& ctx);
  asio::awaitable<Result<v1::ListAppointmentRemindersResponse>> list_for_appointment(
      const v1::ListAppointmentRemindersRequest& req, const Ctx& ctx);
  asio::awaitable<Result<v1::ReminderPolicyResponse>> get_policy(const v1::GetReminderPolicyRequest& req,
                                                                 const Ctx& ctx);
  asio::awaitable<Result<v1::ReminderPolicyResponse>> set_policy(const v1::SetReminderPolicyRequest& req,
                                                                 const Ctx& ctx);
  asio::awaitable<Result<v1::ReminderPreferenceResponse>> get_preference(const v1::GetReminderPreferenceRequest& req,
                                                                         const Ctx& ctx);
  asio::awaitable<Result<v1::ReminderPreferenceResponse>> set_preference(const v1::SetReminderPreferenceRequest& req,
                                                                         const Ctx& ctx);

 private:
  asio::awaitable<Result<v1::ListPendingRemindersResponse>> pending(const Ctx& ctx, bool record);

  ReminderStore& store_;
  PeopleDirectory& people_;
  std::string instance_;
  Hooks hooks_;
};

}  // namespace alliance::reminders
