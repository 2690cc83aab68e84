#pragma once
// CheckinService: the check-in API (registered beside RemindersService under the same
// "alliance.reminders.v1.Reminders/" prefix). Clients list, answer and turn off their
// check-ins; a therapist reads only their own clients' scores and alerts; an admin
// sets the practice's check-in policy and, only while it allows, reads per-therapist
// aggregates. Front desk never sees a score. Runs on the service's executor.
#include <functional>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/net/rpc_methods.hpp"
#include "alliance/net/rpc_server.hpp"
#include "alliance/reminders/v1/reminders.pb.h"
#include "checkin_store.hpp"

namespace alliance::reminders {

class CheckinService {
 public:
  struct Hooks {
    std::function<void()> alert_raised;  // an answer raised an alert: push it
  };
  CheckinService(CheckinStore& store, Hooks hooks);

  using Ctx = net::CallContext;
  asio::awaitable<Result<v1::ListPendingCheckinsResponse>> list_pending(const v1::ListPendingCheckinsRequest& req,
                                                                        const Ctx& ctx);
  // The gateway, for a new socket: open check-ins whose push was not acknowledged.
  asio::awaitable<Result<v1::ListPendingCheckinsResponse>> deliver_pending(const v1::ListPendingCheckinsRequest& req,
                                                                           const Ctx& ctx);
  // For AckReminder: acknowledges the push of the caller's check-in `id`; false if it is none of theirs.
  asio::awaitable<Result<bool>> acknowledge(const Ctx& ctx, std::string id);
  asio::awaitable<Result<v1::SubmitCheckinResponse>> submit(const v1::SubmitCheckinRequest& req, const Ctx& ctx);
  asio::awaitable<Result<v1::CheckinPreferenceResponse>> get_preference(const v1::GetCheckinPreferenceRequest& req,
                                                                        const Ctx& ctx);
  asio::awaitable<Result<v1::CheckinPreferenceResponse>> set_preference(const v1::SetCheckinPreferenceRequest& req,
                                                                        const Ctx& ctx);
  asio::awaitable<Result<v1::ListTherapistCheckinsResponse>> list_for_therapist(
      const v1::ListTherapistCheckinsRequest& req, const Ctx& ctx);
  asio::awaitable<Result<v1::ListCheckinAlertsResponse>> list_alerts(const v1::ListCheckinAlertsRequest& req,
                                                                     const Ctx& ctx);
  asio::awaitable<Result<v1::CheckinPolicyResponse>> get_policy(const v1::GetCheckinPolicyRequest& req, const Ctx& ctx);
  asio::awaitable<Result<v1::CheckinPolicyResponse>> set_policy(const v1::SetCheckinPolicyRequest& req, const Ctx& ctx);
  asio::awaitable<Result<v1::GetCheckinSummaryResponse>> summary(const v1::GetCheckinSummaryRequest& req,
                                                                 const Ctx& ctx);
  asio::awaitable<Result<v1::EraseClientCheckinsResponse>> erase_client(const v1::EraseClientCheckinsRequest& req,
                                                                        const Ctx& ctx);

 private:
  asio::awaitable<Result<v1::ListPendingCheckinsResponse>> pending(const Ctx& ctx, bool unacked_only);

  CheckinStore& store_;
  Hooks hooks_;
};

// Registers CheckinService's methods on `server` for `user_peers` (the gateway), each
// finished call reported to `audit` (checkin_auditor).
void register_checkin_rpc(net::RpcServer& server, CheckinService& service, std::set<std::string, std::less<>> user_peers,
                          net::CallObserver audit);

}  // namespace alliance::reminders
