#include <gtest/gtest.h>

#include <algorithm>

#include "alliance/crypto/aead.hpp"
#include "alliance/crypto/ed25519.hpp"
#include "alliance/crypto/encoding.hpp"
#include "alliance/crypto/hpke.hpp"
#include "alliance/crypto/message_seal.hpp"
#include "alliance/crypto/random.hpp"

namespace alliance::crypto {
namespace {

constexpr std::string_view kWrapInfoV2 = "alliance-message-key-v2";

std::string field_of(const auto& result) { return result.ok() ? std::string("<ok>") : result.error().field; }

std::string be(std::uint64_t value, int bytes) {
  std::string out;
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) out += static_cast<char>(value >> shift & 0xff);
  return out;
}

std::string len16(std::string_view bytes) { return be(bytes.size(), 2) + std::string(bytes); }

// The unpadded v2 inner, written from message_seal.hpp's description alone.
std::string inner_bytes(std::uint64_t version, std::string_view user, std::uint64_t counter, std::string_view prev_hash,
                        std::int64_t sent, const std::vector<std::string>& ids, std::string_view plaintext) {
  std::string inner = be(version, 2) + len16(user) + be(counter, 8);
  inner += prev_hash.empty() ? std::string(32, '\0') : std::string(prev_hash);
  inner += be(static_cast<std::uint64_t>(sent), 8) + be(ids.size(), 2);
  for (const auto& id : ids) inner += len16(id);
  return inner + be(plaintext.size(), 4) + std::string(plaintext);
}

std::string zero_padded(std::string bytes, std::size_t size) {
  bytes.resize(std::max(size, bytes.size()), '\0');
  return bytes;
}

void expect_cannot_open(const Result<OpenedMessageV2>& r, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what << " opened";
  EXPECT_EQ(r.error().code, Code::kInvalidArgument) << what;
  EXPECT_EQ(r.error().field, "ciphertext") << what;
  EXPECT_EQ(r.error().message, "message cannot be opened") << what;
}

// A client writes to a therapist with two devices; the practice archive gets a copy. The
// client's 5th message, answering the therapist's last one.
class MessageSealV2Test : public ::testing::Test {
 protected:
  DeviceKeys sender_ = generate_device_keys();
  DeviceKeys phone_ = generate_device_keys();
  DeviceKeys laptop_ = generate_device_keys();
  DeviceKeys archive_ = generate_device_keys();
  MessageContext ctx_{"conv-7f3a", "msg-0005", "device-client-1"};
  MessageHeaderV2 header_{"user-client-7", 5, std::string(32, '\x5a'), 1717171717171, {"ignored"}};
  std::vector<Recipient> recipients_{{"device-therapist-phone", phone_.agreement_public},
                                     {"device-therapist-laptop", laptop_.agreement_public},
                                     {"archive", archive_.agreement_public}};
  std::vector<std::string> sorted_ids_{"archive", "device-therapist-laptop", "device-therapist-phone"};
  std::string plaintext_ = "Could we talk about last week at the start of Thursday's session?";

  SealedMessage seal() {
    auto sealed = seal_message_v2(ctx_, header_, plaintext_, sender_.signing_private, recipients_);
    EXPECT_TRUE(sealed.ok()) << (sealed.ok() ? "" : sealed.error().field + ": " + sealed.error().message);
    return sealed.ok() ? std::move(*sealed) : SealedMessage{};
  }

  // Opens recipient `index`'s wrapped key with `keys` (the phone's by default).
  Result<OpenedMessageV2> open_as(const SealedMessage& m, std::size_t index, const DeviceKeys& keys,
                                  const MessageContext& ctx) {
    return open_message_v2(ctx, m.ciphertext, m.keys.at(index).wrapped_key, m.keys.at(index).device_id,
                           keys.agreement_private, sender_.signing_public);
  }
  Result<OpenedMessageV2> open_as_phone(const SealedMessage& m) { return open_as(m, 0, phone_, ctx_); }

  std::string aad() { return *message_aad_v2(ctx_); }
  std::string wrap_aad(std::string_view device) { return aad() + len16(device); }

  // The content key, unwrapped by hand with the phone's key from the documented wrap.
  std::string content_key_of(const SealedMessage& m) {
    auto key = hpke::open(phone_.agreement_private, kWrapInfoV2, wrap_aad(m.keys.at(0).device_id),
                          m.keys.at(0).wrapped_key);
    EXPECT_TRUE(key.ok());
    return key.ok() ? *key : std::string();
  }

