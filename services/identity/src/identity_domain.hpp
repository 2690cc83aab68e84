#pragma once
// Identity's domain vocabulary (practices, users, roles, care-team links,
// sessions, devices, archive keys) and the validation rules for everything a
// request can carry.
// Pure functions and plain structs: no I/O, any thread.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "alliance/core/result.hpp"

namespace alliance::identity {

enum class Role { kClient, kTherapist, kFrontDesk, kAdmin };

// "client" | "therapist" | "front_desk" | "admin"
std::string_view role_name(Role role);
std::optional<Role> parse_role(std::string_view name);

struct Practice {
  std::string id;
  std::string name;
  std::string slug;
  std::int64_t created_unix_ms = 0;
  // Policy: a therapist may book any client of the practice, not only the clients
  // whose care team they are on (scheduling reads it with each user's facts).
  bool therapists_book_any_client = false;
  // Policy: staff (therapists, front desk, admins) sign in with a second factor.
  bool require_two_factor_for_staff = false;
  // The practice's IANA zone (its calendar view and console); "" = not set.
  std::string time_zone;
};

struct User {
  std::string id;
  std::string practice_id;
  std::string email;  // lower-cased
  std::string display_name;
  Role role = Role::kClient;
  std::int64_t created_unix_ms = 0;
  std::string time_zone;  // IANA name the user reads times in; "" = not set
  std::optional<std::int64_t> deactivated_unix_ms;  // set while an admin has deactivated them

  bool active() const { return !deactivated_unix_ms; }
};

struct CareTeamLink {
  std::string client_id;
  std::string therapist_id;
  std::int64_t created_unix_ms = 0;
};

// A login session: the family of refresh tokens that rotate from one login.
struct Session {
  std::string id;
  std::string user_id;
  std::string practice_id;
  std::int64_t created_unix_ms = 0;
  std::int64_t expires_unix_ms = 0;
  std::optional<std::int64_t> revoked_unix_ms;
  std::string revoke_reason;
};

// A signed-in device's public keys, bound to the session it registered on: it is
// active while that session lives and it is not revoked.
struct Device {
  std::string id;
  std::string user_id;
  std::string practice_id;
  std::string session_id;
  std::string name;
  std::string signing_public_key;       // Ed25519, 32 raw bytes
  std::string agreement_public_key;     // X25519, 32 raw bytes
  std::string agreement_key_signature;  // Ed25519 over kDeviceAgreementContext || agreement key
  std::int64_t created_unix_ms = 0;
  // When it stopped being active: revoked itself, or its session revoked or expired.
  std::optional<std::int64_t> revoked_unix_ms;
  // The user's identity key's signature over this device's certificate ("" while
  // pending). Stored only after it verified under the key then in force, and cleared
  // whenever that key is replaced, so a stored certificate is an approval.
  std::string certificate_signature;
  std::int64_t certificate_issued_unix_ms = 0;
  std::string identity_key_box;  // opaque; for this device's own session only

