#include "alliance/crypto/identity_keys.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <functional>

#include "alliance/crypto/ed25519.hpp"
#include "alliance/crypto/message_seal.hpp"
#include "test_util.hpp"

namespace alliance::crypto {
namespace {

using test_support::from_hex;

std::string field_of(const auto& result) { return result.ok() ? std::string("<ok>") : result.error().field; }

// The value of a result that must be ok (the test fails, naming the field, if not).
std::string value_of(const Result<std::string>& result) {
  EXPECT_TRUE(result.ok()) << field_of(result);
  return result.ok() ? *result : std::string();
}

// A 2-byte big-endian length, then the bytes (ids shorter than 65536 bytes).
std::string len16(std::string_view bytes) {
  return std::string{static_cast<char>(bytes.size() >> 8), static_cast<char>(bytes.size() & 0xff)} +
         std::string(bytes);
}

std::string flip_first_byte(std::string bytes) {
  bytes[0] = static_cast<char>(bytes[0] ^ 1);
  return bytes;
}

// Signs `statement` with two fresh keys: each 64-byte signature verifies under its own key
// and not under the other.
template <class Statement, class Sign, class Verify>
void expect_only_the_signer_verifies(const Statement& statement, Sign sign, Verify verify) {
  IdentityKeyPair owner = generate_identity_key();
  IdentityKeyPair other = generate_identity_key();
  auto by_owner = sign(owner.private_seed, statement);
  auto by_other = sign(other.private_seed, statement);
  ASSERT_TRUE(by_owner.ok() && by_other.ok());
  EXPECT_EQ(by_owner->size(), kIdentitySignatureSize);
  EXPECT_TRUE(verify(owner.public_key, statement, *by_owner));
  EXPECT_FALSE(verify(owner.public_key, statement, *by_other));
  EXPECT_FALSE(verify(other.public_key, statement, *by_owner));
}

TEST(IdentityKeyTest, GeneratedKeyPairsBelongTogetherAndDiffer) {
  IdentityKeyPair user = generate_identity_key();
  IdentityKeyPair practice = generate_practice_key();
  for (const IdentityKeyPair* pair : {&user, &practice}) {
    ASSERT_EQ(pair->private_seed.size(), kIdentityKeySize);
    ASSERT_EQ(pair->public_key.size(), kIdentityKeySize);
    auto signer = Ed25519PrivateKey::from_raw_seed(pair->private_seed);
    ASSERT_TRUE(signer.ok());
    EXPECT_EQ(signer->public_key_raw(), pair->public_key);
  }
  EXPECT_NE(user.private_seed, practice.private_seed);
  EXPECT_NE(user.public_key, practice.public_key);
}

// A therapist's identity key vouches for the laptop she just approved.
class DeviceCertificateTest : public ::testing::Test {
 protected:
  IdentityKeyPair identity_ = generate_identity_key();
  DeviceKeys laptop_ = generate_device_keys();
  DeviceCertificate certificate_{"user-therapist-kim", "device-kim-laptop", laptop_.signing_public,
                                 laptop_.agreement_public, 1717171717171};

