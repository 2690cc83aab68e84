#include "alliance/crypto/x25519.hpp"

#include <gtest/gtest.h>

#include "alliance/core/ids.hpp"
#include "test_util.hpp"

namespace alliance::crypto {
namespace {

using test_support::from_hex;

// RFC 7748 section 6.1.
constexpr std::string_view kAlicePrivate = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
constexpr std::string_view kAlicePublic = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
constexpr std::string_view kBobPrivate = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
constexpr std::string_view kBobPublic = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
constexpr std::string_view kShared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

TEST(X25519, Rfc7748KnownAnswer) {
  auto alice = x25519_from_private(from_hex(kAlicePrivate));
  ASSERT_TRUE(alice.ok()) << alice.error().message;
  EXPECT_EQ(to_hex(alice->public_key), kAlicePublic);
  EXPECT_EQ(alice->private_key, from_hex(kAlicePrivate));
  auto bob = x25519_from_private(from_hex(kBobPrivate));
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(to_hex(bob->public_key), kBobPublic);

  auto ab = x25519_shared(from_hex(kAlicePrivate), from_hex(kBobPublic));
  auto ba = x25519_shared(from_hex(kBobPrivate), from_hex(kAlicePublic));
  ASSERT_TRUE(ab.ok() && ba.ok());
  EXPECT_EQ(to_hex(*ab), kShared);
  EXPECT_EQ(to_hex(*ba), kShared);
}

TEST(X25519, GeneratedPairsAgreeAndDiffer) {
  auto a = x25519_generate();
  auto b = x25519_generate();
  ASSERT_EQ(a.private_key.size(), 32u);
  ASSERT_EQ(a.public_key.size(), 32u);
  EXPECT_NE(a.private_key, b.private_key);
  EXPECT_NE(a.public_key, b.public_key);
  auto again = x25519_from_private(a.private_key);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->public_key, a.public_key);
  auto ab = x25519_shared(a.private_key, b.public_key);
  auto ba = x25519_shared(b.private_key, a.public_key);
  ASSERT_TRUE(ab.ok() && ba.ok());
  EXPECT_EQ(*ab, *ba);
}

TEST(X25519, LowOrderPeerKeysAreRefused) {
  auto a = x25519_generate();
  // u = 0 and u = 1 are points of small order: the shared secret would be all zero.
  std::string zero(32, '\0');
  std::string one(32, '\0');
  one[0] = 1;
  for (const auto& peer : {zero, one}) {
    auto shared = x25519_shared(a.private_key, peer);
    ASSERT_FALSE(shared.ok());
    EXPECT_EQ(shared.error().code, Code::kInvalidArgument);
    EXPECT_EQ(shared.error().field, "peer_public");
  }
}

TEST(X25519, WrongSizesNameTheField) {
  auto a = x25519_generate();
  auto bad_private = x25519_from_private(std::string(31, 'k'));
  ASSERT_FALSE(bad_private.ok());
  EXPECT_EQ(bad_private.error().field, "private_key");
  EXPECT_FALSE(x25519_from_private("").ok());

  auto short_private = x25519_shared(std::string(33, 'k'), a.public_key);
  ASSERT_FALSE(short_private.ok());
  EXPECT_EQ(short_private.error().field, "private_key");
  auto short_peer = x25519_shared(a.private_key, a.public_key.substr(1));
  ASSERT_FALSE(short_peer.ok());
  EXPECT_EQ(short_peer.error().field, "peer_public");
  auto empty_peer = x25519_shared(a.private_key, "");
  ASSERT_FALSE(empty_peer.ok());
  EXPECT_EQ(empty_peer.error().field, "peer_public");
}

}  // namespace
}  // namespace alliance::crypto
