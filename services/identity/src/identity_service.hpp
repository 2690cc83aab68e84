#pragma once
// IdentityService: identity's RPC handlers as a plain class with no sockets.
// Each method takes the protobuf request and the call's context (the Caller the
// gateway established from a verified token) and returns a Result; the RPC layer
// (identity_rpc.hpp) owns the wire. Runs on one I/O executor; scrypt runs on the
// hash pool, SQLite on the store's threads, so no handler blocks the I/O thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/crypto/ed25519.hpp"
#include "alliance/identity/v1/identity.pb.h"
#include "alliance/net/rpc_server.hpp"
#include "identity_store.hpp"
#include "login_throttle.hpp"
#include "me_cache.hpp"
#include "password_policy.hpp"
#include "token_issuer.hpp"
#include "two_factor.hpp"

namespace alliance::redis {
class Client;
}

namespace alliance::identity {

class AuditLog;

namespace pb = ::alliance::identity::v1;

// Password hashing cost, N = 2^scrypt_log2_n with r = 8, p = 1 (128 MiB per hash at 17,
// and the service hashes on two threads). Below kMinScryptLog2N only for tests and
// benchmarks, which make hundreds of users: see IdentityOptions::insecure_scrypt_for_tests.
inline constexpr int kDefaultScryptLog2N = 17;
inline constexpr int kMinScryptLog2N = 15;
inline constexpr int kMaxScryptLog2N = 18;  // 256 MiB, crypto::kScryptMaxMemory
inline constexpr int kMinTestScryptLog2N = 10;

struct IdentityOptions {
  std::string token_issuer = "alliance";
  std::string token_audience = "alliance-api";
  std::chrono::milliseconds access_token_ttl = std::chrono::minutes(15);
  std::chrono::milliseconds refresh_token_ttl = std::chrono::hours(24 * 30);
  std::string operator_token;  // trimmed content of operator_token_file; only its sha256 is kept
  int scrypt_log2_n = kDefaultScryptLog2N;  // kMinScryptLog2N..kMaxScryptLog2N
  // Lets scrypt_log2_n go down to kMinTestScryptLog2N, where a password is cheap to
  // guess. Set only by the config key insecure_scrypt_log2_n_for_tests; the service logs
  // a warning at start whenever it is on.
  bool insecure_scrypt_for_tests = false;
  std::chrono::milliseconds password_reset_ttl = std::chrono::minutes(30);
  int login_backoff_after = 5;
  std::chrono::milliseconds login_backoff_max = std::chrono::minutes(15);
};

// Redis channel carrying serialized alliance.push.v1.SessionRevoked.
inline constexpr std::string_view kRevocationChannel = "identity:revocations";
// Redis channel announcing a device registration (payload: the user id) or an archive
// key change ("practice:<id>"), so caches of the device directory can drop entries.
inline constexpr std::string_view kDeviceChannel = "identity:devices";

class IdentityService {
 public:
  // `store` and `redis` (nullable: no Redis, in-process login counters, no
  // revocation pushes) must outlive the service. `hash_pool` runs scrypt.
  IdentityService(IdentityStore& store, redis::Client* redis, asio::any_io_executor hash_pool,
                  crypto::Ed25519PrivateKey signing_key, IdentityOptions options);

