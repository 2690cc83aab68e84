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
};

struct User {
  std::string id;
  std::string practice_id;
  std::string email;  // lower-cased
  std::string display_name;
  Role role = Role::kClient;
  std::int64_t created_unix_ms = 0;
  std::string time_zone;  // IANA name the user reads times in; "" = not set
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
};

// A practice's archive key: an X25519 public key every new message is also wrapped for.
struct ArchiveKey {
  std::string practice_id;
  std::string agreement_public_key;  // 32 raw bytes
  std::int64_t set_unix_ms = 0;
};

inline constexpr std::string_view kDeviceAgreementContext = "alliance-device-agreement-key-v1";
inline constexpr std::size_t kMaxActiveDevicesPerUser = 20;

// Each returns invalid_argument(field, "<field>: ...") on failure.
Status validate_practice_name(std::string_view name, std::string_view field = "name");
Status validate_slug(std::string_view slug, std::string_view field = "slug");
// Checks the shape (one '@', 3..254 chars) and returns the lower-cased form used
// for storage and uniqueness.
Result<std::string> normalize_email(std::string_view email, std::string_view field = "email");
// 12 to 1024 bytes, and no NUL byte.
Status validate_password(std::string_view password, std::string_view field = "password");
Status validate_display_name(std::string_view name, std::string_view field = "display_name");
Result<Role> parse_role_field(std::string_view role, std::string_view field = "role");
// 1..100 characters (UTF-8 code points), no control characters (C0, DEL, C1).
Status validate_device_name(std::string_view name, std::string_view field = "name");
// Sizes 32/32/64 and the signature: Ed25519 by `signing_public_key` over
// kDeviceAgreementContext || agreement_public_key. Errors name signing_public_key,
// agreement_public_key or agreement_key_signature.
Status validate_device_keys(std::string_view signing_public_key, std::string_view agreement_public_key,
                            std::string_view agreement_key_signature);
// 32 bytes, or empty (no key).
Status validate_archive_key(std::string_view agreement_public_key,
                            std::string_view field = "agreement_public_key");
// An IANA zone name the OS time-zone database knows ("Europe/Berlin"), or "" (no
// zone). Otherwise `<field>: unknown time zone "<name>"`. The first call loads the
// database (tens of milliseconds); later calls only read it, from any thread.
Status validate_time_zone(std::string_view name, std::string_view field = "time_zone");

// Who may set a user's time zone: the user; front desk and admins for a client of
// their own practice; admins for anyone in it.
bool may_set_time_zone(std::string_view actor_id, std::string_view actor_practice_id, Role actor_role,
                       const User& target);

// ASCII lower case (emails and slugs are compared in this form).
std::string ascii_lower(std::string_view s);

// The key the login throttle counts an account's failures under: hex sha256 of
// practice_slug + "\n" + lower(email), the same whether or not the user exists.
std::string login_account_key(std::string_view practice_slug, std::string_view email);

}  // namespace alliance::identity
