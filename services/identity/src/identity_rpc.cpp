#include "identity_rpc.hpp"

#include <memory>

#include "alliance/core/log.hpp"

namespace alliance::identity {
namespace {

using Peers = std::shared_ptr<const std::set<std::string, std::less<>>>;

template <class Req, class Resp>
using Method = asio::awaitable<Result<Resp>> (IdentityService::*)(const Req&, const net::CallContext&);

template <class Req, class Resp>
void add(net::RpcServer& server, IdentityService& service, const Peers& peers, std::string_view name,
         Method<Req, Resp> method) {
  std::function<asio::awaitable<Result<Resp>>(const Req&, const net::CallContext&)> fn =
      [&service, peers, method](const Req& req,
                                const net::CallContext& ctx) -> asio::awaitable<Result<Resp>> {
    if (!peers->contains(ctx.peer_name)) {
      log::warn("rpc refused: peer not allowed", {{"peer", ctx.peer_name}});
      co_return make_error(Code::kPermissionDenied, "this peer may not call identity");
    }
    co_return co_await (service.*method)(req, ctx);
  };
  server.handle<Req, Resp>(std::string(kMethodPrefix) + std::string(name), std::move(fn));
}

}  // namespace


void register_identity_rpc(net::RpcServer& server, IdentityService& service,
                           std::set<std::string, std::less<>> allowed_peers) {
  auto peers = std::make_shared<const std::set<std::string, std::less<>>>(std::move(allowed_peers));
  using S = IdentityService;
  add(server, service, peers, "CreatePractice", &S::create_practice);
  add(server, service, peers, "Login", &S::login);
  add(server, service, peers, "Refresh", &S::refresh);
  add(server, service, peers, "Logout", &S::logout);
  add(server, service, peers, "GetMe", &S::get_me);
  add(server, service, peers, "CreateUser", &S::create_user);
  add(server, service, peers, "ListUsers", &S::list_users);
  add(server, service, peers, "AddCareTeamMember", &S::add_care_team_member);
  add(server, service, peers, "ListCareTeam", &S::list_care_team);
  add(server, service, peers, "GetVerificationKeys", &S::get_verification_keys);
  add(server, service, peers, "ListRevokedSessions", &S::list_revoked_sessions);
  add(server, service, peers, "LookupUsers", &S::lookup_users);
  add(server, service, peers, "CheckCareTeam", &S::check_care_team);
  add(server, service, peers, "RegisterDevice", &S::register_device);
  add(server, service, peers, "ListDevices", &S::list_devices);
  add(server, service, peers, "RevokeDevice", &S::revoke_device);
  add(server, service, peers, "SetArchiveKey", &S::set_archive_key);
  add(server, service, peers, "GetArchiveKey", &S::get_archive_key);
  add(server, service, peers, "ListActiveDevices", &S::list_active_devices);
}

}  // namespace alliance::identity
