#include "alliance/crypto/hpke.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <vector>

#include "alliance/core/ids.hpp"
#include "alliance/crypto/x25519.hpp"

#ifndef ALLIANCE_DEFAULT_TESTDATA_DIR
#error "crypto_test needs ALLIANCE_DEFAULT_TESTDATA_DIR (set in tests/unit/crypto/CMakeLists.txt)"
#endif

namespace alliance::crypto::hpke {
namespace {

// ---- The known-answer file (tests/data/README.md describes its format) ----

struct Encryption {
  std::string aad, ct, pt;
};
struct Export {
  std::string context;
  std::size_t length = 0;
  std::string value;
};
struct Suite {
  std::map<std::string, std::string> fields;  // mode, kdf_id, aead_id, info, skRm, ...
  std::vector<Encryption> encryptions;
  std::vector<Export> exports;
  std::string bytes(const std::string& key) const {
    auto it = fields.find(key);
    return it == fields.end() ? std::string() : it->second;
  }
};

std::optional<std::string> parse_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]);
    int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

// The directory holding hpke/...: $ALLIANCE_TESTDATA_DIR if set, else tests/data in
// the source tree as CMake saw it.
std::filesystem::path testdata_dir() {
  const char* env = std::getenv("ALLIANCE_TESTDATA_DIR");
  if (env != nullptr && *env != '\0') return env;
  return ALLIANCE_DEFAULT_TESTDATA_DIR;
}

// Throws std::runtime_error naming the line on anything it does not understand, so a
// damaged file fails the test instead of silently checking less.
std::vector<Suite> parse_vectors(std::istream& in) {
  std::vector<Suite> suites;
  enum class Block { kHeader, kEncryption, kExport } block = Block::kHeader;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string text = trim(line);
    auto fail = [&](const std::string& what) {
      throw std::runtime_error("line " + std::to_string(number) + ": " + what);
    };
    if (text.empty()) continue;
    if (text[0] == '#') {
      if (suites.empty()) fail("section before the first suite");
      auto& suite = suites.back();
      if (text.rfind("# encryptions[", 0) == 0) {
        if (text != "# encryptions[" + std::to_string(suite.encryptions.size()) + "]") fail("encryptions out of order");
        suite.encryptions.emplace_back();
        block = Block::kEncryption;
      } else if (text.rfind("# exports[", 0) == 0) {
        if (text != "# exports[" + std::to_string(suite.exports.size()) + "]") fail("exports out of order");
        suite.exports.emplace_back();
        block = Block::kExport;
      }
      continue;
    }
    auto eq = text.find('=');
    if (eq == std::string::npos) fail("expected key = value");
    std::string key = trim(std::string_view(text).substr(0, eq));
    std::string value = trim(std::string_view(text).substr(eq + 1));
    if (key == "mode") {
      suites.emplace_back();
      block = Block::kHeader;
    }
    if (suites.empty()) fail("value before the first suite");
    auto& suite = suites.back();
    if (key == "L") {
      if (block != Block::kExport) fail("L outside an exports block");
      suite.exports.back().length = std::stoul(value);
      continue;
    }
    if (key == "mode" || key == "kdf_id" || key == "aead_id") {
      suite.fields[key] = value;
      continue;
    }
    auto bytes = parse_hex(value);
    if (!bytes) fail("bad hex for " + key);
    if (block == Block::kEncryption && (key == "aad" || key == "ct" || key == "pt")) {
      auto& e = suite.encryptions.back();
      (key == "aad" ? e.aad : key == "ct" ? e.ct : e.pt) = *bytes;
    } else if (block == Block::kExport && (key == "exporter_context" || key == "exported_value")) {
      auto& e = suite.exports.back();
      (key == "exporter_context" ? e.context : e.value) = *bytes;
    } else if (block == Block::kHeader) {
      suite.fields[key] = *bytes;
    } else {
      fail("unexpected key " + key);
    }
  }
  return suites;
}

