#include "alliance/client/trust.hpp"

#include <algorithm>
#include <set>

#include "alliance/crypto/identity_keys.hpp"
#include "alliance/crypto/message_seal.hpp"

namespace alliance::client {

namespace json = boost::json;

namespace {

constexpr std::string_view kArchiveDeviceId = "archive";
constexpr std::int64_t kStoreVersion = 1;

Error bad(std::string field, std::string_view what) {
  std::string message = field + ": " + std::string(what);
  return invalid_argument(std::move(field), std::move(message));
}

Status check_key(std::string_view field, std::string_view key) {
  if (key.size() != crypto::kIdentityKeySize) return bad(std::string(field), "must be 32 bytes");
  return {};
}

Status check_id(std::string_view field, std::string_view id) {
  if (id.empty()) return bad(std::string(field), "missing");
  return {};
}

// "3F2A9c01 ..." -> "3f2a 9c01 ..." (crypto::key_fingerprint's form), or nullopt.
std::optional<std::string> canonical_fingerprint(std::string_view text) {
  std::string hex;
  for (char c : text) {
    if (c == ' ') continue;
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
    hex.push_back(c);
  }
  if (hex.size() != 32) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 4) {
    if (i > 0) out.push_back(' ');
    out.append(hex, i, 4);
  }
  return out;
}

// ---- Strict readers for the store's own JSON: `path` names the object being read. ----

Result<const json::object*> object_at(const json::value& v, const std::string& path) {
  if (!v.is_object()) return bad(path, "expected a JSON object");
  return &v.as_object();
}

Result<const json::array*> array_at(const json::object& o, std::string_view key) {
  static const json::array kEmpty;
  const json::value* v = o.if_contains(key);
  if (!v) return &kEmpty;
  if (!v->is_array()) return bad(std::string(key), "expected an array");
  return &v->as_array();
}

// A string member; `required` refuses it missing or empty.
Result<std::string> text_at(const json::object& o, std::string_view key, const std::string& path,
                            bool required = true) {
  std::string field = path + "." + std::string(key);
  const json::value* v = o.if_contains(key);
  if (!v) {
    if (required) return bad(field, "missing");
    return std::string();
  }
  if (!v->is_string()) return bad(field, "expected a string");
  if (required && v->as_string().empty()) return bad(field, "missing");
  return std::string(v->as_string());
}

// A base64 32-byte key; an optional one may be missing (empty result).
Result<std::string> key_at(const json::object& o, std::string_view key, const std::string& path, bool required = true) {
  auto text = text_at(o, key, path, required);
  if (!text || text->empty()) return text;
  std::string field = path + "." + std::string(key);
  auto raw = base64_decode(*text);
  if (!raw) return bad(field, "expected base64");
  if (raw->size() != crypto::kIdentityKeySize) return bad(field, "must be 32 bytes");
  return std::move(*raw);
}

Result<bool> flag_at(const json::object& o, std::string_view key, const std::string& path) {
  const json::value* v = o.if_contains(key);
  if (!v) return false;
  if (!v->is_bool()) return bad(path + "." + std::string(key), "expected true or false");
  return v->as_bool();
}

// Calls read(element, path) for each object of the array o[list] (missing: none), path
// naming it ("devices[2]"); the first error ends the list.
template <class Read>
Status read_list(const json::object& o, std::string_view list, Read read) {
  auto array = array_at(o, list);
  if (!array) return std::move(array).error();
  for (std::size_t i = 0; i < (*array)->size(); ++i) {
    std::string path = std::string(list) + "[" + std::to_string(i) + "]";
    auto e = object_at((**array)[i], path);
    if (!e) return std::move(e).error();
    if (auto s = read(**e, path); !s) return s;
  }
  return {};
}

}  // namespace

std::string_view identity_status_name(IdentityStatus status) {
  switch (status) {
    case IdentityStatus::kLegacy: return "legacy";
    case IdentityStatus::kNew: return "new";
    case IdentityStatus::kPinned: return "pinned";
    case IdentityStatus::kVerified: return "verified";
    case IdentityStatus::kChanged: return "changed";
    case IdentityStatus::kVerifiedChanged: return "verified key changed";
  }
  return "unknown";
}

