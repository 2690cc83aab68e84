#pragma once
// Registers MessagingService's methods on an RpcServer under
// "alliance.messaging.v1.Messaging/<Name>", behind the peer allow-list.
// Call on the server's executor before listen(); `service` must outlive the server.
#include <set>
#include <string>

#include "alliance/net/rpc_server.hpp"
#include "messaging_service.hpp"

namespace alliance::messaging {

void register_messaging_rpc(net::RpcServer& server, MessagingService& service,
                            std::set<std::string, std::less<>> allowed_peers);

}  // namespace alliance::messaging
