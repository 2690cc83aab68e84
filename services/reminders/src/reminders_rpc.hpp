#pragma once
// Registers the reminders methods on an RpcServer: every method for the peers that
// call for end users (the gateway), none for anyone else.
#include <set>
#include <string>

#include "alliance/net/rpc_methods.hpp"
#include "alliance/net/rpc_server.hpp"
#include "reminders_service.hpp"

namespace alliance::reminders {

// `audit` (optional) hears every finished call: reminders_audit.hpp's auditor.
void register_reminders_rpc(net::RpcServer& server, RemindersService& service,
                            std::set<std::string, std::less<>> user_peers, net::CallObserver audit = {});

}  // namespace alliance::reminders