std::string archive_notice(std::string_view practice_name) {
  return "messages in this conversation are also readable by " + std::string(practice_name) + "'s record archive";
}

const UserVerdict* DeviceVerdict::user(std::string_view user_id) const {
  auto it = std::lower_bound(users.begin(), users.end(), user_id,
                             [](const UserVerdict& u, std::string_view id) { return u.user_id < id; });
  return it != users.end() && it->user_id == user_id ? &*it : nullptr;
}

// ---- Identity keys -------------------------------------------------------------------

IdentityStatus TrustStore::identity_status(std::string_view user_id) const {
  const IdentityPin* pin = identity(user_id);
  if (!pin) return IdentityStatus::kLegacy;
  if (!pin->changed_key.empty()) return pin->verified ? IdentityStatus::kVerifiedChanged : IdentityStatus::kChanged;
  return pin->verified ? IdentityStatus::kVerified : IdentityStatus::kPinned;
}

const IdentityPin* TrustStore::identity(std::string_view user_id) const {
  auto it = identities_.find(user_id);
  return it == identities_.end() ? nullptr : &it->second;
}

Result<IdentityStatus> TrustStore::check_identity(const PeerIdentity& identity) {
  if (auto s = check_id("identity.user_id", identity.user_id); !s) return std::move(s).error();
  if (identity.public_key.empty()) return identity_status(identity.user_id);
  if (auto s = check_key("identity.public_key", identity.public_key); !s) return std::move(s).error();
  auto it = identities_.find(identity.user_id);
  if (it == identities_.end()) {
    identities_.emplace(identity.user_id, IdentityPin{identity.public_key, false, {}});
    return IdentityStatus::kNew;
  }
  IdentityPin& pin = it->second;
  // A change never replaces the pin: devices stay checked against the key the user has.
  if (pin.public_key == identity.public_key) {
    pin.changed_key.clear();
  } else {
    pin.changed_key = identity.public_key;
  }
  return identity_status(identity.user_id);
}

Status TrustStore::accept_identity(std::string_view user_id, std::string_view public_key) {
  if (auto s = check_id("user_id", user_id); !s) return s;
  if (auto s = check_key("public_key", public_key); !s) return s;
  auto it = identities_.find(user_id);
  if (it == identities_.end()) {
    identities_.emplace(std::string(user_id), IdentityPin{std::string(public_key), false, {}});
    return {};
  }
  IdentityPin& pin = it->second;
  if (pin.public_key == public_key) {
    pin.changed_key.clear();
    return {};
  }
  // The user compared this key in person: replacing it takes a separate, explicit step.
  if (pin.verified) {
    return Error{Code::kFailedPrecondition,
                 "user_id: " + std::string(user_id) +
                     "'s verified identity key cannot be replaced by accepting a change; unverify it first",
                 "user_id"};
  }
  pin = IdentityPin{std::string(public_key), false, {}};
  return {};
}

Status TrustStore::mark_verified(std::string_view user_id, std::string_view public_key) {
  auto it = identities_.find(user_id);
  if (it == identities_.end()) {
    return Error{Code::kNotFound, "user_id: no identity key pinned for " + std::string(user_id), "user_id"};
  }
  if (it->second.public_key != public_key) {
    return Error{Code::kFailedPrecondition, "public_key: not the pinned identity key of " + std::string(user_id),
                 "public_key"};
  }
  it->second.verified = true;
  return {};
}

Status TrustStore::unverify(std::string_view user_id) {
  auto it = identities_.find(user_id);
  if (it == identities_.end()) {
    return Error{Code::kNotFound, "user_id: no identity key pinned for " + std::string(user_id), "user_id"};
  }
  it->second.verified = false;
  return {};
}

Result<std::string> TrustStore::safety_number(std::string_view my_user_id, std::string_view my_identity_public,
                                              std::string_view peer_user_id) const {
  const IdentityPin* pin = identity(peer_user_id);
  if (!pin) {
    return Error{Code::kNotFound, "peer_user_id: no identity key pinned for " + std::string(peer_user_id),
                 "peer_user_id"};
  }
  return crypto::safety_number(my_user_id, my_identity_public, peer_user_id, pin->public_key);
}

