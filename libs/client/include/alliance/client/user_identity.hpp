#pragma once
// A user's identity key on their devices. The user's first device makes it and
// certifies itself with it (crypto::DeviceCertificate); every later device stays
// "awaiting approval" (it neither sends nor receives end-to-end messages) until an
// approved device of the same user certifies it, after the user compared a short
// code shown on both screens, and seals the identity key for it. Peers trust a
// device only through the certificate of the identity key they pinned for its user,
// so a device the server adds on its own is never wrapped for.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/client/alliance_client.hpp"
#include "alliance/client/device.hpp"
#include "alliance/client/wire.hpp"
#include "alliance/crypto/identity_keys.hpp"

namespace alliance::client {

struct UserIdentity {
  std::string user_id;
  crypto::IdentityKeyPair key;  // private_seed: this device holds it (kept in its storage)
};

struct IdentitySetup {
  // Set when this device holds the user's identity key and is certified by it.
  std::optional<UserIdentity> identity;
  // Otherwise: the code to show, which the user types on an approved device.
  std::string approval_code;
};

// Makes this device's identity ready. A user with no identity key gets one made here
// and this device certified by it (PUT /v1/me/identity-key). For a user who has one:
// if an approved device already sealed the key for this device, it is opened and
// checked against the public key the server lists and the certificate; otherwise the
// device is awaiting approval and `approval_code` says what to compare.
// `now_unix_ms` is the certificate's issue time.
//
// `held`: the user's identity key this app kept from an earlier device of the same
// user (a new sign-in on the same machine). If it is still the key the server lists
// (or the server lists none), this device is certified with it at once, no approval
// needed; a key the server has since replaced (a reset on another device) is ignored
// and this device awaits approval like any other.
Result<IdentitySetup> set_up_identity(AllianceClient& client, const Device& device, std::int64_t now_unix_ms,
                                      const std::optional<UserIdentity>& held = std::nullopt);

// The code compared on both screens before approving a device: 6 digits from the
// user id, the device id and both its public keys, so a device the server put in its
// place shows another code.
std::string approval_code(std::string_view user_id, std::string_view device_id, std::string_view signing_public,
                          std::string_view agreement_public);

// The certificate `identity` issues for a device's public keys.
Result<std::string> certify_device(const UserIdentity& identity, const PeerDevice& device,
                                   std::int64_t issued_unix_ms);

// On an approved device: the user's devices awaiting approval (active, not approved).
Result<std::vector<PeerDevice>> pending_devices(AllianceClient& client);

// Certifies `device_id` and seals the identity key for it (POST
// /v1/devices/{id}/approve), but only if `code_shown_on_device` is the code that
// device's keys give: otherwise kPermissionDenied, field "code", and nothing is sent.
Status approve_device(AllianceClient& client, const UserIdentity& identity, std::string_view device_id,
                      std::string_view code_shown_on_device, std::int64_t now_unix_ms);

// The identity key sealed for `device` (what approve_device sends), and its inverse.
Result<std::string> seal_identity_for(const UserIdentity& identity, const PeerDevice& device);
Result<crypto::IdentityKeyPair> open_identity_box(const Device& device, std::string_view box);

}  // namespace alliance::client
