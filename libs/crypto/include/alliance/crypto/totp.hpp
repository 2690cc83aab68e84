#pragma once
// One-time passwords for a second sign-in step: HOTP (RFC 4226) and TOTP (RFC 6238) with
// HMAC-SHA-1, 6 digits and 30-second steps, as authenticator apps expect, and the
// otpauth:// URI they scan. The secret is as sensitive as a password: keep it wrapped at
// rest and wipe copies (crypto/wipe.hpp).
//
//   const std::string secret = totp_secret();                   // at enrolment
//   show(otpauth_uri("Riverside Therapy", "kim@riverside.example", secret));
//   auto step = totp_check(secret, typed_code, now_s, last_step);  // at sign-in
//   if (step) last_step = *step;                                 // a code is used once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace alliance::crypto {

inline constexpr int kTotpDigits = 6;
inline constexpr std::int64_t kTotpStepSeconds = 30;
inline constexpr std::size_t kTotpSecretSize = 20;  // 160 bits, RFC 4226's recommendation

// `digits` (6 to 8) decimal digits, zero-padded: RFC 4226 section 5.3.
std::string hotp(std::string_view secret, std::uint64_t counter, int digits = kTotpDigits);
// hotp at the step of `unix_seconds` (RFC 6238: T = floor(unix_seconds / 30)).
std::string totp(std::string_view secret, std::int64_t unix_seconds, int digits = kTotpDigits);
std::int64_t totp_step(std::int64_t unix_seconds);

// The step `code` is valid for, among the current step and one either side (clock skew),
// if that step is after `last_used_step`: a code already used (or an older one) is
// refused, so a code seen over a shoulder cannot be replayed in its window. nullopt when
// no step matches. The comparison takes the same time whichever digits differ.
std::optional<std::int64_t> totp_check(std::string_view secret, std::string_view code, std::int64_t unix_seconds,
                                       std::int64_t last_used_step);

std::string totp_secret();  // kTotpSecretSize random bytes
// RFC 4648 base32, upper case, without padding (what otpauth URIs carry).
std::string base32(std::string_view bytes);
// otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30,
// issuer and account percent-encoded.
std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret);

}  // namespace alliance::crypto