Result<std::string> TrustStore::safety_number_qr_text(std::string_view my_user_id, std::string_view my_identity_public,
                                                      std::string_view peer_user_id) const {
  auto digits = safety_number(my_user_id, my_identity_public, peer_user_id);
  if (!digits) return digits;
  return crypto::safety_number_qr_text(*digits);
}

// ---- Devices -------------------------------------------------------------------------

DeviceVerdict TrustStore::verify_devices(const std::vector<PeerIdentity>& identities,
                                         const std::vector<CertifiedDevice>& devices) {
  // Every claim is read before any is applied: two keys for one user in one answer
  // must not pin the first and report the second as a passing change.
  std::map<std::string, std::string, std::less<>> claims;    // user -> key
  std::map<std::string, std::string, std::less<>> problems;  // user -> why the claim is unusable
  for (const auto& id : identities) {
    if (id.user_id.empty() || id.public_key.empty()) continue;
    if (id.public_key.size() != crypto::kIdentityKeySize) {
      problems.emplace(id.user_id, "malformed identity key");
      continue;
    }
    auto [it, fresh] = claims.emplace(id.user_id, id.public_key);
    if (!fresh && it->second != id.public_key) problems.insert_or_assign(id.user_id, "conflicting identity keys");
  }
  std::set<std::string, std::less<>> named;
  for (const auto& [user, key] : claims) named.insert(user);
  for (const auto& [user, why] : problems) named.insert(user);
  for (const auto& d : devices)
    if (!d.user_id.empty()) named.insert(d.user_id);

  DeviceVerdict out;
  for (const auto& user : named) {
    UserVerdict v{user, identity_status(user), {}};
    if (auto p = problems.find(user); p != problems.end()) {
      v.problem = p->second;
    } else if (auto c = claims.find(user); c != claims.end()) {
      v.status = *check_identity(PeerIdentity{user, c->second, 0});  // validated above: cannot fail
    }
    out.users.push_back(std::move(v));
  }

  std::set<std::string, std::less<>> listed;
  for (const auto& d : devices) {
    const UserVerdict* user = out.user(d.user_id);
    std::string reason = device_problem(d, user);
    // A second entry with other keys is refused above (the first pinned its id); one
    // with the same keys would be wrapped for twice.
    if (reason.empty() && !listed.insert(d.id).second) reason = "duplicate device id";
    if (!reason.empty()) {
      out.rejected.push_back(RejectedDevice{d.id, d.user_id, std::move(reason)});
    } else if (user->legacy()) {
      out.legacy.push_back(d);
    } else {
      out.accepted.push_back(d);
    }
  }
  return out;
}

std::string TrustStore::device_problem(const CertifiedDevice& d, const UserVerdict* user) {
  if (d.id == kArchiveDeviceId) return "reserved id archive";
  if (d.id.empty()) return "missing id";
  if (!user) return "missing user id";
  if (!crypto::verify_device_keys(d.signing_public, d.agreement_public, d.agreement_signature)) {
    return "bad self-signature";
  }
  auto seen = devices_.find(d.id);
  // A device id keeps the keys and owner it was first seen with, certified or not.
  if (seen != devices_.end() && (seen->second.user_id != d.user_id || seen->second.signing_public != d.signing_public ||
                                 seen->second.agreement_public != d.agreement_public)) {
    return "device id pinned with other keys";
  }
  if (!user->problem.empty()) return user->problem;
  if (identity_changed(user->status)) return "identity key changed";
  if (!user->legacy()) {
    const IdentityPin* pin = identity(d.user_id);
    crypto::DeviceCertificate certificate{d.user_id, d.id, d.signing_public, d.agreement_public,
                                          d.certificate_issued_unix_ms};
    if (!pin || !crypto::verify_device_certificate(pin->public_key, certificate, d.certificate_signature)) {
      return "not certified by " + d.user_id + "'s identity key";
    }
  }
  if (seen == devices_.end()) devices_.emplace(d.id, DevicePin{d.user_id, d.signing_public, d.agreement_public});
  return {};
}

