// The device-side pieces of a user's identity key that need no server: the code
// compared before approving a device, the certificate an identity key issues, and
// the identity key sealed for exactly one new device.
#include <gtest/gtest.h>

#include "alliance/client/user_identity.hpp"
#include "test_devices.hpp"

namespace alliance::client {
namespace {

TEST(ApprovalCode, SixDigitsThatChangeWithAnyKeyOrId) {
  const Device d = make_device("d2", "u1");
  const auto code = approval_code(d.user_id, d.id, d.keys.signing_public, d.keys.agreement_public);
  ASSERT_EQ(code.size(), 6u);
  EXPECT_EQ(code.find_first_not_of("0123456789"), std::string::npos);
  EXPECT_EQ(code, approval_code(d.user_id, d.id, d.keys.signing_public, d.keys.agreement_public));
  // A device the server put in its place (other keys, other id, other user) shows
  // another code: with a million codes, none of these collide by chance.
  const Device other = make_device("d2", "u1");
  EXPECT_NE(code, approval_code(d.user_id, d.id, other.keys.signing_public, d.keys.agreement_public));
  EXPECT_NE(code, approval_code(d.user_id, d.id, d.keys.signing_public, other.keys.agreement_public));
  EXPECT_NE(code, approval_code(d.user_id, "d3", d.keys.signing_public, d.keys.agreement_public));
  EXPECT_NE(code, approval_code("u2", d.id, d.keys.signing_public, d.keys.agreement_public));
}

TEST(CertifyDevice, TheIdentityKeyVouchesForThisDeviceOnly) {
  const UserIdentity identity{"u1", crypto::generate_identity_key()};
  const Device phone = make_device("d2", "u1");
  auto signature = certify_device(identity, public_part(phone), 1700000000000);
  ASSERT_TRUE(signature) << signature.error().message;
  const crypto::DeviceCertificate cert{"u1", "d2", phone.keys.signing_public, phone.keys.agreement_public,
                                       1700000000000};
  EXPECT_TRUE(crypto::verify_device_certificate(identity.key.public_key, cert, *signature));
  auto other_time = cert;
  other_time.issued_unix_ms += 1;
  EXPECT_FALSE(crypto::verify_device_certificate(identity.key.public_key, other_time, *signature));
  // Never for another user's device.
  auto refused = certify_device(identity, public_part(make_device("d9", "u2")), 1);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "device.user_id");
}

TEST(IdentityBox, OnlyTheDeviceItWasSealedForOpensIt) {
  const UserIdentity identity{"u1", crypto::generate_identity_key()};
  const Device tablet = make_device("d2", "u1");
  auto box = seal_identity_for(identity, public_part(tablet));
  ASSERT_TRUE(box) << box.error().message;
  auto opened = open_identity_box(tablet, *box);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->private_seed, identity.key.private_seed);
  EXPECT_EQ(opened->public_key, identity.key.public_key);

  // Another device, or the same keys under another id or user, cannot open it.
  EXPECT_FALSE(open_identity_box(make_device("d2", "u1"), *box));
  Device renamed = tablet;
  renamed.id = "d3";
  EXPECT_FALSE(open_identity_box(renamed, *box));
  Device moved = tablet;
  moved.user_id = "u2";
  EXPECT_FALSE(open_identity_box(moved, *box));
  auto tampered = *box;
  tampered.back() = static_cast<char>(tampered.back() ^ 1);
  auto bad = open_identity_box(tablet, tampered);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field, "identity_key_box");
  EXPECT_FALSE(open_identity_box(tablet, ""));
}

}  // namespace
}  // namespace alliance::client