// How many vectors of a suite were checked, each both ways (seal and open, sender and
// recipient export).
struct Checked {
  std::size_t encryptions = 0;
  std::size_t exports = 0;
};

void check_suite(const Suite& suite, Checked& checked) {
  ASSERT_EQ(suite.fields.at("mode"), "0");
  ASSERT_EQ(suite.fields.at("kdf_id"), "1");
  const Aead aead = static_cast<Aead>(std::stoi(suite.fields.at("aead_id")));
  const std::string info = suite.bytes("info");
  const std::string sk_rm = suite.bytes("skRm");
  const std::string pk_rm = suite.bytes("pkRm");
  const std::string sk_em = suite.bytes("skEm");
  const std::string pk_em = suite.bytes("pkEm");
  ASSERT_EQ(pk_rm.size(), 32u);
  ASSERT_EQ(pk_em.size(), 32u);
  ASSERT_FALSE(suite.encryptions.empty());
  ASSERT_FALSE(suite.exports.empty());

  // The recipient key pair is consistent (DeserializePrivateKey/SerializePublicKey).
  auto recipient_pair = x25519_from_private(sk_rm);
  ASSERT_TRUE(recipient_pair.ok());
  EXPECT_EQ(to_hex(recipient_pair->public_key), to_hex(pk_rm));

  auto sender = setup_base_sender_with_ephemeral(pk_rm, info, sk_em, aead);
  ASSERT_TRUE(sender.ok()) << sender.error().field << ": " << sender.error().message;
  EXPECT_EQ(to_hex(sender->enc), to_hex(pk_em));
  auto recipient = setup_base_recipient(pk_em, sk_rm, info, aead);
  ASSERT_TRUE(recipient.ok()) << recipient.error().field << ": " << recipient.error().message;

  for (std::size_t i = 0; i < suite.encryptions.size(); ++i) {
    const auto& e = suite.encryptions[i];
    auto ct = sender->context.seal(e.aad, e.pt);
    ASSERT_TRUE(ct.ok()) << "encryptions[" << i << "]: " << ct.error().message;
    ASSERT_EQ(to_hex(*ct), to_hex(e.ct)) << "encryptions[" << i << "]";
    auto pt = recipient->open(e.aad, e.ct);
    ASSERT_TRUE(pt.ok()) << "encryptions[" << i << "]: " << pt.error().message;
    ASSERT_EQ(*pt, e.pt) << "encryptions[" << i << "]";
    ++checked.encryptions;
  }
  EXPECT_EQ(sender->context.sequence(), suite.encryptions.size());
  EXPECT_EQ(recipient->sequence(), suite.encryptions.size());

  for (std::size_t i = 0; i < suite.exports.size(); ++i) {
    const auto& x = suite.exports[i];
    EXPECT_EQ(to_hex(sender->context.export_secret(x.context, x.length)), to_hex(x.value)) << "exports[" << i << "]";
    EXPECT_EQ(to_hex(recipient->export_secret(x.context, x.length)), to_hex(x.value)) << "exports[" << i << "]";
    ++checked.exports;
  }
}

// What tests/data/hpke/x25519-hkdf-sha256-base.txt holds: base mode (mode 0) only, and
// per AEAD 257 encryptions on one context (sequence 0..256, past the one-byte counter)
// and 3 exports. A truncated or shortened file fails here instead of checking less.
struct ExpectedSuite {
  const char* aead_id;
  std::size_t encryptions;
  std::size_t exports;
};
constexpr ExpectedSuite kExpectedSuites[] = {{"1", 257, 3}, {"2", 257, 3}, {"3", 257, 3}};

