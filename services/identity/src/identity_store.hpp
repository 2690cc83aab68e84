#pragma once
// IdentityStore: identity's SQLite database (practices, users, care teams,
// sessions, refresh tokens, devices, identity keys, archive keys) behind awaitable calls. Reads run on the store's
// reader threads, writes on its single writer thread (group commit); every call
// resumes on the awaiting coroutine's executor, only after COMMIT for writes.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/store/database.hpp"
#include "alliance/store/idempotency.hpp"
#include "alliance/store/sealed_fields.hpp"
#include "identity_domain.hpp"

namespace alliance::identity {

// A user with the stored password hash, for login only.
struct LoginRecord {
  User user;
  std::string password_hash;
  bool two_factor = false;           // the user has two-factor sign-in on
  bool staff_two_factor_required = false;  // the practice's require_two_factor_for_staff
};

// What a refresh-token rotation found.
struct Rotation {
  enum class Outcome { kRotated, kReused } outcome = Outcome::kRotated;
  Session session;
  User user;
};

// What RegisterDevice found: a new device, or the session's existing one with the same keys.
struct DeviceRegistration {
  Device device;
  bool created = false;
};

// Who asks to revoke a device: its owner, or an admin of its practice.
struct DeviceRevoker {
  std::string user_id;
  std::string practice_id;
  bool admin = false;
};

// What RevokeDevice did: the device as it now stands, and whether this call ended
// its session (so the revocation must be published).
struct DeviceRevocation {
  Device device;
  bool session_revoked = false;
};

// The answer to ListActiveDevices.
struct ActiveDevices {
  // Active ones by user id, then creation; then, when asked for, inactive ones by
  // user id, then most recently stopped first (revoked_unix_ms set).
  std::vector<Device> devices;
  std::optional<ArchiveKey> archive_key;
  std::string session_device_id;          // "" if none (or not active)
  std::vector<IdentityKey> identity_keys;  // of the users asked that have one, by user id
};

// What SetIdentityKey and ApproveDevice are checked against: the calling session's
// device (active or not), the device asked about (if any), and the user's identity key.
struct DeviceTrust {
  std::optional<Device> own;
  std::optional<Device> target;
  std::optional<IdentityKey> identity_key;
};

// What SetIdentityKey did: the key now in force and the calling session's device.
struct IdentityKeySet {
  IdentityKeyChange change = IdentityKeyChange::kFirst;
  IdentityKey key;
  Device device;
};

// An approval as ApproveDevice checked it: the certificate verified for `device_id`
// under `identity_public_key`, asked by `session_id` of `user_id`.
struct DeviceApproval {
  std::string user_id;
  std::string session_id;
  std::string device_id;
  std::string identity_public_key;
  CertificateSignature certificate;
  std::string identity_key_box;  // "" for none
};

// The answer to LookupUsers: the users found (in the order asked, unknown ids left
// out) and the practice of each, once each.
struct UserDirectory {
  std::vector<User> users;
  std::vector<Practice> practices;
};

// What an admin's change to a user did: the user as now stored and the sessions it
// ended (to publish as revocations).
struct AccountChange {
  User user;
  std::vector<std::string> ended_sessions;
};

// An admin's change to a user of their practice, applied in one transaction.
struct AccountEdit {
  enum class Kind { kDeactivate, kReactivate, kSetRole, kUpdate, kStartReset, kResetTwoFactor } kind = Kind::kUpdate;
  std::string practice_id;  // the admin's: a user of another practice is kNotFound
  std::string user_id;
  Role role = Role::kClient;              // kSetRole
  std::optional<std::string> display_name;  // kUpdate: validated, or unchanged
  std::optional<std::string> email;         // kUpdate: normalized, or unchanged
  std::string reset_token_hash;           // kStartReset: sha256 of the token
  std::int64_t reset_expires_unix_ms = 0;  // kStartReset
  std::string by_user_id;                 // the admin (kResetTwoFactor records it)
};

// The practice's policies an admin sets; a policy left unset stays as it is.
struct PracticePolicyChange {
  std::optional<bool> therapists_book_any_client;
  std::optional<bool> require_two_factor_for_staff;
  std::optional<std::string> time_zone;  // checked; "" clears it
};

// A user's second factor as stored (two_factor_store.cpp).
struct TwoFactorRecord {
  std::string sealed_secret;                    // TwoFactorSeal's form; opened only to check a code
  std::optional<std::int64_t> enabled_unix_ms;  // nullopt while the enrolment is pending
  std::int64_t last_step = 0;                   // the last TOTP step used
  int recovery_codes_left = 0;
};

// A sign-in challenge that is still open, with whom it is for.
struct OpenChallenge {
  User user;
  std::string practice_slug;
  std::string practice_name;
  bool enrolment = false;  // the user must enrol first (the practice's policy)
};

// A password-reset token as it stands, for checking the new password against its user.
struct PasswordReset {
  User user;
  std::string practice_slug;
};

// At most this many revoked devices are listed (most recently revoked first).
inline constexpr std::size_t kMaxListedRevokedDevices = 50;

// What a keyed create made: the new thing, or for a key seen before (same request),
// what that key made, read again as it is now (replayed).
template <class T>
struct Made {
  T value;
  bool replayed = false;
};

struct PracticeAndAdmin {
  Practice practice;
  User admin;
};

// identity.db's schema steps, oldest first (tests open a database at an older version).
std::vector<store::Migration> identity_migrations();
// The version that seals users' names and emails (and adds data_keys).
inline constexpr int kSealedUsersVersion = 9;
// The version that seals practice and device names.
inline constexpr int kSealedNamesVersion = 10;

class IdentityStore {
 public:
  // Opens (creating) the database file and applies identity's migrations (sealing the
  // personal fields of a database from before v9 in place). Data keys wrapped by
  // keys.previous_kek are re-wrapped under keys.kek; a KEK that opens no data key
  // fails the open with kFailedPrecondition naming keys.kek_key.
  static Result<std::unique_ptr<IdentityStore>> open(const std::filesystem::path& path, store::KekPair keys);
  // `writes` (optional) is what the database's after_write counts up; see writes().
  IdentityStore(std::unique_ptr<store::Database> db, std::shared_ptr<store::DataKeys> keys,
                std::shared_ptr<const std::atomic<std::uint64_t>> writes = nullptr);