  // A message carrying `inner` exactly as given, signed by the sender and wrapped for the
  // phone as seal_message_v2 would: lets malformed inners reach the parser with a valid
  // signature. Returns what the phone's open gives.
  Result<OpenedMessageV2> open_raw_inner(std::string_view inner) {
    auto signer = Ed25519PrivateKey::from_raw_seed(sender_.signing_private);
    EXPECT_TRUE(signer.ok());
    std::string signature = signer->sign(aad() + std::string(inner));
    std::string key = random_bytes(32);
    std::string nonce = random_bytes(12);
    auto body = aes256gcm_seal(key, nonce, aad(), signature + std::string(inner));
    auto wrapped = hpke::seal(phone_.agreement_public, kWrapInfoV2, wrap_aad("device-therapist-phone"), key);
    EXPECT_TRUE(body.ok() && wrapped.ok());
    return open_message_v2(ctx_, nonce + *body, *wrapped, "device-therapist-phone", phone_.agreement_private,
                           sender_.signing_public);
  }

  // The fixture's header and recipients around `plaintext`, unpadded.
  std::string fixture_inner(std::string_view plaintext) {
    return inner_bytes(2, header_.sender_user_id, header_.counter, header_.prev_hash, header_.sent_unix_ms,
                       sorted_ids_, plaintext);
  }
};

TEST_F(MessageSealV2Test, EveryRecipientOpensForOneToFourRecipientsIncludingTheArchive) {
  DeviceKeys tablet = generate_device_keys();  // the client's own second device
  std::vector<std::pair<Recipient, const DeviceKeys*>> everyone = {
      {{"device-therapist-phone", phone_.agreement_public}, &phone_},
      {{"archive", archive_.agreement_public}, &archive_},
      {{"device-client-1-tablet", tablet.agreement_public}, &tablet},
      {{"device-therapist-laptop", laptop_.agreement_public}, &laptop_}};
  for (std::size_t n = 1; n <= everyone.size(); ++n) {
    recipients_.clear();
    std::vector<std::string> expected_ids;
    for (std::size_t i = 0; i < n; ++i) {
      recipients_.push_back(everyone[i].first);
      expected_ids.push_back(everyone[i].first.device_id);
    }
    std::sort(expected_ids.begin(), expected_ids.end());
    MessageHeaderV2 expected = header_;
    expected.recipient_device_ids = expected_ids;

    SealedMessage m = seal();
    ASSERT_EQ(m.keys.size(), n);
    EXPECT_TRUE(m.content_key.empty()) << "a v2 content key is not handed back";
    ASSERT_EQ(m.message_hash.size(), kMessageHashSize);
    EXPECT_EQ(m.ciphertext.find(plaintext_), std::string::npos);
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(m.keys[i].device_id, recipients_[i].device_id) << "keys in the order given";
      auto opened = open_as(m, i, *everyone[i].second, ctx_);
      ASSERT_TRUE(opened.ok()) << n << " recipients, " << recipients_[i].device_id << ": " << opened.error().message;
      EXPECT_EQ(opened->plaintext, plaintext_);
      EXPECT_EQ(opened->header, expected) << "recipient ids sorted, the rest as sealed";
      EXPECT_EQ(opened->message_hash, m.message_hash);
    }
  }
}

TEST_F(MessageSealV2Test, AFirstMessageHasNoPrevHashAndAnyTimeRoundTrips) {
  header_.prev_hash.clear();
  header_.counter = 1;
  header_.sent_unix_ms = -1;  // before 1970: carried as two's complement, not refused
  plaintext_.clear();
  auto opened = open_as_phone(seal());
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->header.prev_hash, "");
  EXPECT_EQ(opened->header.counter, 1u);
  EXPECT_EQ(opened->header.sent_unix_ms, -1);
  EXPECT_EQ(opened->plaintext, "");
}