TEST(HpkeVectors, AllSuitesInTheKnownAnswerFile) {
  const auto path = testdata_dir() / "hpke" / "x25519-hkdf-sha256-base.txt";
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "HPKE test vectors not found at " << path.string()
                         << " (tests/data/hpke in the repository, or set ALLIANCE_TESTDATA_DIR)";
  std::vector<Suite> suites;
  try {
    suites = parse_vectors(in);
  } catch (const std::exception& e) {
    FAIL() << path.string() << ": " << e.what();
  }
  ASSERT_EQ(suites.size(), std::size(kExpectedSuites)) << path.string();
  for (std::size_t i = 0; i < suites.size(); ++i) {
    const auto& suite = suites[i];
    const auto& expected = kExpectedSuites[i];
    SCOPED_TRACE(std::string("aead_id = ") + expected.aead_id);
    ASSERT_EQ(suite.fields.at("aead_id"), expected.aead_id) << path.string();
    Checked checked;
    check_suite(suite, checked);
    EXPECT_EQ(checked.encryptions, expected.encryptions) << path.string();
    EXPECT_EQ(checked.exports, expected.exports) << path.string();
  }
}

// ---- Behaviour beyond the vectors ----

constexpr Aead kAllAeads[] = {Aead::kAes128Gcm, Aead::kAes256Gcm, Aead::kChaCha20Poly1305};

TEST(Hpke, SingleShotRoundTripForEveryAead) {
  auto r = x25519_generate();
  for (Aead aead : kAllAeads) {
    auto sealed = seal(r.public_key, "info", "aad", "the content key", aead);
    ASSERT_TRUE(sealed.ok()) << sealed.error().message;
    EXPECT_EQ(sealed->size(), kEncSize + 15 + kTagSize);
    auto opened = open(r.private_key, "info", "aad", *sealed, aead);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_EQ(*opened, "the content key");
    // The same AEAD id is part of the key schedule: another suite cannot open it.
    Aead other = aead == Aead::kAes256Gcm ? Aead::kAes128Gcm : Aead::kAes256Gcm;
    EXPECT_FALSE(open(r.private_key, "info", "aad", *sealed, other).ok());
  }
}

TEST(Hpke, SealingTwiceGivesDifferentEncapsulations) {
  auto r = x25519_generate();
  auto a = seal(r.public_key, "info", "aad", "pt");
  auto b = seal(r.public_key, "info", "aad", "pt");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->substr(0, kEncSize), b->substr(0, kEncSize));
  EXPECT_NE(*a, *b);
}

TEST(Hpke, SingleShotRejectsTamperingAndWrongInputs) {
  auto r = x25519_generate();
  auto sealed = seal(r.public_key, "info", "aad", "0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(sealed.ok());
  for (std::size_t i = 0; i < sealed->size(); ++i) {
    std::string bad = *sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x80);
    auto opened = open(r.private_key, "info", "aad", bad);
    ASSERT_FALSE(opened.ok()) << "byte " << i;
    EXPECT_EQ(opened.error().code, Code::kInvalidArgument);
  }
  EXPECT_FALSE(open(r.private_key, "other info", "aad", *sealed).ok());
  EXPECT_FALSE(open(r.private_key, "info", "other aad", *sealed).ok());
  EXPECT_FALSE(open(x25519_generate().private_key, "info", "aad", *sealed).ok());
  EXPECT_FALSE(open(r.private_key, "info", "aad", sealed->substr(0, sealed->size() - 1)).ok());

  // A low-order enc looks like any other undecryptable message.
  std::string zero_enc = std::string(32, '\0') + sealed->substr(kEncSize);
  auto low_order = open(r.private_key, "info", "aad", zero_enc);
  ASSERT_FALSE(low_order.ok());
  EXPECT_EQ(low_order.error().field, "ciphertext");
  EXPECT_EQ(low_order.error().message, "decryption failed");
}

