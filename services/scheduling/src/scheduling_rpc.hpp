#pragma once
// Registers SchedulingService's methods on an RpcServer under
// "alliance.scheduling.v1.Scheduling/<Name>", each behind the peer allow-list: only
// peers whose client-certificate CN is listed may call (else kPermissionDenied).
// Call on the server's executor before listen(); `service` must outlive the server.
#include <set>
#include <string>
#include <string_view>

#include "alliance/net/rpc_server.hpp"
#include "scheduling_service.hpp"

namespace alliance::scheduling {

inline constexpr std::string_view kMethodPrefix = "alliance.scheduling.v1.Scheduling/";

void register_scheduling_rpc(net::RpcServer& server, SchedulingService& service,
                             std::set<std::string, std::less<>> allowed_peers);

}  // namespace alliance::scheduling
