#include "alliance/crypto/message_seal.hpp"

#include <gtest/gtest.h>

#include "alliance/crypto/ed25519.hpp"
#include "alliance/crypto/hpke.hpp"
#include "alliance/crypto/x25519.hpp"

namespace alliance::crypto {
namespace {

// A client writes to a therapist who has two devices; the practice archive gets a copy.
class MessageSealTest : public ::testing::Test {
 protected:
  DeviceKeys sender_ = generate_device_keys();
  DeviceKeys phone_ = generate_device_keys();
  DeviceKeys laptop_ = generate_device_keys();
  DeviceKeys archive_ = generate_device_keys();
  MessageContext ctx_{"conv-7f3a", "msg-0001", "device-client-1"};
  std::vector<Recipient> recipients_{{"device-therapist-phone", phone_.agreement_public},
                                     {"device-therapist-laptop", laptop_.agreement_public},
                                     {"archive", archive_.agreement_public}};
  std::string plaintext_ = "I'd like to move Thursday's session to 4pm.";

  SealedMessage seal() {
    auto sealed = seal_message(ctx_, plaintext_, sender_.signing_private, recipients_);
    EXPECT_TRUE(sealed.ok()) << (sealed.ok() ? "" : sealed.error().field + ": " + sealed.error().message);
    return sealed.ok() ? std::move(*sealed) : SealedMessage{};
  }