  using Ctx = net::CallContext;
  asio::awaitable<Result<pb::CreatePracticeResponse>> create_practice(const pb::CreatePracticeRequest&,
                                                                      const Ctx&);
  asio::awaitable<Result<pb::TokenResponse>> login(const pb::LoginRequest&, const Ctx&);
  asio::awaitable<Result<pb::TokenResponse>> refresh(const pb::RefreshRequest&, const Ctx&);
  asio::awaitable<Result<pb::LogoutResponse>> logout(const pb::LogoutRequest&, const Ctx&);
  asio::awaitable<Result<pb::GetMeResponse>> get_me(const pb::GetMeRequest&, const Ctx&);
  asio::awaitable<Result<pb::CreateUserResponse>> create_user(const pb::CreateUserRequest&, const Ctx&);
  asio::awaitable<Result<pb::ListUsersResponse>> list_users(const pb::ListUsersRequest&, const Ctx&);
  // Clients of the practice by name or email prefix, a page at a time: front desk and
  // admins all of them, a therapist those whose care team they are on.
  asio::awaitable<Result<pb::SearchClientsResponse>> search_clients(const pb::SearchClientsRequest&, const Ctx&);
  // A user's IANA time zone ("" clears it): their own ("me"), a client's by the
  // front desk or an admin of the practice, anyone's in it by an admin.
  asio::awaitable<Result<pb::SetTimeZoneResponse>> set_time_zone(const pb::SetTimeZoneRequest&, const Ctx&);
  asio::awaitable<Result<pb::AddCareTeamMemberResponse>> add_care_team_member(
      const pb::AddCareTeamMemberRequest&, const Ctx&);
  asio::awaitable<Result<pb::ListCareTeamResponse>> list_care_team(const pb::ListCareTeamRequest&,
                                                                   const Ctx&);
  // The calling session's device (idempotent for the same keys), the caller's
  // devices, and revoking one (its session too, published like a logout).
  asio::awaitable<Result<pb::DeviceResponse>> register_device(const pb::RegisterDeviceRequest&, const Ctx&);
  asio::awaitable<Result<pb::ListDevicesResponse>> list_devices(const pb::ListDevicesRequest&, const Ctx&);
  asio::awaitable<Result<pb::DeviceResponse>> revoke_device(const pb::RevokeDeviceRequest&, const Ctx&);
  // The caller's identity key, set with the calling session's device's certificate
  // (the first time, again with the same key, or replacing it with reset); another
  // device of the caller approved by an approved one; a user's identity key, for
  // whoever may see that user.
  asio::awaitable<Result<pb::IdentityKeyResponse>> set_identity_key(const pb::SetIdentityKeyRequest&, const Ctx&);
  asio::awaitable<Result<pb::DeviceResponse>> approve_device(const pb::ApproveDeviceRequest&, const Ctx&);
  asio::awaitable<Result<pb::IdentityKeyResponse>> get_identity_key(const pb::GetIdentityKeyRequest&, const Ctx&);
  // The practice's archive key: an admin sets or removes it (signed by the practice key,
  // or unsigned for older clients), anyone in the practice reads it.
  asio::awaitable<Result<pb::ArchiveKeyResponse>> set_archive_key(const pb::SetArchiveKeyRequest&, const Ctx&);
  asio::awaitable<Result<pb::ArchiveKeyResponse>> get_archive_key(const pb::GetArchiveKeyRequest&, const Ctx&);
  // The caller's own password: the current one must be right (a wrong one counts as a
  // failed sign-in), the new one passes the policy; the caller's other sessions end.
  asio::awaitable<Result<pb::ChangePasswordResponse>> change_password(const pb::ChangePasswordRequest&, const Ctx&);
  // The practice's policies (an admin's; user_admin.cpp).
  asio::awaitable<Result<pb::PracticeResponse>> set_practice_policy(const pb::SetPracticePolicyRequest&, const Ctx&);
  // People who join, change and leave (user_admin.cpp): an admin deactivates,
  // reactivates, changes the role of, renames or re-addresses a user of their practice,
  // or starts a password reset; the user redeems the reset token with a new password.
  // Every change that ends sessions publishes them as revocations (sockets close).
  asio::awaitable<Result<pb::UserResponse>> deactivate_user(const pb::DeactivateUserRequest&, const Ctx&);
  asio::awaitable<Result<pb::UserResponse>> reactivate_user(const pb::ReactivateUserRequest&, const Ctx&);
  asio::awaitable<Result<pb::UserResponse>> set_role(const pb::SetRoleRequest&, const Ctx&);
  asio::awaitable<Result<pb::UserResponse>> update_user(const pb::UpdateUserRequest&, const Ctx&);
  asio::awaitable<Result<pb::StartPasswordResetResponse>> start_password_reset(const pb::StartPasswordResetRequest&,
                                                                               const Ctx&);
  asio::awaitable<Result<pb::RedeemPasswordResetResponse>> redeem_password_reset(
      const pb::RedeemPasswordResetRequest&, const Ctx&);
  // An admin removes a user's second factor (recorded; the user's sessions end).
  asio::awaitable<Result<pb::UserResponse>> reset_two_factor(const pb::ResetTwoFactorRequest&, const Ctx&);