  std::string sign(const DeviceCertificate& certificate) {
    return value_of(sign_device_certificate(identity_.private_seed, certificate));
  }
};

TEST_F(DeviceCertificateTest, StatementIsTheDocumentedBytes) {
  // Another client implementing the format from identity_keys.hpp alone must agree.
  std::string expected = "alliance-device-certificate-v1" + len16(certificate_.user_id) +
                         len16(certificate_.device_id) + laptop_.signing_public + laptop_.agreement_public +
                         from_hex("0000018fcf690433");  // 1717171717171
  EXPECT_EQ(value_of(device_certificate_statement(certificate_)), expected);
  EXPECT_TRUE(ed25519_verify(identity_.public_key, expected, sign(certificate_)));
}

TEST_F(DeviceCertificateTest, EveryChangedFieldFailsVerification) {
  std::string signature = sign(certificate_);
  DeviceKeys other = generate_device_keys();
  std::vector<std::pair<std::string, std::function<void(DeviceCertificate&)>>> changes = {
      {"user_id", [](DeviceCertificate& c) { c.user_id = "user-therapist-kin"; }},
      {"device_id", [](DeviceCertificate& c) { c.device_id = "device-kim-phone"; }},
      {"signing_public", [&](DeviceCertificate& c) { c.signing_public = other.signing_public; }},
      {"agreement_public", [&](DeviceCertificate& c) { c.agreement_public = other.agreement_public; }},
      {"issued_unix_ms", [](DeviceCertificate& c) { c.issued_unix_ms += 1; }},
      // Moving a byte from one id to the other keeps the concatenation, not the statement.
      {"shifted ids", [](DeviceCertificate& c) {
         c.user_id += 'd';
         c.device_id.erase(0, 1);
       }},
  };
  for (const auto& [what, change] : changes) {
    DeviceCertificate changed = certificate_;
    change(changed);
    EXPECT_FALSE(verify_device_certificate(identity_.public_key, changed, signature)) << what;
  }
  EXPECT_FALSE(verify_device_certificate(identity_.public_key, certificate_, flip_first_byte(signature)));
}

TEST_F(DeviceCertificateTest, VerifiesUnderTheSigningIdentityOnly) {
  // The server vouching for a device with a key of its own choosing.
  expect_only_the_signer_verifies(certificate_, sign_device_certificate, verify_device_certificate);
}

TEST_F(DeviceCertificateTest, WrongSizesAreFalse) {
  std::string signature = sign(certificate_);
  EXPECT_FALSE(verify_device_certificate(identity_.public_key.substr(1), certificate_, signature));
  EXPECT_FALSE(verify_device_certificate("", certificate_, signature));
  EXPECT_FALSE(verify_device_certificate(identity_.public_key, certificate_, signature.substr(1)));
  EXPECT_FALSE(verify_device_certificate(identity_.public_key, certificate_, signature + "x"));
  EXPECT_FALSE(verify_device_certificate(identity_.public_key, certificate_, ""));
  DeviceCertificate bad = certificate_;
  bad.signing_public.pop_back();
  EXPECT_FALSE(verify_device_certificate(identity_.public_key, bad, signature));
  bad = certificate_;
  bad.agreement_public += 'x';
  EXPECT_FALSE(verify_device_certificate(identity_.public_key, bad, signature));
  bad = certificate_;
  bad.user_id.clear();
  EXPECT_FALSE(verify_device_certificate(identity_.public_key, bad, signature));
}

TEST_F(DeviceCertificateTest, BadInputsNameTheField) {
  auto with = [&](const DeviceCertificate& c) { return field_of(sign_device_certificate(identity_.private_seed, c)); };
  DeviceCertificate c = certificate_;
  c.user_id.clear();
  EXPECT_EQ(with(c), "certificate.user_id");
  c = certificate_;
  c.user_id = std::string(0x10000, 'u');
  EXPECT_EQ(with(c), "certificate.user_id");
  c = certificate_;
  c.device_id.clear();
  EXPECT_EQ(with(c), "certificate.device_id");
  c = certificate_;
  c.signing_public.pop_back();
  EXPECT_EQ(with(c), "certificate.signing_public");
  c = certificate_;
  c.agreement_public.clear();
  EXPECT_EQ(with(c), "certificate.agreement_public");
  EXPECT_EQ(field_of(sign_device_certificate(identity_.private_seed.substr(1), certificate_)), "identity_private");
  c = certificate_;
  c.user_id = std::string(0xffff, 'u');  // the longest id the format carries
  EXPECT_EQ(with(c), "<ok>");
}

// The practice key vouches for the archive key that every message is also wrapped for.
class ArchiveKeyTest : public ::testing::Test {
 protected:
  IdentityKeyPair practice_ = generate_practice_key();
  DeviceKeys archive_ = generate_device_keys();
  ArchiveKeyStatement statement_{"practice-northside", archive_.agreement_public, 1700000000000};

