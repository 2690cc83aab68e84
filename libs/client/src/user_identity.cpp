#include "alliance/client/user_identity.hpp"

#include <boost/json/value.hpp>

#include "alliance/crypto/ed25519.hpp"
#include "alliance/crypto/encoding.hpp"
#include "alliance/crypto/hpke.hpp"
#include "alliance/crypto/wipe.hpp"

namespace alliance::client {
namespace {

namespace json = boost::json;

constexpr std::string_view kBoxInfo = "alliance-identity-key-box-v1";
constexpr std::string_view kCodeLabel = "alliance-approval-code-v1";

void append_len16(std::string& out, std::string_view s) {
  out.push_back(static_cast<char>((s.size() >> 8) & 0xff));
  out.push_back(static_cast<char>(s.size() & 0xff));
  out.append(s);
}

// The box is bound to the user and the device it was sealed for.
std::string box_aad(std::string_view user_id, std::string_view device_id) {
  std::string aad;
  append_len16(aad, user_id);
  append_len16(aad, device_id);
  return aad;
}

PeerDevice as_peer(const Device& d) {
  PeerDevice p;
  p.id = d.id;
  p.user_id = d.user_id;
  p.name = d.name;
  p.signing_public = d.keys.signing_public;
  p.agreement_public = d.keys.agreement_public;
  p.agreement_signature = d.keys.agreement_signature;
  return p;
}

crypto::DeviceCertificate certificate_of(const PeerDevice& d, std::int64_t issued_unix_ms) {
  return crypto::DeviceCertificate{d.user_id, d.id, d.signing_public, d.agreement_public, issued_unix_ms};
}

Error malformed(std::string_view call, const Error& e) {
  return make_error(Code::kInternal, "the gateway's answer to " + std::string(call) + " is malformed: " + e.message);
}

// GET /v1/users/me/identity-key: the user's key, nullopt when there is none.
Result<std::optional<WireIdentityKey>> my_identity_key(AllianceClient& client) {
  auto r = client.get_json("/v1/users/me/identity-key");
  if (!r) return std::move(r).error();
  const json::value* key = r->is_object() ? r->as_object().if_contains("identity_key") : nullptr;
  if (!key || key->is_null()) return std::optional<WireIdentityKey>{};
  auto parsed = identity_key_from_json(*key);
  if (!parsed) return malformed("get identity key", parsed.error());
  if (parsed->public_key.empty()) return std::optional<WireIdentityKey>{};
  return std::optional<WireIdentityKey>{std::move(*parsed)};
}

Result<std::vector<PeerDevice>> my_devices(AllianceClient& client) {
  auto r = client.get_json("/v1/devices");
  if (!r) return std::move(r).error();
  const json::value* list = r->is_object() ? r->as_object().if_contains("devices") : nullptr;
  if (!list || list->is_null()) return std::vector<PeerDevice>{};
  auto parsed = peer_devices_from_json(*list);
  if (!parsed) return malformed("list devices", parsed.error());
  return parsed;
}

Result<crypto::IdentityKeyPair> key_from_seed(std::string seed) {
  auto key = crypto::Ed25519PrivateKey::from_raw_seed(seed);
  if (!key) {
    crypto::wipe(seed);
    return std::move(key).error();
  }
  crypto::IdentityKeyPair out;
  out.public_key = key->public_key_raw();
  out.private_seed = std::move(seed);
  return out;
}

}  // namespace

std::string approval_code(std::string_view user_id, std::string_view device_id, std::string_view signing_public,
                          std::string_view agreement_public) {
  std::string input(kCodeLabel);
  append_len16(input, user_id);
  append_len16(input, device_id);
  append_len16(input, signing_public);
  append_len16(input, agreement_public);
  const std::string digest = crypto::sha256(input);
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(digest[i]);
  std::string code = std::to_string(n % 1000000);
  return std::string(6 - code.size(), '0') + code;
}

Result<std::string> certify_device(const UserIdentity& identity, const PeerDevice& device,
                                   std::int64_t issued_unix_ms) {
  if (device.user_id != identity.user_id)
    return Error{Code::kInvalidArgument, "device: belongs to another user", "device.user_id"};
  return crypto::sign_device_certificate(identity.key.private_seed, certificate_of(device, issued_unix_ms));
}

Result<std::string> seal_identity_for(const UserIdentity& identity, const PeerDevice& device) {
  return crypto::hpke::seal(device.agreement_public, kBoxInfo, box_aad(device.user_id, device.id),
                            identity.key.private_seed);
}

Result<crypto::IdentityKeyPair> open_identity_box(const Device& device, std::string_view box) {
  auto seed = crypto::hpke::open(device.keys.agreement_private, kBoxInfo, box_aad(device.user_id, device.id), box);
  if (!seed) return Error{Code::kPermissionDenied, "identity_key_box: cannot be opened by this device", "identity_key_box"};
  return key_from_seed(std::move(*seed));
}

namespace {

// PUT /v1/me/identity-key: `identity` is the user's key (the first, or the one the
// server already lists) and certifies `device`, this session's device.
Status put_identity_key(AllianceClient& client, const UserIdentity& identity, const Device& device,
                        std::int64_t now_unix_ms) {
  auto signature = certify_device(identity, as_peer(device), now_unix_ms);
  if (!signature) return std::move(signature).error();
  json::object body;
  body["public_key"] = base64_encode(identity.key.public_key);
  body["certificate_signature"] = base64_encode(*signature);
  body["certificate_issued_unix_ms"] = std::to_string(now_unix_ms);
  auto r = client.put_json("/v1/me/identity-key", body);
  if (!r) return std::move(r).error();
  return {};
}

}  // namespace

Result<IdentitySetup> set_up_identity(AllianceClient& client, const Device& device, std::int64_t now_unix_ms,
                                      const std::optional<UserIdentity>& held) {
  auto existing = my_identity_key(client);
  if (!existing) return std::move(existing).error();
  const bool still_held = held && held->user_id == device.user_id &&
                          (!*existing || crypto::constant_time_equal((*existing)->public_key, held->key.public_key));
  if (still_held) {
    auto devices = my_devices(client);
    if (!devices) return std::move(devices).error();
    for (const auto& d : *devices)
      if (d.id == device.id && d.approved) return IdentitySetup{*held, ""};  // certified already
    if (auto put = put_identity_key(client, *held, device, now_unix_ms); !put) return std::move(put).error();
    return IdentitySetup{*held, ""};
  }
  if (!*existing) {
    // The user's first device: make the key and certify ourselves with it.
    UserIdentity identity{device.user_id, crypto::generate_identity_key()};
    auto r = put_identity_key(client, identity, device, now_unix_ms);
    if (r) return IdentitySetup{std::move(identity), ""};
    if (r.error().code != Code::kAlreadyExists) return std::move(r).error();
    // Another device of the user made one first: approval by it is needed.
    existing = my_identity_key(client);
    if (!existing) return std::move(existing).error();
    if (!*existing) return make_error(Code::kInternal, "set up identity: the server lost the user's identity key");
  }
  const WireIdentityKey& key = **existing;
  auto devices = my_devices(client);
  if (!devices) return std::move(devices).error();
  for (const auto& d : *devices) {
    if (d.id != device.id || d.identity_key_box.empty()) continue;
    auto opened = open_identity_box(device, d.identity_key_box);
    if (!opened) return std::move(opened).error();
    // The key must be the one the user is known by, and must certify this device.
    const bool ours = crypto::constant_time_equal(opened->public_key, key.public_key) &&
                      crypto::verify_device_certificate(opened->public_key,
                                                        certificate_of(as_peer(device), d.certificate_issued_unix_ms),
                                                        d.certificate_signature);
    if (!ours) {
      return Error{Code::kPermissionDenied,
                   "identity_key_box: the sealed key is not the user's identity key or does not certify this device",
                   "identity_key_box"};
    }
    return IdentitySetup{UserIdentity{device.user_id, std::move(*opened)}, ""};
  }
  return IdentitySetup{std::nullopt, approval_code(device.user_id, device.id, device.keys.signing_public,
                                                   device.keys.agreement_public)};
}

Result<std::vector<PeerDevice>> pending_devices(AllianceClient& client) {
  auto devices = my_devices(client);
  if (!devices) return devices;
  std::vector<PeerDevice> out;
  for (auto& d : *devices)
    if (!d.approved && d.revoked_unix_ms == 0 && !d.current) out.push_back(std::move(d));
  return out;
}

Status approve_device(AllianceClient& client, const UserIdentity& identity, std::string_view device_id,
                      std::string_view code_shown_on_device, std::int64_t now_unix_ms) {
  auto devices = my_devices(client);
  if (!devices) return std::move(devices).error();
  const PeerDevice* target = nullptr;
  for (const auto& d : *devices)
    if (d.id == device_id) target = &d;
  if (!target || target->user_id != identity.user_id || target->revoked_unix_ms != 0)
    return Error{Code::kNotFound, "device_id: no such device of yours awaiting approval", "device_id"};
  if (!crypto::verify_device_keys(target->signing_public, target->agreement_public, target->agreement_signature))
    return Error{Code::kPermissionDenied, "device_id: the device's keys are not self-signed", "device_id"};
  const auto expected =
      approval_code(target->user_id, target->id, target->signing_public, target->agreement_public);
  if (!crypto::constant_time_equal(expected, code_shown_on_device))
    return Error{Code::kPermissionDenied, "code: not the code of this device's keys; do not approve it", "code"};
  auto signature = certify_device(identity, *target, now_unix_ms);
  if (!signature) return std::move(signature).error();
  auto box = seal_identity_for(identity, *target);
  if (!box) return std::move(box).error();
  json::object body;
  body["device_id"] = target->id;
  body["certificate_signature"] = base64_encode(*signature);
  body["certificate_issued_unix_ms"] = std::to_string(now_unix_ms);
  body["identity_key_box"] = base64_encode(*box);
  auto r = client.post_json("/v1/devices/" + url_encode(target->id) + "/approve", body);
  if (!r) return std::move(r).error();
  return {};
}

}  // namespace alliance::client
