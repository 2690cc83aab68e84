#include "identity_rpc.hpp"

#include "alliance/net/rpc_methods.hpp"

namespace alliance::identity {

void register_identity_rpc(net::RpcServer& server, IdentityService& service,
                           std::set<std::string, std::less<>> allowed_peers) {
  using S = IdentityService;
  net::MethodTable<S> t(server, service, std::string(kMethodPrefix), std::move(allowed_peers));
  t.add("CreatePractice", &S::create_practice);
  t.add("Login", &S::login);
  t.add("Refresh", &S::refresh);
  t.add("Logout", &S::logout);
  t.add("GetMe", &S::get_me);
  t.add("CreateUser", &S::create_user);
  t.add("ListUsers", &S::list_users);
  t.add("AddCareTeamMember", &S::add_care_team_member);
  t.add("ListCareTeam", &S::list_care_team);
  t.add("GetVerificationKeys", &S::get_verification_keys);
  t.add("ListRevokedSessions", &S::list_revoked_sessions);
  t.add("LookupUsers", &S::lookup_users);
  t.add("CheckCareTeam", &S::check_care_team);
  t.add("RegisterDevice", &S::register_device);
  t.add("ListDevices", &S::list_devices);
  t.add("RevokeDevice", &S::revoke_device);
  t.add("SetArchiveKey", &S::set_archive_key);
  t.add("GetArchiveKey", &S::get_archive_key);
  t.add("ListActiveDevices", &S::list_active_devices);
}

}  // namespace alliance::identity