  // Two-factor sign-in (two_factor_service.cpp). Login answers a challenge instead of
  // tokens when a second step is due; these complete it (or enrol, when the practice
  // requires it of staff) and let a signed-in user enrol, confirm, disable and look.
  asio::awaitable<Result<pb::TokenResponse>> complete_two_factor(const pb::CompleteTwoFactorRequest&, const Ctx&);
  asio::awaitable<Result<pb::TwoFactorEnrolmentResponse>> enrol_with_challenge(const pb::EnrolWithChallengeRequest&,
                                                                               const Ctx&);
  asio::awaitable<Result<pb::TwoFactorEnrolmentResponse>> start_two_factor_enrolment(
      const pb::StartTwoFactorEnrolmentRequest&, const Ctx&);
  asio::awaitable<Result<pb::ConfirmTwoFactorResponse>> confirm_two_factor(const pb::ConfirmTwoFactorRequest&,
                                                                           const Ctx&);
  asio::awaitable<Result<pb::TwoFactorStatusResponse>> disable_two_factor(const pb::DisableTwoFactorRequest&,
                                                                          const Ctx&);
  asio::awaitable<Result<pb::TwoFactorStatusResponse>> get_two_factor_status(const pb::GetTwoFactorStatusRequest&,
                                                                             const Ctx&);

  // Internal methods: refused (kPermissionDenied) when a user Caller is present.
  asio::awaitable<Result<pb::GetVerificationKeysResponse>> get_verification_keys(
      const pb::GetVerificationKeysRequest&, const Ctx&);
  asio::awaitable<Result<pb::ListRevokedSessionsResponse>> list_revoked_sessions(
      const pb::ListRevokedSessionsRequest&, const Ctx&);
  // Practice, role, name and time zone of up to 100 users (unknown ids left out) and
  // their practices, for services' access checks and the words they show users.
  asio::awaitable<Result<pb::LookupUsersResponse>> lookup_users(const pb::LookupUsersRequest&, const Ctx&);
  // Whether client_id has therapist_id on their care team.
  asio::awaitable<Result<pb::CheckCareTeamResponse>> check_care_team(const pb::CheckCareTeamRequest&,
                                                                     const Ctx&);

  // Active devices of up to 100 users of one practice (only approved ones for a user
  // with an identity key), their identity keys, the practice's archive key, and the
  // calling session's device, for messaging.
  asio::awaitable<Result<pb::ListActiveDevicesResponse>> list_active_devices(
      const pb::ListActiveDevicesRequest&, const Ctx&);

  // The audit log (audit_handlers.cpp): records other services send (services only),
  // an admin's query of the practice's log, and a client's view of who accessed their record.
  asio::awaitable<Result<pb::AppendAuditResponse>> append_audit(const pb::AppendAuditRequest&, const Ctx&);
  asio::awaitable<Result<pb::QueryAuditResponse>> query_audit(const pb::QueryAuditRequest&, const Ctx&);
  asio::awaitable<Result<pb::GetAccessLogResponse>> get_access_log(const pb::GetAccessLogRequest&, const Ctx&);
  // The operator's retention run over the audit log (AuditLog::prune).
  asio::awaitable<Result<pb::PruneAuditResponse>> prune_audit(const pb::PruneAuditRequest&, const Ctx&);
  // Where handlers' audit records go (nullable: none are kept); must outlive the service.
  void set_audit_log(AuditLog* log) { audit_ = log; }

