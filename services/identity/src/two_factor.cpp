#include "two_factor.hpp"

#include <algorithm>
#include <cctype>

#include "alliance/crypto/aead.hpp"
#include "alliance/crypto/encoding.hpp"
#include "alliance/crypto/random.hpp"
#include "alliance/crypto/totp.hpp"
#include "alliance/crypto/wipe.hpp"

namespace alliance::identity {
namespace {

constexpr std::size_t kRecoveryCodeLength = 16;  // base32 of 10 bytes

std::string seal_aad(std::string_view user_id) { return "alliance-totp-secret-v1:" + std::string(user_id); }

}  // namespace

TwoFactorSeal::TwoFactorSeal(std::string key) : key_(std::move(key)) {}
TwoFactorSeal::~TwoFactorSeal() { crypto::wipe(key_); }

Result<std::string> TwoFactorSeal::seal(std::string_view user_id, std::string_view secret) const {
  std::string nonce = crypto::random_bytes(crypto::kAesGcmNonceSize);
  auto sealed = crypto::aes256gcm_seal(key_, nonce, seal_aad(user_id), secret);
  if (!sealed) return make_error(Code::kInternal, "could not seal the two-factor secret");
  return nonce + *sealed;
}

Result<std::string> TwoFactorSeal::open(std::string_view user_id, std::string_view sealed) const {
  if (sealed.size() < crypto::kAesGcmNonceSize + crypto::kAeadTagSize)
    return make_error(Code::kInternal, "the stored two-factor secret is damaged");
  auto secret = crypto::aes256gcm_open(key_, sealed.substr(0, crypto::kAesGcmNonceSize), seal_aad(user_id),
                                       sealed.substr(crypto::kAesGcmNonceSize));
  if (!secret)
    return make_error(Code::kInternal,
                      "the stored two-factor secret does not open (was the token signing key replaced?)");
  return std::move(*secret);
}

TypedCode parse_typed_code(std::string_view code) {
  std::string kept;
  for (char ch : code) {
    if (ch == ' ' || ch == '-') continue;
    kept.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
  }
  auto all = [&](auto pred) { return std::all_of(kept.begin(), kept.end(), pred); };
  if (kept.size() == static_cast<std::size_t>(crypto::kTotpDigits) &&
      all([](char ch) { return ch >= '0' && ch <= '9'; }))
    return {TypedCode::Kind::kTotp, std::move(kept)};
  if (kept.size() == kRecoveryCodeLength &&
      all([](char ch) { return (ch >= 'A' && ch <= 'Z') || (ch >= '2' && ch <= '7'); }))
    return {TypedCode::Kind::kRecovery, std::move(kept)};
  return {};
}

std::vector<std::string> new_recovery_codes() {
  std::vector<std::string> codes;
  for (int i = 0; i < kRecoveryCodeCount; ++i) {
    const std::string raw = crypto::base32(crypto::random_bytes(10));
    std::string shown;
    for (std::size_t j = 0; j < raw.size(); ++j) {
      if (j > 0 && j % 4 == 0) shown.push_back('-');
      shown.push_back(raw[j]);
    }
    codes.push_back(std::move(shown));
  }
  return codes;
}

std::string recovery_code_digest(std::string_view normalized) { return crypto::sha256(normalized); }

}  // namespace alliance::identity
