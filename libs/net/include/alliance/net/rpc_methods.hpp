#pragma once
// Registering a service class's coroutine methods on an RpcServer behind peer
// allow-lists: a method may be called only by the peers (client-certificate CNs)
// listed for it; others get kPermissionDenied (logged). Call on the server's
// executor before listen(); the service must outlive the server.
//
// Only the peers given to the table itself (the gateway) call on behalf of an end
// user, whose Caller they assert. Every other service calls as itself, and only the
// methods registered for it by name (the service's table in code is the one place
// that says which peer may call what):
//
//   net::MethodTable table(server, service, "alliance.scheduling.v1.Scheduling/", user_peers);
//   table.add("BookAppointment", &SchedulingService::book_appointment);     // user_peers only
//   table.add("ListEventsSince", &SchedulingService::list_events_since,
//             net::PeerSet{"reminders"});                                  // reminders only
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "alliance/core/log.hpp"
#include "alliance/net/rpc_server.hpp"

namespace alliance::net {

using PeerSet = std::set<std::string, std::less<>>;

// Told of every finished call of a table's methods (e.g. to audit it): the method's
// name, the call's context, and the response or the error (exactly one is non-null).
// Runs on the server's executor after the handler; it must not block.
using CallObserver = std::function<void(std::string_view method, const CallContext& ctx,
                                        const google::protobuf::Message* response, const Error* error)>;

template <class Service>
class MethodTable {
 public:
  MethodTable(RpcServer& server, Service& service, std::string prefix, PeerSet user_peers)
      : server_(server),
        service_(service),
        prefix_(std::move(prefix)),
        user_peers_(std::make_shared<const PeerSet>(std::move(user_peers))) {}

  // Methods added after this are reported to `observer` once they finish.
  void observe(CallObserver observer) {
    if (observer) observer_ = std::make_shared<const CallObserver>(std::move(observer));
  }

  // A method the gateway calls for an end user: only the table's peers.
  template <class Req, class Resp>
  void add(std::string_view name, asio::awaitable<Result<Resp>> (Service::*method)(const Req&, const CallContext&)) {
    register_method(name, method, user_peers_);
  }

  // A method only `peers` may call (services calling as themselves).
  template <class Req, class Resp>
  void add(std::string_view name, asio::awaitable<Result<Resp>> (Service::*method)(const Req&, const CallContext&),
           PeerSet peers) {
    register_method(name, method, std::make_shared<const PeerSet>(std::move(peers)));
  }

 private:
  template <class Req, class Resp>
  void register_method(std::string_view name,
                       asio::awaitable<Result<Resp>> (Service::*method)(const Req&, const CallContext&),
                       std::shared_ptr<const PeerSet> peers) {
    std::function<asio::awaitable<Result<Resp>>(const Req&, const CallContext&)> fn =
        [&service = service_, peers = std::move(peers), method, full = prefix_ + std::string(name),
         short_name = std::string(name), observer = observer_](const Req& req,
                                                               const CallContext& ctx) -> asio::awaitable<Result<Resp>> {
      if (!peers->contains(ctx.peer_name)) {
        log::warn("rpc refused: peer not allowed", {{"peer", ctx.peer_name}, {"method", full}});
        co_return make_error(Code::kPermissionDenied, "this peer may not call this method");
      }
      auto result = co_await (service.*method)(req, ctx);
      if (observer) {
        if (result)
          (*observer)(short_name, ctx, &*result, nullptr);
        else
          (*observer)(short_name, ctx, nullptr, &result.error());
      }
      co_return result;
    };
    server_.handle<Req, Resp>(prefix_ + std::string(name), std::move(fn));
  }

  RpcServer& server_;
  Service& service_;
  std::string prefix_;
  std::shared_ptr<const PeerSet> user_peers_;
  std::shared_ptr<const CallObserver> observer_;
};

}  // namespace alliance::net
