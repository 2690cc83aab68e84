#include "identity_rpc.hpp"

#include "alliance/net/rpc_methods.hpp"

namespace alliance::identity {

void register_identity_rpc(net::RpcServer& server, IdentityService& service,
                           std::set<std::string, std::less<>> allowed_peers) {
  using S = IdentityService;
  net::MethodTable<S> t(server, service, std::string(kMethodPrefix), std::move(allowed_peers));
  // What end users do, through the peers that call on their behalf (the gateway).
  t.add("CreatePractice", &S::create_practice);
  t.add("Login", &S::login);
  t.add("Refresh", &S::refresh);
  t.add("Logout", &S::logout);
  t.add("GetMe", &S::get_me);
  t.add("CreateUser", &S::create_user);
  t.add("ListUsers", &S::list_users);
  t.add("SearchClients", &S::search_clients);
  t.add("SetTimeZone", &S::set_time_zone);
  t.add("AddCareTeamMember", &S::add_care_team_member);
  t.add("ListCareTeam", &S::list_care_team);
  t.add("RegisterDevice", &S::register_device);
  t.add("ListDevices", &S::list_devices);
  t.add("RevokeDevice", &S::revoke_device);
  t.add("SetIdentityKey", &S::set_identity_key);
  t.add("ApproveDevice", &S::approve_device);
  t.add("GetIdentityKey", &S::get_identity_key);
  t.add("SetArchiveKey", &S::set_archive_key);
  t.add("GetArchiveKey", &S::get_archive_key);
  t.add("DeactivateUser", &S::deactivate_user);
  t.add("ReactivateUser", &S::reactivate_user);
  t.add("SetRole", &S::set_role);
  t.add("UpdateUser", &S::update_user);
  t.add("StartPasswordReset", &S::start_password_reset);
  t.add("RedeemPasswordReset", &S::redeem_password_reset);
  t.add("SetPracticePolicy", &S::set_practice_policy);
  t.add("ChangePassword", &S::change_password);
  t.add("CompleteTwoFactor", &S::complete_two_factor);
  t.add("EnrolWithChallenge", &S::enrol_with_challenge);
  t.add("StartTwoFactorEnrolment", &S::start_two_factor_enrolment);
  t.add("ConfirmTwoFactor", &S::confirm_two_factor);
  t.add("DisableTwoFactor", &S::disable_two_factor);
  t.add("GetTwoFactorStatus", &S::get_two_factor_status);
  t.add("ResetTwoFactor", &S::reset_two_factor);
  t.add("QueryAudit", &S::query_audit);
  t.add("PruneAudit", &S::prune_audit);
  t.add("GetAccessLog", &S::get_access_log);

  // What services ask as themselves, each only by the peers that need it.
  // The gateway verifies tokens locally and drops revoked sessions' sockets.
  t.add("GetVerificationKeys", &S::get_verification_keys, net::PeerSet{"gateway"});
  t.add("ListRevokedSessions", &S::list_revoked_sessions, net::PeerSet{"gateway"});
  // Access checks (messaging, scheduling); names and time zones for reminders' texts.
  t.add("LookupUsers", &S::lookup_users, net::PeerSet{"messaging", "scheduling", "reminders"});
  t.add("CheckCareTeam", &S::check_care_team, net::PeerSet{"messaging", "scheduling"});
  // The device directory end-to-end encryption wraps message keys for.
  t.add("ListActiveDevices", &S::list_active_devices, net::PeerSet{"messaging"});
  // Audit records of the services that touch protected data; never the gateway, so
  // no end user can write into the log.
  t.add("AppendAudit", &S::append_audit, net::PeerSet{"messaging", "scheduling", "reminders"});
}

}  // namespace alliance::identity