  // How many write transactions have ended: counted on the writer thread after each
  // one, before any of its callers resume. A value taken before a read and unchanged
  // afterwards means nothing was written in between, so what the read returned is
  // still what the file says (caches in front of reads; see MeCache). Assumes this
  // process is the file's only writer, as it is (DESIGN: one writer per database).
  std::uint64_t writes() const { return writes_ ? writes_->load(std::memory_order_acquire) : 0; }

  // Practice + its first admin in one transaction. Slug taken -> kAlreadyExists (field slug).
  // With a key (store/idempotency.hpp), a retry of the same request answers what the
  // first one made; the key with another request -> kAlreadyExists (idempotency_key).
  asio::awaitable<Result<Made<PracticeAndAdmin>>> create_practice(Practice practice, User admin,
                                                                  std::string password_hash,
                                                                  store::IdempotentWrite key);
  // Email taken in the practice -> kAlreadyExists (field email). Keyed as create_practice.
  asio::awaitable<Result<Made<User>>> create_user(User user, std::string password_hash,
                                                  store::IdempotentWrite key);

  // What a keyed create made, answered as a replay, read without writing: a retry is
  // answered before its password is hashed. nullopt if the key is new (or empty); the key
  // with another request -> kAlreadyExists (idempotency_key). The creates above check
  // the key again inside their transaction, for two first tries at once.
  asio::awaitable<Result<std::optional<Made<PracticeAndAdmin>>>> replay_practice(store::IdempotentWrite key);
  asio::awaitable<Result<std::optional<Made<User>>>> replay_user(store::IdempotentWrite key);