const DevicePin* TrustStore::device(std::string_view device_id) const {
  auto it = devices_.find(device_id);
  return it == devices_.end() ? nullptr : &it->second;
}

// ---- The practice key ----------------------------------------------------------------

ArchiveVerdict TrustStore::check_archive_key(const SignedArchiveKey& key, std::string_view practice_name) {
  ArchiveVerdict out;
  out.practice_public_key = key.practice_public_key;
  if (key.practice_public_key.size() == crypto::kIdentityKeySize) {
    out.practice_fingerprint = crypto::key_fingerprint(key.practice_public_key);
  }
  if (key.agreement_public.empty()) {
    out.reason = "no archive key";
    return out;
  }
  if (key.practice_id.empty()) {
    out.reason = "missing practice id";
    return out;
  }
  if (key.signature.empty() || key.practice_public_key.empty()) {
    out.reason = "unsigned archive key";
    return out;
  }
  // Checked before any pin: only a key its practice key really signed is pinned or
  // offered to the user as a change.
  crypto::ArchiveKeyStatement statement{key.practice_id, key.agreement_public, key.issued_unix_ms};
  if (!crypto::verify_archive_key(key.practice_public_key, statement, key.signature)) {
    out.reason = "bad archive key signature";
    return out;
  }
  auto it = practices_.find(key.practice_id);
  if (it == practices_.end()) {
    practices_.emplace(key.practice_id, PracticePin{key.practice_public_key, out.practice_fingerprint});
    out.status = ArchiveStatus::kNew;
  } else if (it->second.public_key.empty()) {
    if (it->second.fingerprint != out.practice_fingerprint) {
      out.status = ArchiveStatus::kChanged;
      out.reason = "practice key does not match the fingerprint pinned at intake";
      return out;
    }
    it->second.public_key = key.practice_public_key;
    out.status = ArchiveStatus::kPinned;
  } else if (it->second.public_key != key.practice_public_key) {
    out.status = ArchiveStatus::kChanged;
    out.reason = "practice key changed";
    return out;
  } else {
    out.status = ArchiveStatus::kPinned;
  }
  out.agreement_public = key.agreement_public;
  out.notice = archive_notice(practice_name.empty() ? std::string_view(key.practice_id) : practice_name);
  return out;
}

Status TrustStore::pin_practice_key(std::string_view practice_id, std::string_view public_key) {
  if (auto s = check_key("public_key", public_key); !s) return s;
  if (auto s = pin_practice_fingerprint(practice_id, crypto::key_fingerprint(public_key)); !s) return s;
  practices_.find(practice_id)->second.public_key = std::string(public_key);
  return {};
}

Status TrustStore::pin_practice_fingerprint(std::string_view practice_id, std::string_view fingerprint) {
  if (auto s = check_id("practice_id", practice_id); !s) return s;
  auto canonical = canonical_fingerprint(fingerprint);
  if (!canonical) return bad("fingerprint", "expected 32 hex digits");
  auto it = practices_.find(practice_id);
  if (it == practices_.end()) {
    practices_.emplace(std::string(practice_id), PracticePin{{}, *canonical});
    return {};
  }
  if (it->second.fingerprint != *canonical) {
    return Error{Code::kFailedPrecondition,
                 "practice_id: another practice key is pinned for " + std::string(practice_id) +
                     "; accept_practice_key replaces it",
                 "practice_id"};
  }
  return {};
}

Status TrustStore::accept_practice_key(std::string_view practice_id, std::string_view public_key) {
  if (auto s = check_id("practice_id", practice_id); !s) return s;
  if (auto s = check_key("public_key", public_key); !s) return s;
  practices_.insert_or_assign(std::string(practice_id),
                              PracticePin{std::string(public_key), crypto::key_fingerprint(public_key)});
  return {};
}

std::optional<std::string> TrustStore::practice_fingerprint(std::string_view practice_id) const {
  auto it = practices_.find(practice_id);
  if (it == practices_.end()) return std::nullopt;
  return it->second.fingerprint;
}

// ---- Persistence ---------------------------------------------------------------------