  bool approved() const { return !certificate_signature.empty(); }
};

// A user's Ed25519 identity key, which signs the certificates of the user's devices.
struct IdentityKey {
  std::string user_id;
  std::string public_key;  // 32 raw bytes
  std::int64_t set_unix_ms = 0;
};

// A device certificate as sent: the identity key's signature and the issued time.
struct CertificateSignature {
  std::string signature;  // 64 bytes
  std::int64_t issued_unix_ms = 0;
};

// A practice's archive key: an X25519 public key every new message is also wrapped for,
// optionally signed by the practice key (empty practice_public_key: unsigned).
struct ArchiveKey {
  std::string practice_id;
  std::string agreement_public_key;  // 32 raw bytes
  std::int64_t set_unix_ms = 0;
  std::string practice_public_key;    // Ed25519, 32 raw bytes, or ""
  std::string archive_key_signature;  // 64 bytes, or ""
  std::int64_t issued_unix_ms = 0;
};

inline constexpr std::string_view kDeviceAgreementContext = "alliance-device-agreement-key-v1";
inline constexpr std::size_t kMaxActiveDevicesPerUser = 20;
inline constexpr std::size_t kMaxIdentityKeyBox = 512;

// Each returns invalid_argument(field, "<field>: ...") on failure.
Status validate_practice_name(std::string_view name, std::string_view field = "name");
Status validate_slug(std::string_view slug, std::string_view field = "slug");
// Checks the shape (one '@', 3..254 chars) and returns the lower-cased form used
// for storage and uniqueness.
Result<std::string> normalize_email(std::string_view email, std::string_view field = "email");
// 12 to 1024 bytes, and no NUL byte. (A new password is also checked for strength:
// PasswordPolicy.)
Status validate_password(std::string_view password, std::string_view field = "password");
// 1..200 characters (UTF-8 code points, valid UTF-8), not only spaces, no control
// characters (C0, DEL, C1) and no bidirectional embeddings, overrides or isolates
// (U+202A..U+202E, U+2066..U+2069), which can make a name read as someone else's.
Status validate_display_name(std::string_view name, std::string_view field = "display_name");
Result<Role> parse_role_field(std::string_view role, std::string_view field = "role");
// 1..100 characters (UTF-8 code points, valid UTF-8), no control characters (C0, DEL,
// C1) and no bidirectional embeddings, overrides or isolates.
Status validate_device_name(std::string_view name, std::string_view field = "name");
// Sizes 32/32/64 and the signature: Ed25519 by `signing_public_key` over
// kDeviceAgreementContext || agreement_public_key. Errors name signing_public_key,
// agreement_public_key or agreement_key_signature.
Status validate_device_keys(std::string_view signing_public_key, std::string_view agreement_public_key,
                            std::string_view agreement_key_signature);
// 32 bytes, or empty (no key).
Status validate_archive_key(std::string_view agreement_public_key,
                            std::string_view field = "agreement_public_key");
// An Ed25519 public key of 32 bytes: "<field>: must be 32 bytes".
Status validate_public_key(std::string_view key, std::string_view field);
// 64 bytes, and `identity_public`'s signature over `device`'s certificate (its user
// id, id and keys as stored) issued at `certificate.issued_unix_ms`; errors name
// certificate_signature.
Status validate_device_certificate(std::string_view identity_public, const Device& device,
                                   const CertificateSignature& certificate);
// An unsigned archive key (no practice_public_key and no signature), or a signed one:
// practice_public_key 32 bytes and archive_key_signature the practice key's signature
// over (practice id, agreement key, issued_unix_ms). Errors name practice_public_key or
// archive_key_signature.
Status validate_archive_key_signature(const ArchiveKey& key);

// The calling session's device, for SetIdentityKey and ApproveDevice: it must exist,
// be `user_id`'s and be active (else kFailedPrecondition).
Status check_own_device(std::string_view user_id, const std::optional<Device>& own);

// What an approval of `target` by the caller's device `approver` needs, checked before
// the certificate and again in the transaction that stores it: a target the caller
// owns (else kNotFound on device_id, as for no device at all), an approver that is an
// approved device of the same user, an identity key, a target that is active and not
// yet approved (else kFailedPrecondition).
Status check_approval(std::string_view user_id, const std::optional<Device>& approver,
                      const std::optional<Device>& target, const std::optional<IdentityKey>& identity_key);

// What SetIdentityKey does given the user's current key.
enum class IdentityKeyChange { kFirst, kSame, kReplace };
// No key: kFirst; the same key: kSame; another with reset: kReplace; another without:
// kAlreadyExists on public_key.
Result<IdentityKeyChange> identity_key_change(const std::optional<IdentityKey>& current,
                                              std::string_view public_key, bool reset);

// An IANA zone name the OS time-zone database knows ("Europe/Berlin"), or "" (no
// zone). Otherwise `<field>: unknown time zone "<name>"`. The first call loads the
// database (tens of milliseconds); later calls only read it, from any thread.
Status validate_time_zone(std::string_view name, std::string_view field = "time_zone");

// Who may set a user's time zone: the user; front desk and admins for a client of
// their own practice; admins for anyone in it.
bool may_set_time_zone(std::string_view actor_id, std::string_view actor_practice_id, Role actor_role,
                       const User& target);

// Who may see a user (and so read their identity key): the user; admins and the front
// desk, anyone in their practice; a client, a therapist on their care team; a therapist,
// a client who has them on theirs (`care_team_link`: the target and the actor are
// linked on a care team, either way round).
bool may_see_user(std::string_view actor_id, std::string_view actor_practice_id, Role actor_role,
                  const User& target, bool care_team_link);

// A client search as asked (SearchClients): the prefix (1..100 characters, valid UTF-8,
// no control characters), the page size (1..100; 0 = 25) and where the previous page
// ended. Errors name q, limit or cursor.
struct ClientSearch {
  std::string prefix;
  int limit = 25;
  std::string after_id;  // the last client of the previous page; "" = from the start
};
inline constexpr int kDefaultSearchLimit = 25;
inline constexpr int kMaxSearchLimit = 100;
Result<ClientSearch> parse_client_search(std::string_view q, int limit, std::string_view cursor);

// ASCII lower case (emails and slugs are compared in this form).
std::string ascii_lower(std::string_view s);

// The key the login throttle counts an account's failures under: hex sha256 of
// practice_slug + "\n" + lower(email), the same whether or not the user exists.
std::string login_account_key(std::string_view practice_slug, std::string_view email);

}  // namespace alliance::identity