  asio::awaitable<Result<std::optional<LoginRecord>>> find_login(std::string slug, std::string email);
  // Stores `new_hash` for the user only if the stored hash is still `old_hash` (a
  // re-hash at login never overwrites a change made meanwhile); true if it did.
  asio::awaitable<Result<bool>> replace_password_hash(std::string user_id, std::string old_hash,
                                                      std::string new_hash);
  asio::awaitable<Result<std::optional<User>>> find_user(std::string user_id);
  asio::awaitable<Result<std::optional<Practice>>> find_practice(std::string practice_id);
  // The user and their practice in one read; nullopt if either is missing or the user
  // is not in that practice.
  asio::awaitable<Result<std::optional<std::pair<User, Practice>>>> find_user_in_practice(std::string user_id,
                                                                                          std::string practice_id);
  asio::awaitable<Result<std::vector<User>>> list_users(std::string practice_id, std::optional<Role> role);
  // Clients of the practice (of `therapist_id`'s care team only, when set) whose name,
  // a word of it, or email starts with search.prefix, by name then id, after
  // search.after_id; at most search.limit + 1 (one more tells there is a next page).
  // An after_id that is no client of the practice -> kInvalidArgument field cursor.
  asio::awaitable<Result<std::vector<User>>> search_clients(std::string practice_id,
                                                            std::optional<std::string> therapist_id,
                                                            ClientSearch search);
  // One read for all of `user_ids` (empty and unknown ids left out).
  asio::awaitable<Result<UserDirectory>> lookup_users(std::vector<std::string> user_ids);
  // Sets the user's time zone ("" clears it; validated by the caller) and answers the
  // user as now stored; std::nullopt when there is no such user.
  asio::awaitable<Result<std::optional<User>>> set_time_zone(std::string user_id, std::string time_zone);

  // The client must be a client and the therapist a therapist of `practice_id`
  // (otherwise kNotFound naming client_id / therapist_id); a duplicate link -> kAlreadyExists.
  // Keyed as create_practice (a link removed since the first answer -> kNotFound).
  asio::awaitable<Result<Made<CareTeamLink>>> add_care_team_link(std::string practice_id, CareTeamLink link,
                                                                 store::IdempotentWrite key);
  asio::awaitable<Result<std::vector<CareTeamLink>>> list_care_team(std::string client_id);

  // A new session and its first refresh token (stored as its sha256 only), one
  // transaction. A user deactivated meanwhile -> kPermissionDenied.
  asio::awaitable<Status> create_session(Session session, std::string refresh_hash,
                                         std::int64_t refresh_expires_unix_ms);
  // Rotates the refresh token whose sha256 is `old_hash`: unknown, expired, or of a
  // revoked/expired session -> kUnauthenticated field refresh_token. Already used ->
  // the whole session is revoked in this transaction and the outcome is kReused.
  asio::awaitable<Result<Rotation>> rotate_refresh(std::string old_hash, std::string new_hash,
                                                   std::int64_t now_unix_ms,
                                                   std::int64_t new_expires_unix_ms);
  // Revokes the session if it belongs to `user_id` and is not yet revoked; true if
  // this call revoked it.
  asio::awaitable<Result<bool>> revoke_session(std::string session_id, std::string user_id,
                                               std::string reason, std::int64_t now_unix_ms);
  // Devices. "Active" at `now_unix_ms`: not revoked and its session neither revoked
  // nor expired; every Device returned carries revoked_unix_ms otherwise.
  //
  // Binds `device` (id, user, practice, session, name, keys, created) to its session.
  // The session already has a device: same keys -> that device (created false),
  // other keys -> kAlreadyExists. Session unknown, not the user's, revoked or expired
  // -> kUnauthenticated. The user already has kMaxActiveDevicesPerUser active
  // devices -> kResourceExhausted.
  asio::awaitable<Result<DeviceRegistration>> register_device(Device device, std::int64_t now_unix_ms);
  // The user's active devices (by creation), then up to kMaxListedRevokedDevices
  // revoked ones (most recently revoked first).
  asio::awaitable<Result<std::vector<Device>>> list_devices(std::string user_id, std::int64_t now_unix_ms);
  // Revokes the device and its session in one transaction. A device `by` may not
  // revoke (another user's, unless `by` is an admin of its practice) or that does
  // not exist -> kNotFound field device_id. Already inactive -> answered as it is.
  asio::awaitable<Result<DeviceRevocation>> revoke_device(std::string device_id, DeviceRevoker by,
                                                          std::int64_t now_unix_ms);
  // Active devices of `user_ids` that belong to `practice_id`, the practice's archive
  // key, and the active device `session_id` registered ("" when none or empty).
  // `include_inactive` appends each user's inactive devices (up to
  // kMaxListedRevokedDevices per user), to verify messages they sent before.
  // For a user with an identity key only approved devices are listed (either way); for
  // one without, every device. `identity_keys`: the keys of those users that have one.
  asio::awaitable<Result<ActiveDevices>> list_active_devices(std::string practice_id,
                                                             std::vector<std::string> user_ids,
                                                             std::string session_id, std::int64_t now_unix_ms,
                                                             bool include_inactive = false);