TEST_F(MessageSealV2Test, CiphertextIsTheDocumentedConstruction) {
  // Another client implementing the format from message_seal.hpp alone must agree.
  SealedMessage m = seal();
  std::string expected_aad = "alliance-message-v2" + len16(ctx_.conversation_id) + len16(ctx_.message_id) +
                             len16(ctx_.sender_device_id);
  EXPECT_EQ(aad(), expected_aad);
  std::string key = content_key_of(m);
  ASSERT_EQ(key.size(), kContentKeySize);
  auto body = aes256gcm_open(key, m.ciphertext.substr(0, 12), expected_aad, m.ciphertext.substr(12));
  ASSERT_TRUE(body.ok());
  std::string signature = body->substr(0, 64);
  std::string inner = body->substr(64);
  EXPECT_EQ(inner, zero_padded(fixture_inner(plaintext_), 256));
  EXPECT_TRUE(ed25519_verify(sender_.signing_public, expected_aad + inner, signature));
  EXPECT_EQ(m.message_hash, sha256("alliance-message-hash-v2" + signature));
}

TEST_F(MessageSealV2Test, MessageHashDiffersPerMessage) {
  SealedMessage first = seal();
  header_.counter += 1;
  SealedMessage second = seal();
  EXPECT_NE(first.message_hash, second.message_hash);
  // The next message points at this one and opens with it.
  header_.counter += 1;
  header_.prev_hash = second.message_hash;
  auto third = open_as_phone(seal());
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->header.prev_hash, second.message_hash);
}

TEST_F(MessageSealV2Test, ChangedContextIsRejected) {
  SealedMessage m = seal();
  const std::vector<std::pair<std::string, MessageContext>> changed = {
      {"conversation id", {"conv-other", ctx_.message_id, ctx_.sender_device_id}},
      {"message id", {ctx_.conversation_id, "msg-0006", ctx_.sender_device_id}},
      {"sender device id", {ctx_.conversation_id, ctx_.message_id, "device-client-2"}},
      // Moving bytes between ids keeps the concatenation, not the length-prefixed aad.
      {"shifted ids", {"conv-7f3amsg", "-0005", "device-client-1"}}};
  for (const auto& [what, ctx] : changed) expect_cannot_open(open_as(m, 0, phone_, ctx), what);
}

TEST_F(MessageSealV2Test, TamperedCiphertextOrWrappedKeyIsRejected) {
  SealedMessage m = seal();
  const std::size_t end = m.ciphertext.size();
  // Nonce, signature, header, padding and tag; then the wrapped key's enc, ct and tag.
  for (std::size_t i : std::initializer_list<std::size_t>{0, 11, 12, 12 + 64, 12 + 64 + 20, end - 17, end - 1}) {
    SealedMessage bad = m;
    bad.ciphertext[i] = static_cast<char>(bad.ciphertext[i] ^ 0x04);
    expect_cannot_open(open_as_phone(bad), "ciphertext byte " + std::to_string(i));
  }
  for (std::size_t i : {0, 32, 79}) {
    SealedMessage bad = m;
    bad.keys[0].wrapped_key[i] = static_cast<char>(bad.keys[0].wrapped_key[i] ^ 0x10);
    expect_cannot_open(open_as_phone(bad), "wrapped key byte " + std::to_string(i));
  }
}

TEST_F(MessageSealV2Test, AnotherDevicesKeyOrSignerIsRejected) {
  SealedMessage m = seal();
  DeviceKeys stranger = generate_device_keys();
  struct Attempt {
    std::string what, device_id, agreement_private, signing_public;
  };
  // Each opens the phone's wrapped key with one thing wrong.
  const std::vector<Attempt> attempts = {
      {"the laptop's key", "device-therapist-phone", laptop_.agreement_private, sender_.signing_public},
      {"the laptop's device id", "device-therapist-laptop", phone_.agreement_private, sender_.signing_public},
      {"a stranger's key", "device-therapist-phone", stranger.agreement_private, sender_.signing_public},
      {"another signer", "device-therapist-phone", phone_.agreement_private, stranger.signing_public}};
  for (const auto& a : attempts)
    expect_cannot_open(open_message_v2(ctx_, m.ciphertext, m.keys[0].wrapped_key, a.device_id, a.agreement_private,
                                       a.signing_public),
                       a.what);
}