  Result<std::string> open_as(const SealedMessage& m, std::size_t index, const DeviceKeys& keys,
                              const MessageContext& ctx) {
    return open_message(ctx, m.ciphertext, m.keys.at(index).wrapped_key, m.keys.at(index).device_id,
                        keys.agreement_private, sender_.signing_public);
  }
};

void expect_cannot_open(const Result<std::string>& r, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what << " opened";
  EXPECT_EQ(r.error().code, Code::kInvalidArgument) << what;
  EXPECT_EQ(r.error().field, "ciphertext") << what;
  EXPECT_EQ(r.error().message, "message cannot be opened") << what;
}

TEST(DeviceKeysTest, GeneratedKeysAreSignedAndVerify) {
  DeviceKeys keys = generate_device_keys();
  EXPECT_EQ(keys.signing_private.size(), 32u);
  EXPECT_EQ(keys.signing_public.size(), 32u);
  EXPECT_EQ(keys.agreement_private.size(), 32u);
  EXPECT_EQ(keys.agreement_public.size(), 32u);
  EXPECT_EQ(keys.agreement_signature.size(), 64u);
  EXPECT_TRUE(verify_device_keys(keys.signing_public, keys.agreement_public, keys.agreement_signature));
  // The parts belong together.
  auto signer = Ed25519PrivateKey::from_raw_seed(keys.signing_private);
  ASSERT_TRUE(signer.ok());
  EXPECT_EQ(signer->public_key_raw(), keys.signing_public);
  auto agreement = x25519_from_private(keys.agreement_private);
  ASSERT_TRUE(agreement.ok());
  EXPECT_EQ(agreement->public_key, keys.agreement_public);
  EXPECT_EQ(device_key_statement(keys.agreement_public), "alliance-device-agreement-key-v1" + keys.agreement_public);
}

TEST(DeviceKeysTest, VerifyRejectsSwappedOrDamagedParts) {
  DeviceKeys keys = generate_device_keys();
  DeviceKeys other = generate_device_keys();
  // A server substituting its own agreement key under the device's signing key fails.
  EXPECT_FALSE(verify_device_keys(keys.signing_public, other.agreement_public, keys.agreement_signature));
  EXPECT_FALSE(verify_device_keys(other.signing_public, keys.agreement_public, keys.agreement_signature));
  std::string bad_sig = keys.agreement_signature;
  bad_sig[0] = static_cast<char>(bad_sig[0] ^ 1);
  EXPECT_FALSE(verify_device_keys(keys.signing_public, keys.agreement_public, bad_sig));
  EXPECT_FALSE(verify_device_keys(keys.signing_public, keys.agreement_public.substr(1), keys.agreement_signature));
  EXPECT_FALSE(verify_device_keys("", keys.agreement_public, keys.agreement_signature));
  EXPECT_FALSE(verify_device_keys(keys.signing_public, keys.agreement_public, ""));
}

TEST_F(MessageSealTest, EveryRecipientOpensTheMessage) {
  SealedMessage m = seal();
  ASSERT_EQ(m.keys.size(), 3u);
  EXPECT_EQ(m.content_key.size(), kContentKeySize);
  EXPECT_EQ(m.ciphertext.size(), kMessageNonceSize + kMessageSignatureSize + plaintext_.size() + 16);
  EXPECT_EQ(m.ciphertext.find(plaintext_), std::string::npos);
  const DeviceKeys* devices[] = {&phone_, &laptop_, &archive_};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(m.keys[i].device_id, recipients_[i].device_id);
    EXPECT_EQ(m.keys[i].wrapped_key.size(), kWrappedKeySize);
    auto opened = open_as(m, i, *devices[i], ctx_);
    ASSERT_TRUE(opened.ok()) << i << ": " << opened.error().message;
    EXPECT_EQ(*opened, plaintext_);
  }
}

TEST_F(MessageSealTest, EmptyMessageRoundTrips) {
  plaintext_.clear();
  SealedMessage m = seal();
  auto opened = open_as(m, 0, phone_, ctx_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, "");
}

TEST_F(MessageSealTest, WrappedKeyIsSingleShotHpkeOverTheDocumentedAad) {
  // Another client implementing the format from message_seal.hpp alone must agree.
  SealedMessage m = seal();
  std::string aad = "alliance-message-v1";
  for (const std::string& id : {ctx_.conversation_id, ctx_.message_id, ctx_.sender_device_id}) {
    aad += static_cast<char>(id.size() >> 8);
    aad += static_cast<char>(id.size() & 0xff);
    aad += id;
  }
  auto computed = message_aad(ctx_);
  ASSERT_TRUE(computed.ok());
  EXPECT_EQ(*computed, aad);
  const std::string& device = recipients_[0].device_id;
  std::string wrap_aad = aad + static_cast<char>(0) + static_cast<char>(device.size()) + device;
  auto key = hpke::open(phone_.agreement_private, "alliance-message-key-v1", wrap_aad, m.keys[0].wrapped_key);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(*key, m.content_key);
}

TEST_F(MessageSealTest, TamperedCiphertextIsRejected) {
  SealedMessage m = seal();
  // Nonce, signature area, body and tag.
  for (std::size_t i : {std::size_t{0}, std::size_t{11}, std::size_t{12}, std::size_t{40}, std::size_t{12 + 64},
                        m.ciphertext.size() / 2, m.ciphertext.size() - 17, m.ciphertext.size() - 1}) {
    SealedMessage bad = m;
    bad.ciphertext[i] = static_cast<char>(bad.ciphertext[i] ^ 0x04);
    expect_cannot_open(open_as(bad, 0, phone_, ctx_), "ciphertext byte " + std::to_string(i));
  }
  SealedMessage truncated = m;
  truncated.ciphertext.pop_back();
  expect_cannot_open(open_as(truncated, 0, phone_, ctx_), "truncated ciphertext");
}

TEST_F(MessageSealTest, TamperedWrappedKeyIsRejected) {
  SealedMessage m = seal();
  for (std::size_t i : {std::size_t{0}, std::size_t{31}, std::size_t{32}, std::size_t{50}, std::size_t{79}}) {
    SealedMessage bad = m;
    bad.keys[0].wrapped_key[i] = static_cast<char>(bad.keys[0].wrapped_key[i] ^ 0x10);
    expect_cannot_open(open_as(bad, 0, phone_, ctx_), "wrapped key byte " + std::to_string(i));
  }
}

TEST_F(MessageSealTest, ChangedContextIsRejected) {
  SealedMessage m = seal();
  MessageContext conv = ctx_;
  conv.conversation_id = "conv-other";
  expect_cannot_open(open_as(m, 0, phone_, conv), "conversation id");
  MessageContext msg = ctx_;
  msg.message_id = "msg-0002";
  expect_cannot_open(open_as(m, 0, phone_, msg), "message id");
  MessageContext sender = ctx_;
  sender.sender_device_id = "device-client-2";
  expect_cannot_open(open_as(m, 0, phone_, sender), "sender device id");
  // Moving bytes between ids keeps the concatenation but not the length-prefixed aad.
  MessageContext shifted{"conv-7f3amsg", "-0001", "device-client-1"};
  expect_cannot_open(open_as(m, 0, phone_, shifted), "shifted ids");
}

TEST_F(MessageSealTest, WrongRecipientIsRejected) {
  SealedMessage m = seal();
  // The phone's wrapped key with the laptop's private key.
  expect_cannot_open(open_as(m, 0, laptop_, ctx_), "wrong device key");
  // The phone's key, opened as if it had been wrapped for the laptop's device id.
  expect_cannot_open(open_message(ctx_, m.ciphertext, m.keys[0].wrapped_key, "device-therapist-laptop",
                                  phone_.agreement_private, sender_.signing_public),
                     "wrong device id");
  // A device that was not a recipient at all.
  DeviceKeys stranger = generate_device_keys();
  expect_cannot_open(open_as(m, 2, stranger, ctx_), "stranger");
}

TEST_F(MessageSealTest, WrongSignerIsRejected) {
  SealedMessage m = seal();
  DeviceKeys impostor = generate_device_keys();
  expect_cannot_open(open_message(ctx_, m.ciphertext, m.keys[0].wrapped_key, m.keys[0].device_id,
                                  phone_.agreement_private, impostor.signing_public),
                     "wrong signer public key");
  // A message signed by the impostor does not pass as the sender's.
  auto forged = seal_message(ctx_, plaintext_, impostor.signing_private, recipients_);
  ASSERT_TRUE(forged.ok());
  expect_cannot_open(open_as(*forged, 0, phone_, ctx_), "forged signature");
}

TEST_F(MessageSealTest, RewrappedContentKeyOpensForANewDevice) {
  SealedMessage m = seal();
  // The server refused the device list as stale: a new tablet appeared.
  DeviceKeys tablet = generate_device_keys();
  std::vector<Recipient> added{{"device-therapist-tablet", tablet.agreement_public}};
  auto keys = wrap_content_key(ctx_, m.content_key, added);
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].device_id, "device-therapist-tablet");
  auto opened = open_message(ctx_, m.ciphertext, (*keys)[0].wrapped_key, "device-therapist-tablet",
                             tablet.agreement_private, sender_.signing_public);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, plaintext_);
  // Re-wrapping under another message's context does not open this one.
  MessageContext other = ctx_;
  other.message_id = "msg-0002";
  auto wrong = wrap_content_key(other, m.content_key, added);
  ASSERT_TRUE(wrong.ok());
  expect_cannot_open(open_message(ctx_, m.ciphertext, (*wrong)[0].wrapped_key, "device-therapist-tablet",
                                  tablet.agreement_private, sender_.signing_public),
                     "key wrapped for another message");
  auto none = wrap_content_key(ctx_, m.content_key, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

std::string field_of(const auto& result) { return result.ok() ? std::string("<ok>") : result.error().field; }

TEST_F(MessageSealTest, BadSealInputsNameTheField) {
  auto with = [&](MessageContext ctx) { return field_of(seal_message(ctx, "hi", sender_.signing_private, recipients_)); };
  EXPECT_EQ(with({"", "m", "d"}), "conversation_id");
  EXPECT_EQ(with({"c", "", "d"}), "message_id");
  EXPECT_EQ(with({"c", "m", ""}), "sender_device_id");
  EXPECT_EQ(with({"c", std::string(70000, 'm'), "d"}), "message_id");
  EXPECT_EQ(field_of(seal_message(ctx_, "hi", sender_.signing_private.substr(1), recipients_)), "signing_private");
  EXPECT_EQ(field_of(seal_message(ctx_, "hi", sender_.signing_private, {})), "recipients");

  auto recipients = recipients_;
  recipients[1].agreement_public.pop_back();
  EXPECT_EQ(field_of(seal_message(ctx_, "hi", sender_.signing_private, recipients)), "recipients[1].agreement_public");
  recipients = recipients_;
  recipients[2].agreement_public = std::string(32, '\0');  // low-order key
  EXPECT_EQ(field_of(seal_message(ctx_, "hi", sender_.signing_private, recipients)), "recipients[2].agreement_public");
  recipients = recipients_;
  recipients[0].device_id.clear();
  EXPECT_EQ(field_of(seal_message(ctx_, "hi", sender_.signing_private, recipients)), "recipients[0].device_id");
  recipients = recipients_;
  recipients[2].device_id = recipients[0].device_id;
  EXPECT_EQ(field_of(seal_message(ctx_, "hi", sender_.signing_private, recipients)), "recipients[2].device_id");

  EXPECT_EQ(field_of(wrap_content_key(ctx_, "short", recipients_)), "content_key");
  EXPECT_EQ(field_of(wrap_content_key({"c", "m", ""}, std::string(32, 'k'), recipients_)), "sender_device_id");
}

TEST_F(MessageSealTest, BadOpenInputsNameTheField) {
  SealedMessage m = seal();
  const auto& wk = m.keys[0];
  auto open = [&](std::string_view ct, std::string_view wrapped, std::string_view device, std::string_view sk,
                  std::string_view signer) { return field_of(open_message(ctx_, ct, wrapped, device, sk, signer)); };
  EXPECT_EQ(open(m.ciphertext, wk.wrapped_key, wk.device_id, phone_.agreement_private, sender_.signing_public), "<ok>");
  EXPECT_EQ(open("", wk.wrapped_key, wk.device_id, phone_.agreement_private, sender_.signing_public), "ciphertext");
  EXPECT_EQ(open(m.ciphertext.substr(0, kMinMessageCiphertextSize - 1), wk.wrapped_key, wk.device_id,
                 phone_.agreement_private, sender_.signing_public),
            "ciphertext");
  EXPECT_EQ(open(m.ciphertext, wk.wrapped_key.substr(1), wk.device_id, phone_.agreement_private,
                 sender_.signing_public),
            "wrapped_key");
  EXPECT_EQ(open(m.ciphertext, "", wk.device_id, phone_.agreement_private, sender_.signing_public), "wrapped_key");
  EXPECT_EQ(open(m.ciphertext, wk.wrapped_key, "", phone_.agreement_private, sender_.signing_public),
            "recipient_device_id");
  EXPECT_EQ(open(m.ciphertext, wk.wrapped_key, wk.device_id, "", sender_.signing_public), "agreement_private");
  EXPECT_EQ(open(m.ciphertext, wk.wrapped_key, wk.device_id, phone_.agreement_private, "x"),
            "sender_signing_public");
  EXPECT_EQ(field_of(open_message({"c", "", "d"}, m.ciphertext, wk.wrapped_key, wk.device_id,
                                  phone_.agreement_private, sender_.signing_public)),
            "message_id");
}

}  // namespace
}  // namespace alliance::crypto