  std::string sign(const ArchiveKeyStatement& statement) {
    return value_of(sign_archive_key(practice_.private_seed, statement));
  }
};

TEST_F(ArchiveKeyTest, StatementIsTheDocumentedBytes) {
  std::string expected = "alliance-archive-key-v1" + len16(statement_.practice_id) + archive_.agreement_public +
                         from_hex("0000018bcfe56800");  // 1700000000000
  EXPECT_EQ(value_of(archive_key_statement(statement_)), expected);
  EXPECT_TRUE(ed25519_verify(practice_.public_key, expected, sign(statement_)));
}

TEST_F(ArchiveKeyTest, EveryChangedFieldFailsVerification) {
  std::string signature = sign(statement_);
  DeviceKeys operator_key = generate_device_keys();
  ArchiveKeyStatement changed = statement_;
  changed.practice_id = "practice-southside";
  EXPECT_FALSE(verify_archive_key(practice_.public_key, changed, signature));
  changed = statement_;
  changed.agreement_public = operator_key.agreement_public;
  EXPECT_FALSE(verify_archive_key(practice_.public_key, changed, signature));
  changed = statement_;
  changed.issued_unix_ms -= 1;
  EXPECT_FALSE(verify_archive_key(practice_.public_key, changed, signature));
  EXPECT_FALSE(verify_archive_key(practice_.public_key, statement_, flip_first_byte(signature)));
}

TEST_F(ArchiveKeyTest, VerifiesUnderTheSigningPracticeKeyOnly) {
  // An admin (or the operator) substituting an archive key signed by a key of their own.
  expect_only_the_signer_verifies(statement_, sign_archive_key, verify_archive_key);
}

TEST_F(ArchiveKeyTest, ADeviceCertificateSignatureIsNotAnArchiveKeySignature) {
  // The labels keep one kind of statement from passing as the other.
  DeviceCertificate certificate{statement_.practice_id, "archive", archive_.agreement_public,
                                archive_.agreement_public, statement_.issued_unix_ms};
  auto signature = sign_device_certificate(practice_.private_seed, certificate);
  ASSERT_TRUE(signature.ok());
  EXPECT_FALSE(verify_archive_key(practice_.public_key, statement_, *signature));
}

TEST_F(ArchiveKeyTest, WrongSizesAreFalseAndBadInputsNameTheField) {
  std::string signature = sign(statement_);
  EXPECT_FALSE(verify_archive_key(practice_.public_key.substr(2), statement_, signature));
  EXPECT_FALSE(verify_archive_key(practice_.public_key, statement_, signature.substr(0, 63)));
  EXPECT_FALSE(verify_archive_key(practice_.public_key, statement_, ""));
  ArchiveKeyStatement bad = statement_;
  bad.agreement_public.pop_back();
  EXPECT_FALSE(verify_archive_key(practice_.public_key, bad, signature));
  EXPECT_EQ(field_of(sign_archive_key(practice_.private_seed, bad)), "statement.agreement_public");
  bad = statement_;
  bad.practice_id.clear();
  EXPECT_FALSE(verify_archive_key(practice_.public_key, bad, signature));
  EXPECT_EQ(field_of(sign_archive_key(practice_.private_seed, bad)), "statement.practice_id");
  EXPECT_EQ(field_of(sign_archive_key("", statement_)), "practice_private");
}

// Fixed inputs for the known answers below: RFC 8032 §7.1 TEST 1 and TEST 2 public keys.
const std::string kKeyA = from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
const std::string kKeyB = from_hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");

// Expected values computed independently of this code with Python's hashlib:
//
//   import hashlib
//   ka = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
//   kb = bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
//   def half(user, key):
//       h = b"\x00\x00" + key + user
//       for _ in range(5200):
//           h = hashlib.sha512(h + key).digest()
//       return "".join("%05d" % (int.from_bytes(h[i:i + 5], "big") % 100000) for i in range(0, 30, 5))
//   digits = "".join(sorted([half(b"user-alice", ka), half(b"user-bob", kb)]))
//   print(" ".join(digits[i:i + 5] for i in range(0, 60, 5)))
//   fp = hashlib.sha256(b"alliance-key-fingerprint-v1" + ka).hexdigest()[:32]
//   print(" ".join(fp[i:i + 4] for i in range(0, 32, 4)))
TEST(KeyFingerprintTest, KnownAnswer) {
  EXPECT_EQ(key_fingerprint(kKeyA), "2f77 5361 d266 de98 5391 a715 aa85 393e");
}

TEST(SafetyNumberTest, KnownAnswer) {
  auto number = safety_number("user-alice", kKeyA, "user-bob", kKeyB);
  ASSERT_TRUE(number.ok()) << field_of(number);
  EXPECT_EQ(*number, "63579 76036 70222 14020 67694 07858 70080 88773 51528 57184 75483 00382");
  EXPECT_EQ(safety_number_qr_text(*number),
            "alliance-safety-v1:635797603670222140206769407858700808877351528571847548300382");
}

TEST(KeyFingerprintTest, IsEightGroupsOfFourLowercaseHexAndDiffersPerKey) {
  IdentityKeyPair practice = generate_practice_key();
  std::string fingerprint = key_fingerprint(practice.public_key);
  ASSERT_EQ(fingerprint.size(), 39u) << fingerprint;
  for (std::size_t i = 0; i < fingerprint.size(); ++i) {
    if (i % 5 == 4)
      EXPECT_EQ(fingerprint[i], ' ') << fingerprint;
    else
      EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(fingerprint[i])) && !std::isupper(fingerprint[i]))
          << fingerprint;
  }
  EXPECT_EQ(key_fingerprint(practice.public_key), fingerprint);
  EXPECT_NE(key_fingerprint(flip_first_byte(practice.public_key)), fingerprint);
}