TEST_F(MessageSealV2Test, AKeyWrappedForADeviceOutsideTheSignedSetIsRefused) {
  // The server (or anyone who learned a content key) adds a device of its own.
  SealedMessage m = seal();
  std::string key = content_key_of(m);
  DeviceKeys spy = generate_device_keys();
  auto wrapped = hpke::seal(spy.agreement_public, kWrapInfoV2, wrap_aad("device-server-spy"), key);
  ASSERT_TRUE(wrapped.ok());
  expect_cannot_open(open_message_v2(ctx_, m.ciphertext, *wrapped, "device-server-spy", spy.agreement_private,
                                     sender_.signing_public),
                     "device outside the signed set");
  // The same hand-made wrap for a device in the set opens: the refusal above is the set.
  auto rewrapped = hpke::seal(laptop_.agreement_public, kWrapInfoV2, wrap_aad("device-therapist-laptop"), key);
  ASSERT_TRUE(rewrapped.ok());
  EXPECT_TRUE(open_message_v2(ctx_, m.ciphertext, *rewrapped, "device-therapist-laptop", laptop_.agreement_private,
                              sender_.signing_public)
                  .ok());
}

TEST_F(MessageSealV2Test, V1AndV2DoNotOpenAsEachOther) {
  plaintext_ = std::string(300, 'p');  // long enough for open_message_v2's size check
  auto v1 = seal_message(ctx_, plaintext_, sender_.signing_private, recipients_);
  ASSERT_TRUE(v1.ok());
  EXPECT_TRUE(v1->message_hash.empty());
  expect_cannot_open(open_message_v2(ctx_, v1->ciphertext, v1->keys[0].wrapped_key, v1->keys[0].device_id,
                                     phone_.agreement_private, sender_.signing_public),
                     "v1 as v2");
  auto short_v1 = seal_message(ctx_, "hi", sender_.signing_private, recipients_);
  ASSERT_TRUE(short_v1.ok());
  EXPECT_EQ(field_of(open_message_v2(ctx_, short_v1->ciphertext, short_v1->keys[0].wrapped_key,
                                     short_v1->keys[0].device_id, phone_.agreement_private, sender_.signing_public)),
            "ciphertext");

  SealedMessage v2 = seal();
  auto as_v1 = open_message(ctx_, v2.ciphertext, v2.keys[0].wrapped_key, v2.keys[0].device_id,
                            phone_.agreement_private, sender_.signing_public);
  ASSERT_FALSE(as_v1.ok());
  EXPECT_EQ(as_v1.error().message, "message cannot be opened");
  // Nor with its content key wrapped the v1 way.
  auto v1_wrap = hpke::seal(phone_.agreement_public, "alliance-message-key-v1",
                            *message_aad(ctx_) + len16("device-therapist-phone"), content_key_of(v2));
  ASSERT_TRUE(v1_wrap.ok());
  EXPECT_FALSE(open_message(ctx_, v2.ciphertext, *v1_wrap, "device-therapist-phone", phone_.agreement_private,
                            sender_.signing_public)
                   .ok());
}

TEST(PaddedInnerSizeTest, BucketsArePowersOfTwoFrom256ThenMultiplesOf64KiB) {
  EXPECT_EQ(padded_inner_size_v2(0), 256u);
  EXPECT_EQ(padded_inner_size_v2(1), 256u);
  EXPECT_EQ(padded_inner_size_v2(255), 256u);
  EXPECT_EQ(padded_inner_size_v2(256), 256u);
  EXPECT_EQ(padded_inner_size_v2(257), 512u);
  EXPECT_EQ(padded_inner_size_v2(1000), 1024u);
  EXPECT_EQ(padded_inner_size_v2(32769), 65536u);
  EXPECT_EQ(padded_inner_size_v2(65536), 65536u);
  EXPECT_EQ(padded_inner_size_v2(65537), 131072u);
  EXPECT_EQ(padded_inner_size_v2(131072), 131072u);
  EXPECT_EQ(padded_inner_size_v2(131073), 196608u);
}

TEST_F(MessageSealV2Test, CiphertextLengthShowsOnlyTheBucket) {
  // nonce || tag over signature || padded inner.
  auto ciphertext_size = [&](std::size_t plaintext_size) {
    plaintext_ = std::string(plaintext_size, 'x');
    return seal().ciphertext.size();
  };
  const std::size_t overhead = fixture_inner("").size();  // header, recipient ids, length
  ASSERT_LT(overhead, 200u);
  // Unpadded inners of 255, 256, 257, 65536 and 65537 bytes.
  EXPECT_EQ(ciphertext_size(255 - overhead), 12 + 64 + 256 + 16u);
  EXPECT_EQ(ciphertext_size(256 - overhead), 12 + 64 + 256 + 16u);
  EXPECT_EQ(ciphertext_size(257 - overhead), 12 + 64 + 512 + 16u);
  EXPECT_EQ(ciphertext_size(65536 - overhead), 12 + 64 + 65536 + 16u);
  EXPECT_EQ(ciphertext_size(65537 - overhead), 12 + 64 + 131072 + 16u);
  // Short messages look alike; one across a bucket edge does not.
  EXPECT_EQ(ciphertext_size(1), ciphertext_size(256 - overhead));
  EXPECT_EQ(ciphertext_size(200), ciphertext_size(300));
  EXPECT_NE(ciphertext_size(256 - overhead), ciphertext_size(257 - overhead));
  // And every bucket opens.
  plaintext_ = std::string(65537 - overhead, 'y');
  auto opened = open_as_phone(seal());
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->plaintext, plaintext_);
}