  const TokenIssuer& tokens() const { return tokens_; }
  // Password checks run so far (logins that reached scrypt), for tests.
  std::uint64_t password_checks() const { return password_checks_.load(); }
  // New passwords hashed so far (creates, changes, resets), for tests.
  std::uint64_t passwords_hashed() const { return passwords_hashed_.load(); }

 private:
  // One audit record about the caller of `ctx` (or the actor given, for a login).
  struct AuditEvent {
    std::string_view action;
    std::string_view object_type;
    std::string_view object_id;
    std::string_view subject_user_id;
    std::string_view outcome = "ok";
    std::string_view practice_id;    // "" = the caller's
    std::string_view actor_user_id;  // "" = the caller's
    std::string_view actor_role;     // "" = the caller's
  };
  void audit_event(const Ctx& ctx, AuditEvent e);
  // Records a refusal ("authorization.denied" when permission was denied or the object
  // hidden) and hands the error back.
  Error audit_refusal(const Ctx& ctx, Error e, std::string_view object_type, std::string_view object_id);
  // What the hash pool found for one password check: whether it matched, and (asked
  // with rehash) the hash to store instead when the stored one was made at another
  // cost ("" if none).
  struct PasswordCheck {
    bool ok = false;
    std::string new_hash;
  };
  // Verifies `password` against `hash` on the hash pool, queued behind at most
  // HashSlots::kPerSource other checks from `address`.
  asio::awaitable<PasswordCheck> check_password(std::string password, std::string hash, bool rehash,
                                                std::string address);
  // Checks a new password with the policy (for `owner`, errors on `field`), then hashes it.
  asio::awaitable<Result<std::string>> hash_new_password(std::string password, PasswordOwner owner,
                                                         std::string field);
  // An admin's change to a user of their practice, its sessions published as revoked and
  // audited. `done` names the change in the log line; the caller of `ctx` is the admin.
  asio::awaitable<Result<AccountChange>> edit_account(AccountEdit edit, const Ctx& ctx, std::string_view done);
  asio::awaitable<void> publish_revocation(const std::string& session_id, std::int64_t now_unix_ms);
  asio::awaitable<void> publish_device_change(const std::string& subject);
  asio::awaitable<Result<pb::TokenResponse>> start_session(const User& user);
  // Login's answer when a second step is due: a fresh challenge for `user`.
  asio::awaitable<Result<pb::TokenResponse>> start_challenge(const User& user, bool enrolment);
  // Whether `code` is the user's current TOTP code (then its step is used up) or an
  // unused recovery code (then used up). With `pending`, the pending enrolment's code,
  // which turns it on with fresh recovery codes (in `recovery_codes`).
  asio::awaitable<Result<bool>> use_code(const std::string& user_id, const std::string& code, bool pending,
                                         std::vector<std::string>* recovery_codes);
  // A new pending secret for `user` and what the authenticator app needs of it.
  asio::awaitable<Result<pb::TwoFactorEnrolmentResponse>> enrol(const User& user, const std::string& issuer);
  // Runs a second-factor (or password) check of `account` under the login back-off:
  // `check` answers whether the proof was right; a wrong one counts as a failed sign-in.
  // RESOURCE_EXHAUSTED while the account or address backs off.
  template <class Check>
  asio::awaitable<Result<bool>> throttled(const std::string& account, const std::string& address, Check check);
  asio::awaitable<Result<bool>> on_care_team(std::string client_id, std::string therapist_id);

  IdentityStore& store_;
  redis::Client* redis_;
  asio::any_io_executor hash_pool_;
  TokenIssuer tokens_;
  IdentityOptions options_;
  std::string operator_digest_;
  PasswordPolicy passwords_;
  std::string dummy_hash_;  // verified against when the user does not exist, so timing matches
  LoginThrottle throttle_;
  TwoFactorSeal two_factor_seal_;
  HashSlots hash_slots_;
  std::atomic<std::uint64_t> password_checks_{0};
  std::atomic<std::uint64_t> passwords_hashed_{0};
  AuditLog* audit_ = nullptr;
  MeCache me_cache_;
};

}  // namespace alliance::identity