TEST(SafetyNumberTest, IsSixtyDigitsInTwelveGroupsWhicheverSideComputesIt) {
  IdentityKeyPair client = generate_identity_key();
  IdentityKeyPair therapist = generate_identity_key();
  auto ab = safety_number("user-client-7", client.public_key, "user-therapist-kim", therapist.public_key);
  auto ba = safety_number("user-therapist-kim", therapist.public_key, "user-client-7", client.public_key);
  ASSERT_TRUE(ab.ok() && ba.ok());
  EXPECT_EQ(*ab, *ba);
  ASSERT_EQ(ab->size(), 60u + 11u) << *ab;
  int digits = 0;
  for (std::size_t i = 0; i < ab->size(); ++i) {
    if (i % 6 == 5) {
      EXPECT_EQ((*ab)[i], ' ') << *ab;
    } else {
      EXPECT_TRUE(std::isdigit(static_cast<unsigned char>((*ab)[i]))) << *ab;
      ++digits;
    }
  }
  EXPECT_EQ(digits, 60);
  std::string qr = safety_number_qr_text(*ab);
  EXPECT_EQ(qr.size(), std::string("alliance-safety-v1:").size() + 60);
  EXPECT_EQ(qr.rfind("alliance-safety-v1:", 0), 0u);
}

TEST(SafetyNumberTest, ChangesWhenEitherIdentityKeyOrUserIdChanges) {
  IdentityKeyPair client = generate_identity_key();
  IdentityKeyPair therapist = generate_identity_key();
  IdentityKeyPair replaced = generate_identity_key();
  auto number = [](std::string_view ua, std::string_view ka, std::string_view ub, std::string_view kb) {
    return value_of(safety_number(ua, ka, ub, kb));
  };
  std::string base = number("user-client-7", client.public_key, "user-therapist-kim", therapist.public_key);
  EXPECT_NE(number("user-client-7", replaced.public_key, "user-therapist-kim", therapist.public_key), base);
  EXPECT_NE(number("user-client-7", client.public_key, "user-therapist-kim", replaced.public_key), base);
  EXPECT_NE(number("user-client-8", client.public_key, "user-therapist-kim", therapist.public_key), base);
  EXPECT_NE(number("user-client-7", client.public_key, "user-therapist-kin", therapist.public_key), base);
  // Swapping which user holds which key is a different pair of people.
  EXPECT_NE(number("user-client-7", therapist.public_key, "user-therapist-kim", client.public_key), base);
}

TEST(SafetyNumberTest, BadInputsNameTheField) {
  std::string long_id(0x10000, 'u');
  EXPECT_EQ(field_of(safety_number("", kKeyA, "user-bob", kKeyB)), "user_a");
  EXPECT_EQ(field_of(safety_number(long_id, kKeyA, "user-bob", kKeyB)), "user_a");
  EXPECT_EQ(field_of(safety_number("user-alice", kKeyA.substr(1), "user-bob", kKeyB)), "identity_a");
  EXPECT_EQ(field_of(safety_number("user-alice", kKeyA, "", kKeyB)), "user_b");
  EXPECT_EQ(field_of(safety_number("user-alice", kKeyA, "user-bob", kKeyB + "x")), "identity_b");
  EXPECT_EQ(field_of(safety_number("user-alice", kKeyA, "user-bob", "")), "identity_b");
}

}  // namespace
}  // namespace alliance::crypto
