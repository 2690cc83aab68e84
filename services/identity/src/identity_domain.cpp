#include "identity_domain.hpp"

#include <date/tz.h>

#include <stdexcept>

#include "alliance/core/ids.hpp"
#include "alliance/core/utf8.hpp"
#include "alliance/crypto/ed25519.hpp"
#include "alliance/crypto/encoding.hpp"
#include "alliance/crypto/identity_keys.hpp"

namespace alliance::identity {
namespace {

Error bad(std::string_view field, std::string_view why) {
  return invalid_argument(std::string(field), std::string(field) + ": " + std::string(why));
}

// U+202A..U+202E (embeddings, overrides) and U+2066..U+2069 (isolates) reorder the
// text around them: "Dr. Ann\u202Eeoj" shows as another name.
bool bidi_control(char32_t c) { return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069); }

// A name people read (a user's, a device's): valid UTF-8, 1..max_chars code points,
// not only spaces, no control or bidirectional control characters.
Status validate_shown_name(std::string_view name, std::string_view field, std::size_t max_chars) {
  if (name.empty()) return bad(field, "is required");
  std::size_t chars = 0;
  bool only_spaces = true;
  for (std::size_t i = 0; i < name.size();) {
    auto c = next_code_point(name, i);
    if (!c) return bad(field, "must be valid UTF-8");
    if (is_control(*c)) return bad(field, "must not contain control characters");
    if (bidi_control(*c)) return bad(field, "must not contain bidirectional override or isolate characters");
    if (*c != ' ') only_spaces = false;
    ++chars;
  }
  if (chars > max_chars) return bad(field, "must be at most " + std::to_string(max_chars) + " characters");
  if (only_spaces) return bad(field, "must not be blank");
  return {};
}

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kClient:
      return "client";
    case Role::kTherapist:
      return "therapist";
    case Role::kFrontDesk:
      return "front_desk";
    case Role::kAdmin:
      return "admin";
  }
  return "client";
}