TEST_F(MessageSealV2Test, BadSealInputsNameTheField) {
  auto field = [&](const MessageHeaderV2& header) {
    return field_of(seal_message_v2(ctx_, header, "hi", sender_.signing_private, recipients_));
  };
  EXPECT_EQ(field(header_), "<ok>");
  MessageHeaderV2 h = header_;
  h.counter = 0;
  EXPECT_EQ(field(h), "header.counter");
  for (std::size_t size : {1, 31, 33, 64}) {
    h = header_;
    h.prev_hash = std::string(size, 'h');
    EXPECT_EQ(field(h), "header.prev_hash") << size;
  }
  h = header_;
  h.prev_hash = std::string(32, '\0');  // would read back as "none"
  EXPECT_EQ(field(h), "header.prev_hash");
  h = header_;
  h.sender_user_id.clear();
  EXPECT_EQ(field(h), "header.sender_user_id");
  h.sender_user_id = std::string(0x10000, 'u');
  EXPECT_EQ(field(h), "header.sender_user_id");

  EXPECT_EQ(field_of(seal_message_v2({"c", "", "d"}, header_, "hi", sender_.signing_private, recipients_)),
            "message_id");
  EXPECT_EQ(field_of(seal_message_v2(ctx_, header_, "hi", "short", recipients_)), "signing_private");
  EXPECT_EQ(field_of(seal_message_v2(ctx_, header_, "hi", sender_.signing_private, {})), "recipients");
  auto recipients = recipients_;
  recipients[2].device_id = recipients[0].device_id;
  EXPECT_EQ(field_of(seal_message_v2(ctx_, header_, "hi", sender_.signing_private, recipients)),
            "recipients[2].device_id");
  recipients = recipients_;
  recipients[1].agreement_public = std::string(32, '\0');  // low-order key
  EXPECT_EQ(field_of(seal_message_v2(ctx_, header_, "hi", sender_.signing_private, recipients)),
            "recipients[1].agreement_public");
}

TEST_F(MessageSealV2Test, BadOpenInputsNameTheField) {
  SealedMessage m = seal();
  const auto& wk = m.keys[0];
  auto open = [&](std::string_view ct, std::string_view wrapped, std::string_view device, std::string_view sk,
                  std::string_view signer) {
    return field_of(open_message_v2(ctx_, ct, wrapped, device, sk, signer));
  };
  const auto& sk = phone_.agreement_private;
  const auto& pk = sender_.signing_public;
  EXPECT_EQ(open(m.ciphertext, wk.wrapped_key, wk.device_id, sk, pk), "<ok>");
  EXPECT_EQ(open(m.ciphertext.substr(0, kMinMessageCiphertextSizeV2 - 1), wk.wrapped_key, wk.device_id, sk, pk),
            "ciphertext");
  EXPECT_EQ(open(m.ciphertext, wk.wrapped_key.substr(1), wk.device_id, sk, pk), "wrapped_key");
  EXPECT_EQ(open(m.ciphertext, wk.wrapped_key, "", sk, pk), "recipient_device_id");
  EXPECT_EQ(open(m.ciphertext, wk.wrapped_key, wk.device_id, "", pk), "agreement_private");
  EXPECT_EQ(open(m.ciphertext, wk.wrapped_key, wk.device_id, sk, "x"), "sender_signing_public");
  EXPECT_EQ(field_of(open_message_v2({"", "m", "d"}, m.ciphertext, wk.wrapped_key, wk.device_id, sk, pk)),
            "conversation_id");
}