TEST(Hpke, ContextSealsASequenceThatOpensOnlyInOrder) {
  auto r = x25519_generate();
  auto sender = setup_base_sender(r.public_key, "info");
  ASSERT_TRUE(sender.ok());
  std::vector<std::string> cts;
  for (int i = 0; i < 3; ++i) {
    auto ct = sender->context.seal("aad", "message " + std::to_string(i));
    ASSERT_TRUE(ct.ok());
    cts.push_back(*ct);
  }
  EXPECT_EQ(sender->context.sequence(), 3u);
  auto recipient = setup_base_recipient(sender->enc, r.private_key, "info");
  ASSERT_TRUE(recipient.ok());
  // Out of order fails and leaves the sequence number where it was.
  auto skipped = recipient->open("aad", cts[1]);
  ASSERT_FALSE(skipped.ok());
  EXPECT_EQ(skipped.error().message, "decryption failed");
  EXPECT_EQ(recipient->sequence(), 0u);
  for (int i = 0; i < 3; ++i) {
    auto pt = recipient->open("aad", cts[static_cast<std::size_t>(i)]);
    ASSERT_TRUE(pt.ok()) << i;
    EXPECT_EQ(*pt, "message " + std::to_string(i));
  }
  // A replay of the first message no longer opens.
  EXPECT_FALSE(recipient->open("aad", cts[0]).ok());
}

TEST(Hpke, ExportedSecretsAgreeAndDependOnContextAndLength) {
  auto r = x25519_generate();
  auto sender = setup_base_sender(r.public_key, "info");
  ASSERT_TRUE(sender.ok());
  auto recipient = setup_base_recipient(sender->enc, r.private_key, "info");
  ASSERT_TRUE(recipient.ok());
  EXPECT_EQ(sender->context.export_secret("a", 32), recipient->export_secret("a", 32));
  EXPECT_NE(sender->context.export_secret("a", 32), sender->context.export_secret("b", 32));
  EXPECT_EQ(sender->context.export_secret("a", 0), "");
  EXPECT_EQ(sender->context.export_secret("a", 100).size(), 100u);
  EXPECT_EQ(recipient->export_secret("a", kMaxExportSize).size(), kMaxExportSize);
  EXPECT_THROW((void)sender->context.export_secret("a", kMaxExportSize + 1), std::invalid_argument);
}

TEST(Hpke, MovedFromContextRefusesInsteadOfCrashing) {
  auto r = x25519_generate();
  auto sender = setup_base_sender(r.public_key, "info");
  ASSERT_TRUE(sender.ok());
  SenderContext moved = std::move(sender->context);
  EXPECT_TRUE(moved.seal("", "x").ok());
  auto stale = sender->context.seal("", "x");  // NOLINT(bugprone-use-after-move): the point of the test
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Code::kFailedPrecondition);
}

TEST(Hpke, BadInputsAreErrorsNamingTheField) {
  auto r = x25519_generate();
  auto field_of = [](const auto& result) { return result.ok() ? std::string("<ok>") : result.error().field; };
  EXPECT_EQ(field_of(setup_base_sender(r.public_key.substr(1), "info")), "pk_r");
  EXPECT_EQ(field_of(setup_base_sender(std::string(32, '\0'), "info")), "pk_r");  // low order
  EXPECT_EQ(field_of(setup_base_sender(r.public_key, "info", static_cast<Aead>(0x0004))), "aead");
  EXPECT_EQ(field_of(setup_base_sender_with_ephemeral(r.public_key, "info", "short", Aead::kAes256Gcm)), "sk_e");
  EXPECT_EQ(field_of(setup_base_recipient(r.public_key, r.private_key + "x", "info")), "sk_r");
  EXPECT_EQ(field_of(setup_base_recipient("", r.private_key, "info")), "enc");
  EXPECT_EQ(field_of(setup_base_recipient(std::string(32, '\0'), r.private_key, "info")), "enc");
  EXPECT_EQ(field_of(setup_base_recipient(r.public_key, r.private_key, "info", static_cast<Aead>(0xffff))), "aead");
  EXPECT_EQ(field_of(seal("", "info", "aad", "pt")), "pk_r");
  EXPECT_EQ(field_of(open(r.private_key, "info", "aad", std::string(47, 'x'))), "enc_and_ct");
  EXPECT_EQ(field_of(open("", "info", "aad", std::string(64, 'x'))), "sk_r");
}

}  // namespace
}  // namespace alliance::crypto::hpke