std::optional<Role> parse_role(std::string_view name) {
  if (name == "client") return Role::kClient;
  if (name == "therapist") return Role::kTherapist;
  if (name == "front_desk") return Role::kFrontDesk;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

Result<ClientSearch> parse_client_search(std::string_view q, int limit, std::string_view cursor) {
  if (q.empty()) return bad("q", "is required");
  if (!is_valid_utf8(q)) return bad("q", "must be valid UTF-8");
  if (utf8_length(q) > 100) return bad("q", "must be at most 100 characters");
  if (has_control_character(q)) return bad("q", "must not contain control characters");
  if (limit < 0 || limit > kMaxSearchLimit) return bad("limit", "must be 1 to 100 (0 = 25)");
  // A cursor is the id of a user (ids are printable ASCII); anything else was not ours.
  if (cursor.size() > 64) return bad("cursor", "is not a cursor this search returned");
  for (unsigned char c : cursor)
    if (c <= 0x20 || c >= 0x7f) return bad("cursor", "is not a cursor this search returned");
  return ClientSearch{std::string(q), limit == 0 ? kDefaultSearchLimit : limit, std::string(cursor)};
}

Status validate_practice_name(std::string_view name, std::string_view field) {
  if (name.empty()) return bad(field, "is required");
  if (name.size() > 200) return bad(field, "must be at most 200 characters");
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return bad(field, "must not contain control characters");
  return {};
}

Status validate_slug(std::string_view slug, std::string_view field) {
  // ^[a-z0-9][a-z0-9-]{1,62}$
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (slug.empty()) return bad(field, "is required");
  if (slug.size() < 2 || slug.size() > 63) return bad(field, "must be 2 to 63 characters");
  if (!alnum(slug[0])) return bad(field, "must start with a lower-case letter or digit");
  for (char c : slug)
    if (!alnum(c) && c != '-') return bad(field, "may contain only lower-case letters, digits and '-'");
  return {};
}

Result<std::string> normalize_email(std::string_view email, std::string_view field) {
  if (email.empty()) return bad(field, "is required");
  if (email.size() < 3 || email.size() > 254) return bad(field, "must be 3 to 254 characters");
  auto at = email.find('@');
  if (at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos)
    return bad(field, "must contain exactly one '@'");
  if (at == 0 || at + 1 == email.size()) return bad(field, "needs text before and after '@'");
  for (unsigned char c : email)
    if (c <= 0x20 || c == 0x7f) return bad(field, "must not contain spaces or control characters");
  return ascii_lower(email);
}

Status validate_password(std::string_view password, std::string_view field) {
  if (password.empty()) return bad(field, "is required");
  // scrypt would hash "pw" and "pw\0" alike, and C clients cut a password at its NUL.
  if (password.find('\0') != std::string_view::npos) return bad(field, "must not contain NUL characters");
  if (password.size() < 12) return bad(field, "must be at least 12 characters");
  if (password.size() > 1024) return bad(field, "must be at most 1024 bytes");
  return {};
}

Status validate_display_name(std::string_view name, std::string_view field) {
  return validate_shown_name(name, field, 200);
}

Result<Role> parse_role_field(std::string_view role, std::string_view field) {
  if (role.empty()) return bad(field, "is required");
  if (auto r = parse_role(role)) return *r;
  return bad(field, "must be one of client, therapist, front_desk, admin");
}

Status validate_device_name(std::string_view name, std::string_view field) {
  return validate_shown_name(name, field, 100);
}

Status validate_device_keys(std::string_view signing_public_key, std::string_view agreement_public_key,
                            std::string_view agreement_key_signature) {
  if (signing_public_key.size() != 32) return bad("signing_public_key", "must be 32 bytes");
  if (agreement_public_key.size() != 32) return bad("agreement_public_key", "must be 32 bytes");
  if (agreement_key_signature.size() != 64) return bad("agreement_key_signature", "must be 64 bytes");
  std::string signed_text(kDeviceAgreementContext);
  signed_text += agreement_public_key;
  if (!crypto::ed25519_verify(signing_public_key, signed_text, agreement_key_signature))
    return bad("agreement_key_signature",
               "is not a valid signature of the agreement key by the signing key");
  return {};
}

Status validate_archive_key(std::string_view agreement_public_key, std::string_view field) {
  if (!agreement_public_key.empty() && agreement_public_key.size() != 32)
    return bad(field, "must be 32 bytes, or empty to remove the archive key");
  return {};
}

Status validate_public_key(std::string_view key, std::string_view field) {
  if (key.size() != crypto::kIdentityKeySize) return bad(field, "must be 32 bytes");
  return {};
}

Status validate_device_certificate(std::string_view identity_public, const Device& device,
                                   const CertificateSignature& certificate) {
  if (certificate.signature.size() != crypto::kIdentitySignatureSize)
    return bad("certificate_signature", "must be 64 bytes");
  crypto::DeviceCertificate statement{device.user_id, device.id, device.signing_public_key,
                                      device.agreement_public_key, certificate.issued_unix_ms};
  if (!crypto::verify_device_certificate(identity_public, statement, certificate.signature))
    return bad("certificate_signature",
               "is not the identity key's signature over this device's certificate (user id, device id, "
               "its keys and certificate_issued_unix_ms)");
  return {};
}

Status validate_archive_key_signature(const ArchiveKey& key) {
  if (key.practice_public_key.empty()) {
    if (!key.archive_key_signature.empty())
      return bad("practice_public_key", "is required with archive_key_signature");
    return {};
  }
  if (auto s = validate_public_key(key.practice_public_key, "practice_public_key"); !s) return s;
  if (key.agreement_public_key.empty())
    return bad("agreement_public_key", "is required with practice_public_key");
  if (key.archive_key_signature.size() != crypto::kIdentitySignatureSize)
    return bad("archive_key_signature", "must be 64 bytes");
  crypto::ArchiveKeyStatement statement{key.practice_id, key.agreement_public_key, key.issued_unix_ms};
  if (!crypto::verify_archive_key(key.practice_public_key, statement, key.archive_key_signature))
    return bad("archive_key_signature",
               "is not the practice key's signature over this practice's archive key and issued_unix_ms");
  return {};
}

Status check_own_device(std::string_view user_id, const std::optional<Device>& own) {
  if (!own || own->revoked_unix_ms || own->user_id != user_id)
    return make_error(Code::kFailedPrecondition,
                      "this session has no active device; register it first (POST /v1/devices)");
  return {};
}

Status check_approval(std::string_view user_id, const std::optional<Device>& approver,
                      const std::optional<Device>& target, const std::optional<IdentityKey>& identity_key) {
  // Someone else's device is indistinguishable from no device.
  if (!target || target->user_id != user_id)
    return Error{Code::kNotFound, "device_id: no such device", "device_id"};
  if (auto s = check_own_device(user_id, approver); !s) return s;
  if (!identity_key)
    return make_error(Code::kFailedPrecondition, "set your identity key first (PUT /v1/me/identity-key)");
  if (!approver->approved())
    return make_error(Code::kFailedPrecondition,
                      "this session's device is not approved; only an approved device may approve another");
  if (target->revoked_unix_ms)
    return Error{Code::kFailedPrecondition, "device_id: the device is no longer active", "device_id"};
  if (target->approved())
    return Error{Code::kFailedPrecondition, "device_id: the device is already approved", "device_id"};
  return {};
}

Result<IdentityKeyChange> identity_key_change(const std::optional<IdentityKey>& current,
                                              std::string_view public_key, bool reset) {
  if (!current) return IdentityKeyChange::kFirst;
  if (current->public_key == public_key) return IdentityKeyChange::kSame;
  if (reset) return IdentityKeyChange::kReplace;
  return Error{Code::kAlreadyExists,
               "public_key: this user already has another identity key; set reset to replace it (every other "
               "device then needs approving again, and the user's contacts see an identity change)",
               "public_key"};
}

Status validate_time_zone(std::string_view name, std::string_view field) {
  if (name.empty()) return {};
  auto unknown = [&] {
    std::string shown(name.substr(0, 64));
    for (char& c : shown)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f || c == '"')
        c = '?';  // keep the message one printable line
    return bad(field, "unknown time zone \"" + shown + "\"");
  };
  // IANA names are short ASCII paths; refuse anything else before the database
  // (which reads files under its own directory by these names) sees it.
  if (name.size() > 64 || name.front() == '/' || name.find("..") != std::string_view::npos) return unknown();
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' ||
              c == '_' || c == '-' || c == '+';
    if (!ok) return unknown();
  }
  try {
    date::locate_zone(name);
  } catch (const std::runtime_error&) {
    return unknown();
  }
  return {};
}

bool may_set_time_zone(std::string_view actor_id, std::string_view actor_practice_id, Role actor_role,
                       const User& target) {
  if (target.id == actor_id) return true;
  if (target.practice_id != actor_practice_id) return false;
  if (actor_role == Role::kAdmin) return true;
  return actor_role == Role::kFrontDesk && target.role == Role::kClient;
}

bool may_see_user(std::string_view actor_id, std::string_view actor_practice_id, Role actor_role,
                  const User& target, bool care_team_link) {
  if (target.id == actor_id) return true;
  if (target.practice_id != actor_practice_id) return false;
  switch (actor_role) {
    case Role::kAdmin:
    case Role::kFrontDesk:
      return true;
    case Role::kClient:
      return target.role == Role::kTherapist && care_team_link;
    case Role::kTherapist:
      return target.role == Role::kClient && care_team_link;
  }
  return false;
}

std::string login_account_key(std::string_view practice_slug, std::string_view email) {
  std::string material = ascii_lower(practice_slug);
  material += '\n';
  material += ascii_lower(email);
  return to_hex(crypto::sha256(material));
}

}  // namespace alliance::identity