TEST_F(MessageSealV2Test, SignedButMalformedInnersAreRefused) {
  // Inners of 257..512 bytes (an inner under 256 is refused by size before it is opened).
  const std::string user = header_.sender_user_id;
  const std::string text(200, 'h');
  const std::vector<std::string> ids = sorted_ids_;
  auto inner = [&](std::uint64_t version, std::string_view user_id, std::uint64_t counter,
                   const std::vector<std::string>& recipient_ids) {
    return inner_bytes(version, user_id, counter, header_.prev_hash, 0, recipient_ids, text);
  };
  auto padded = [](const std::string& unpadded) {
    EXPECT_TRUE(unpadded.size() > 256 && unpadded.size() <= 512) << unpadded.size();
    return zero_padded(unpadded, 512);
  };
  std::string good = inner(2, user, 5, ids);
  ASSERT_TRUE(open_raw_inner(padded(good)).ok()) << "the hand-built message must open";

  std::string nonzero_padding = padded(good);
  nonzero_padding.back() = 1;
  std::string user_past_end = good;
  user_past_end[2] = user_past_end[3] = '\xff';
  std::string count_past_end = good;
  const std::size_t count_at = 2 + 2 + user.size() + 8 + 32 + 8;
  count_past_end[count_at] = count_past_end[count_at + 1] = '\xff';
  std::string text_past_end = good;
  text_past_end[good.size() - text.size() - 4] = 1;  // plaintext length 16M + 200
  std::vector<std::pair<std::string, std::string>> cases = {
      {"version 1", padded(inner(1, user, 5, ids))},
      {"version 3", padded(inner(3, user, 5, ids))},
      {"counter 0", padded(inner(2, user, 0, ids))},
      {"empty sender user id", padded(inner(2, "", 5, ids))},
      {"no recipients", padded(inner(2, user, 5, {}))},
      {"unsorted ids", padded(inner(2, user, 5, {ids[0], ids[2], ids[1]}))},
      {"duplicate id", padded(inner(2, user, 5, {ids[0], ids[2], ids[2]}))},
      {"empty id", padded(inner(2, user, 5, {"", ids[2]}))},
      {"non-zero padding", nonzero_padding},
      {"no padding", good},
      {"padded past its bucket", zero_padded(good, 1024)},
      {"user id length past the end", padded(user_past_end)},
      {"recipient count past the end", padded(count_past_end)},
      {"plaintext length past the end", padded(text_past_end)},
  };
  for (const auto& [what, bytes] : cases) expect_cannot_open(open_raw_inner(bytes), what);
}

TEST_F(MessageSealV2Test, EveryTruncationOfASignedInnerIsRefused) {
  // Fails the parser at every step, each cut with a valid signature. A 300-byte sender id
  // puts every later field past the 256 bytes the size check asks for.
  header_.sender_user_id = std::string(300, 'u');
  std::string inner = fixture_inner("hello");
  ASSERT_GT(inner.size(), 256u);
  ASSERT_LE(inner.size(), 512u);
  std::string whole = zero_padded(inner, 512);
  ASSERT_TRUE(open_raw_inner(whole).ok()) << "the whole inner must open";
  for (std::size_t size = 256; size < whole.size(); ++size)
    expect_cannot_open(open_raw_inner(whole.substr(0, size)), "inner cut to " + std::to_string(size));
}

TEST_F(MessageSealV2Test, HostileHeaderBytesNeverBreakTheParser) {
  // Each header byte set to 0x00, 0x01 and 0xff in turn (with a valid signature): whatever
  // opens still keeps the promises of the format.
  std::string inner = fixture_inner("hello");
  for (std::size_t i = 0; i < inner.size() - 5; ++i) {
    for (char value : {'\x00', '\x01', '\xff'}) {
      std::string hostile = inner;
      hostile[i] = value;
      auto opened = open_raw_inner(zero_padded(hostile, 256));
      if (!opened.ok()) continue;
      const auto& got = opened->header;
      EXPECT_NE(got.counter, 0u) << i;
      EXPECT_FALSE(got.sender_user_id.empty()) << i;
      EXPECT_TRUE(std::is_sorted(got.recipient_device_ids.begin(), got.recipient_device_ids.end())) << i;
      EXPECT_TRUE(std::binary_search(got.recipient_device_ids.begin(), got.recipient_device_ids.end(),
                                     "device-therapist-phone"))
          << i;
    }
  }
}

}  // namespace
}  // namespace alliance::crypto