  // Identity keys and device certificates. Certificates are verified by the caller
  // (the service) before these store them; each write re-checks in its transaction
  // what the verification assumed.
  //
  // The session's device, `device_id`'s ("" for none) and the user's identity key.
  asio::awaitable<Result<DeviceTrust>> find_device_trust(std::string user_id, std::string session_id,
                                                         std::string device_id, std::int64_t now_unix_ms);
  asio::awaitable<Result<std::optional<IdentityKey>>> find_identity_key(std::string user_id);
  // Sets `key` (user, public key, set time) as identity_key_change() decides and stores
  // `certificate` for `device_id`, which must still be `session_id`'s active device
  // (else kFailedPrecondition). kReplace clears every device's certificate and identity
  // key box first; kSame keeps the key's set time.
  asio::awaitable<Result<IdentityKeySet>> set_identity_key(IdentityKey key, std::string session_id,
                                                           std::string device_id,
                                                           CertificateSignature certificate, bool reset,
                                                           std::int64_t now_unix_ms);
  // Stores the certificate (and box) of the approved device if check_approval() still
  // holds and the user's key is still the one it was verified under (else
  // kFailedPrecondition); answers the device as now stored.
  asio::awaitable<Result<Device>> approve_device(DeviceApproval approval, std::int64_t now_unix_ms);

  // Sets (32 bytes, with its signature fields as given) or, with an empty agreement
  // key, removes the practice's archive key; answers the key now in force. Unknown
  // practice -> kNotFound.
  asio::awaitable<Result<std::optional<ArchiveKey>>> set_archive_key(ArchiveKey key);
  asio::awaitable<Result<std::optional<ArchiveKey>>> find_archive_key(std::string practice_id);

  // People who join, change and leave (AccountEdit::Kind):
  //   kDeactivate  marks the user deactivated and revokes every live session of theirs
  //                (already deactivated: nothing changes)
  //   kReactivate  clears the mark
  //   kSetRole     a new role; revokes the sessions when it changes. A client on a care
  //                team cannot stop being a client, nor a therapist on one a therapist
  //                (kFailedPrecondition on role)
  //   kUpdate      display name and/or email (taken in the practice -> kAlreadyExists on email)
  //   kStartReset  stores the reset token's hash (replacing unused ones), makes the old
  //                password unusable and revokes the sessions; a deactivated user ->
  //                kFailedPrecondition
  //   kResetTwoFactor  removes the user's second factor (recorded as a reset by
  //                by_user_id) and revokes the sessions
  // Deactivating or demoting the practice's last active admin -> kFailedPrecondition
  // on user_id. No such user in the practice -> kNotFound on user_id.
  asio::awaitable<Result<AccountChange>> edit_account(AccountEdit edit, std::int64_t now_unix_ms);
  // Stores `new_hash` if the stored hash is still `old_hash` and ends the user's other
  // sessions (all but `keep_session_id`); answers their ids, or nullopt when the
  // password changed meanwhile.
  asio::awaitable<Result<std::optional<std::vector<std::string>>>> change_password(std::string user_id,
                                                                                   std::string old_hash,
                                                                                   std::string new_hash,
                                                                                   std::string keep_session_id,
                                                                                   std::int64_t now_unix_ms);
  // Sets the practice's policies given; answers the practice as now stored (nullopt: none).
  asio::awaitable<Result<std::optional<Practice>>> set_practice_policy(std::string practice_id,
                                                                       PracticePolicyChange change);

