#pragma once
// Registers IdentityService's methods on an RpcServer under
// "alliance.identity.v1.Identity/<Name>", each behind its peers (client-certificate
// CNs; anyone else gets kPermissionDenied): the user-facing methods behind
// `allowed_peers` (the peers that call on behalf of end users, normally just the
// gateway), each internal method behind the fixed set of services that need it
// (identity_rpc.cpp is that table). Call on the server's executor before listen();
// `service` must outlive the server.
#include <set>
#include <string>
#include <string_view>

#include "alliance/net/rpc_server.hpp"
#include "identity_service.hpp"

namespace alliance::identity {

inline constexpr std::string_view kMethodPrefix = "alliance.identity.v1.Identity/";

void register_identity_rpc(net::RpcServer& server, IdentityService& service,
                           std::set<std::string, std::less<>> allowed_peers);

}  // namespace alliance::identity
