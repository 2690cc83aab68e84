#pragma once
// Registering a service class's coroutine methods on an RpcServer behind a peer
// allow-list: only peers whose client-certificate CN is listed may call (others get
// kPermissionDenied, logged). Call on the server's executor before listen(); the
// service must outlive the server.
//
//   net::MethodTable table(server, service, "alliance.messaging.v1.Messaging/", peers);
//   table.add("SendMessage", &MessagingService::send_message);
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "alliance/core/log.hpp"
#include "alliance/net/rpc_server.hpp"

namespace alliance::net {

using PeerSet = std::set<std::string, std::less<>>;

template <class Service>
class MethodTable {
 public:
  MethodTable(RpcServer& server, Service& service, std::string prefix, PeerSet allowed_peers)
      : server_(server),
        service_(service),
        prefix_(std::move(prefix)),
        peers_(std::make_shared<const PeerSet>(std::move(allowed_peers))) {}

  template <class Req, class Resp>
  void add(std::string_view name, asio::awaitable<Result<Resp>> (Service::*method)(const Req&, const CallContext&)) {
    std::function<asio::awaitable<Result<Resp>>(const Req&, const CallContext&)> fn =
        [&service = service_, peers = peers_, method](const Req& req,
                                                      const CallContext& ctx) -> asio::awaitable<Result<Resp>> {
      if (!peers->contains(ctx.peer_name)) {
        log::warn("rpc refused: peer not allowed", {{"peer", ctx.peer_name}});
        co_return make_error(Code::kPermissionDenied, "this peer may not call this service");
      }
      co_return co_await (service.*method)(req, ctx);
    };
    server_.handle<Req, Resp>(prefix_ + std::string(name), std::move(fn));
  }

 private:
  RpcServer& server_;
  Service& service_;
  std::string prefix_;
  std::shared_ptr<const PeerSet> peers_;
};

}  // namespace alliance::net