  // Two-factor sign-in (two_factor_store.cpp). The service checks codes; these keep
  // each one single-use in the transaction that records it.
  //
  // The user's second factor (enabled or pending), nullopt if none.
  asio::awaitable<Result<std::optional<TwoFactorRecord>>> find_two_factor(std::string user_id);
  // A pending secret for the user (replacing a pending one); already enabled ->
  // kFailedPrecondition.
  asio::awaitable<Status> start_two_factor(std::string user_id, std::string sealed_secret, std::int64_t now_unix_ms);
  // Turns the pending secret on with `step` as its last used step, stores the recovery
  // codes' hashes (replacing any) and records it; false if nothing was pending any more.
  asio::awaitable<Result<bool>> enable_two_factor(std::string user_id, std::int64_t step,
                                                  std::vector<std::string> recovery_hashes, std::int64_t now_unix_ms);
  // Records `step` as used if it is after the last used one; false if it is not (a replay).
  asio::awaitable<Result<bool>> claim_totp_step(std::string user_id, std::int64_t step);
  // Uses up an unused recovery code of the user's by its hash; false if there is none.
  asio::awaitable<Result<bool>> use_recovery_code(std::string user_id, std::string code_hash,
                                                  std::int64_t now_unix_ms);
  // Turns the user's second factor off (recorded as disabled by the user); false if it was not on.
  asio::awaitable<Result<bool>> disable_two_factor(std::string user_id, std::int64_t now_unix_ms);
  // Stores a challenge (by its hash) for `user_id`, valid until `expires_unix_ms`.
  asio::awaitable<Status> create_challenge(std::string challenge_hash, std::string user_id, bool enrolment,
                                           std::int64_t now_unix_ms, std::int64_t expires_unix_ms);
  // The open (unused, unexpired) challenge of an active user; otherwise
  // kUnauthenticated on challenge.
  asio::awaitable<Result<OpenChallenge>> find_challenge(std::string challenge_hash, std::int64_t now_unix_ms);
  // Uses the challenge up if it is still open; false if it no longer was.
  asio::awaitable<Result<bool>> use_challenge(std::string challenge_hash, std::int64_t now_unix_ms);
  // The user of an unused, unexpired reset token of an active user; otherwise
  // kUnauthenticated on reset_token.
  asio::awaitable<Result<PasswordReset>> find_password_reset(std::string token_hash, std::int64_t now_unix_ms);
  // Uses the token (the same checks, in the write) and stores `password_hash`.
  asio::awaitable<Result<PasswordReset>> redeem_password_reset(std::string token_hash, std::string password_hash,
                                                               std::int64_t now_unix_ms);

  // Ids of sessions revoked at or after `since_unix_ms`.
  asio::awaitable<Result<std::vector<std::string>>> revoked_since(std::int64_t since_unix_ms);

  store::Database& database() { return *db_; }
  // How many data keys this open re-wrapped from the previous KEK (a rotation).
  int rewrapped_data_keys() const { return rewrapped_data_keys_; }
  // The id of the KEK in use (crypto::kek_id).
  const std::string& kek_id() const { return keys_->kek_id(); }

 private:
  std::unique_ptr<store::Database> db_;
  std::shared_ptr<store::DataKeys> keys_;
  std::shared_ptr<const std::atomic<std::uint64_t>> writes_;
  int rewrapped_data_keys_ = 0;
};

}  // namespace alliance::identity
