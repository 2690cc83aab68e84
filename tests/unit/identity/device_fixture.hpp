#pragma once
// The device tests' fixture: IdentityServiceTest plus a device's keys as a client app
// makes them, signed-in sessions, and calls to the device, identity-key and
// archive-key methods as the gateway (or, for ListActiveDevices, messaging) makes them.
#include <string>
#include <vector>

#include "alliance/crypto/identity_keys.hpp"
#include "identity_service_fixture.hpp"

namespace alliance::identity {

// A device's key pair as a client app would make it: the agreement key signed by the
// signing key over the context string.
struct DeviceKeys {
  crypto::Ed25519PrivateKey signing = crypto::Ed25519PrivateKey::generate();
  std::string agreement = random_bytes(32);
  std::string signature() const { return signing.sign("alliance-device-agreement-key-v1" + agreement); }
};

// One signed-in session of a user, as the gateway would pass it on.
struct SignedIn {
  pb::TokenResponse tokens;
  std::string session_id;
  net::CallContext ctx;
};

class DeviceTest : public IdentityServiceTest {
 protected:
  SignedIn sign_in(const std::string& slug, const std::string& email) {
    auto t = login(slug, email, kPassword);
    EXPECT_TRUE(t.ok()) << t.error().message;
    if (!t.ok()) return {};
    auto claims = verify(t->access_token());
    EXPECT_TRUE(claims.ok());
    SignedIn s{*t, claims.ok() ? claims->session_id : "", {}};
    s.ctx = as(t->user(), s.session_id);
    return s;
  }

  Result<pb::DeviceResponse> register_device(const SignedIn& who, const DeviceKeys& keys,
                                             const std::string& name = "Alex's phone") {
    pb::RegisterDeviceRequest req;
    req.set_name(name);
    req.set_signing_public_key(keys.signing.public_key_raw());
    req.set_agreement_public_key(keys.agreement);
    req.set_agreement_key_signature(keys.signature());
    return run(service_->register_device(req, who.ctx));
  }

  // Registers and returns the device id ("" on failure, which the test also reports).
  std::string device_of(const SignedIn& who, const DeviceKeys& keys) {
    auto r = register_device(who, keys);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r->device().id() : "";
  }

  Result<pb::ListDevicesResponse> list(const SignedIn& who) {
    return run(service_->list_devices({}, who.ctx));
  }

  Result<pb::DeviceResponse> revoke(const net::CallContext& by, const std::string& device_id) {
    pb::RevokeDeviceRequest req;
    req.set_device_id(device_id);
    return run(service_->revoke_device(req, by));
  }

  Result<pb::ListActiveDevicesResponse> active(const std::string& practice_id,
                                               const std::vector<std::string>& user_ids,
                                               const std::string& session_id = "", bool include_inactive = false) {
    pb::ListActiveDevicesRequest req;
    req.set_practice_id(practice_id);
    for (const auto& id : user_ids) req.add_user_ids(id);
    req.set_session_id(session_id);
    req.set_include_inactive(include_inactive);
    net::CallContext internal;
    internal.peer_name = "messaging";
    return run(service_->list_active_devices(req, internal));
  }

  static std::vector<std::string> ids(const google::protobuf::RepeatedPtrField<pb::Device>& devices) {
    std::vector<std::string> out;
    for (const auto& d : devices) out.push_back(d.id());
    return out;
  }

  Result<pb::ArchiveKeyResponse> set_archive_key(const net::CallContext& by, const std::string& key) {
    pb::SetArchiveKeyRequest req;
    req.set_agreement_public_key(key);
    return run(service_->set_archive_key(req, by));
  }

  // Registers and returns the device as stored (empty on failure, which the test also reports).
  pb::Device registered(const SignedIn& who, const DeviceKeys& keys) {
    auto r = register_device(who, keys);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r->device() : pb::Device{};
  }

  // A new session of the user with a device registered on it.
  struct SessionDevice {
    SignedIn session;
    pb::Device device;
  };
  SessionDevice signed_in_device(const std::string& slug, const std::string& email) {
    SessionDevice out{sign_in(slug, email), {}};
    out.device = registered(out.session, DeviceKeys{});
    return out;
  }

  static constexpr std::int64_t kIssued = 1'760'000'000'000;

  // What the SDK signs with the user's identity key to vouch for `device`.
  static std::string certificate(const crypto::IdentityKeyPair& identity, const pb::Device& device,
                                 std::int64_t issued = kIssued) {
    auto signature = crypto::sign_device_certificate(
        identity.private_seed, crypto::DeviceCertificate{device.user_id(), device.id(), device.signing_public_key(),
                                                         device.agreement_public_key(), issued});
    EXPECT_TRUE(signature.ok()) << signature.error().message;
    return signature.ok() ? *signature : "";
  }

  static pb::SetIdentityKeyRequest identity_key_request(const crypto::IdentityKeyPair& identity,
                                                        const pb::Device& device, bool reset = false,
                                                        std::int64_t issued = kIssued) {
    pb::SetIdentityKeyRequest req;
    req.set_public_key(identity.public_key);
    req.set_certificate_signature(certificate(identity, device, issued));
    req.set_certificate_issued_unix_ms(issued);
    req.set_reset(reset);
    return req;
  }

  // `who`'s session sets `identity` as the user's key, certifying its own `device`.
  Result<pb::IdentityKeyResponse> set_identity_key(const SignedIn& who, const crypto::IdentityKeyPair& identity,
                                                   const pb::Device& device, bool reset = false,
                                                   std::int64_t issued = kIssued) {
    return run(service_->set_identity_key(identity_key_request(identity, device, reset, issued), who.ctx));
  }

  static pb::ApproveDeviceRequest approval(const crypto::IdentityKeyPair& identity, const pb::Device& device,
                                           const std::string& box = "") {
    pb::ApproveDeviceRequest req;
    req.set_device_id(device.id());
    req.set_certificate_signature(certificate(identity, device));
    req.set_certificate_issued_unix_ms(kIssued);
    req.set_identity_key_box(box);
    return req;
  }

  // `by`'s device approves `device` with a certificate signed by `identity`.
  Result<pb::DeviceResponse> approve(const SignedIn& by, const crypto::IdentityKeyPair& identity,
                                     const pb::Device& device, const std::string& box = "") {
    return run(service_->approve_device(approval(identity, device, box), by.ctx));
  }

  // The same, from a session's own device.
  Result<pb::IdentityKeyResponse> set_identity_key(const SessionDevice& own, const crypto::IdentityKeyPair& identity,
                                                   bool reset = false, std::int64_t issued = kIssued) {
    return set_identity_key(own.session, identity, own.device, reset, issued);
  }
  Result<pb::DeviceResponse> approve(const SessionDevice& by, const crypto::IdentityKeyPair& identity,
                                     const pb::Device& device, const std::string& box = "") {
    return approve(by.session, identity, device, box);
  }

  Result<pb::IdentityKeyResponse> identity_key_of(const net::CallContext& by, const std::string& user_id) {
    pb::GetIdentityKeyRequest req;
    req.set_user_id(user_id);
    return run(service_->get_identity_key(req, by));
  }
};

}  // namespace alliance::identity