json::value TrustStore::to_json() const {
  json::array identities;
  for (const auto& [user, pin] : identities_) {
    json::object o{{"user_id", user}, {"public_key", base64_encode(pin.public_key)}, {"verified", pin.verified}};
    if (!pin.changed_key.empty()) o["changed_key"] = base64_encode(pin.changed_key);
    identities.push_back(std::move(o));
  }
  json::array devices;
  for (const auto& [id, pin] : devices_) {
    devices.push_back(json::object{{"id", id},
                                   {"user_id", pin.user_id},
                                   {"signing_public_key", base64_encode(pin.signing_public)},
                                   {"agreement_public_key", base64_encode(pin.agreement_public)}});
  }
  json::array practices;
  for (const auto& [id, pin] : practices_) {
    json::object o{{"practice_id", id}};
    if (pin.public_key.empty()) {
      o["fingerprint"] = pin.fingerprint;
    } else {
      o["public_key"] = base64_encode(pin.public_key);
    }
    practices.push_back(std::move(o));
  }
  return json::object{{"version", kStoreVersion},
                      {"identities", std::move(identities)},
                      {"devices", std::move(devices)},
                      {"practices", std::move(practices)}};
}

// Binds `var` to the value of a Result, or returns its error from the enclosing function.
#define ALLIANCE_TRY(var, expr) \
  auto var = (expr);            \
  if (!var) return std::move(var).error()

Result<TrustStore> TrustStore::from_json(const json::value& v) {
  ALLIANCE_TRY(root, object_at(v, "trust_store"));
  const json::object& o = **root;
  const json::value* version = o.if_contains("version");
  if (!version || !version->is_int64() || version->as_int64() != kStoreVersion) {
    return bad("version", "expected 1");
  }
  TrustStore store;
  auto identities = read_list(o, "identities", [&](const json::object& e, const std::string& path) -> Status {
    ALLIANCE_TRY(user, text_at(e, "user_id", path));
    ALLIANCE_TRY(key, key_at(e, "public_key", path));
    ALLIANCE_TRY(verified, flag_at(e, "verified", path));
    ALLIANCE_TRY(changed, key_at(e, "changed_key", path, false));
    IdentityPin pin{std::move(*key), *verified, std::move(*changed)};
    if (!store.identities_.emplace(std::move(*user), std::move(pin)).second) {
      return bad(path + ".user_id", "duplicate");
    }
    return {};
  });
  if (!identities) return std::move(identities).error();
  auto devices = read_list(o, "devices", [&](const json::object& e, const std::string& path) -> Status {
    ALLIANCE_TRY(id, text_at(e, "id", path));
    if (*id == kArchiveDeviceId) return bad(path + ".id", "reserved id archive");
    ALLIANCE_TRY(user, text_at(e, "user_id", path));
    ALLIANCE_TRY(signing, key_at(e, "signing_public_key", path));
    ALLIANCE_TRY(agreement, key_at(e, "agreement_public_key", path));
    DevicePin pin{std::move(*user), std::move(*signing), std::move(*agreement)};
    if (!store.devices_.emplace(std::move(*id), std::move(pin)).second) return bad(path + ".id", "duplicate");
    return {};
  });
  if (!devices) return std::move(devices).error();
  auto practices = read_list(o, "practices", [&](const json::object& e, const std::string& path) -> Status {
    ALLIANCE_TRY(id, text_at(e, "practice_id", path));
    ALLIANCE_TRY(key, key_at(e, "public_key", path, false));
    ALLIANCE_TRY(fingerprint, text_at(e, "fingerprint", path, false));
    if (!key->empty() && !fingerprint->empty()) return bad(path, "both public_key and fingerprint");
    PracticePin pin{*key, key->empty() ? std::string() : crypto::key_fingerprint(*key)};
    if (key->empty()) {
      auto canonical = canonical_fingerprint(*fingerprint);
      if (!canonical) return bad(path + ".fingerprint", "expected 32 hex digits");
      pin.fingerprint = std::move(*canonical);
    }
    if (!store.practices_.emplace(std::move(*id), std::move(pin)).second) {
      return bad(path + ".practice_id", "duplicate");
    }
    return {};
  });
  if (!practices) return std::move(practices).error();
  return store;
}

#undef ALLIANCE_TRY

}  // namespace alliance::client
