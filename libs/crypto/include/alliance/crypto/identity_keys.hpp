#pragma once
// Trust that does not rest on the server: a user's Ed25519 identity key vouches for that
// user's devices (device certificates), a practice key vouches for the practice's archive
// key (archive key statements), and two users compare a safety number derived from both
// identity keys. Pure functions; safe from any thread. Bad input is a Result error naming
// the field (or `false` from a verify_*), never an exception.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "alliance/core/result.hpp"

namespace alliance::crypto {

inline constexpr std::size_t kIdentityKeySize = 32;        // Ed25519 seed and public key
inline constexpr std::size_t kIdentitySignatureSize = 64;  // Ed25519 signature

// An Ed25519 key pair that signs statements about other keys. The private seed never
// leaves the device that made it (a user's first device; the practice's admin host).
struct IdentityKeyPair {
  std::string private_seed;  // 32
  std::string public_key;    // 32
};

// A user's identity key: made once, on the user's first device. Throws std::runtime_error
// only if OpenSSL fails.
IdentityKeyPair generate_identity_key();
// The practice key that signs the archive key. The same kind of key as a user's identity
// key; a separate name so call sites say which one they mean.
IdentityKeyPair generate_practice_key();

// "This device belongs to this user": signed by the user's identity key.
struct DeviceCertificate {
  std::string user_id, device_id;
  std::string signing_public;    // the device's Ed25519 key, 32
  std::string agreement_public;  // the device's X25519 key, 32
  std::int64_t issued_unix_ms = 0;
};
// "alliance-device-certificate-v1" || len16(user_id) || len16(device_id)
//   || signing_public(32) || agreement_public(32) || be64(issued_unix_ms)
// len16(x) = x's length as 2 bytes big-endian, then x; be64 = 8 bytes big-endian (two's
// complement). kInvalidArgument naming "certificate.user_id" / "certificate.device_id"
// (empty or longer than 65535 bytes) or "certificate.signing_public" /
// "certificate.agreement_public" (not 32 bytes).
Result<std::string> device_certificate_statement(const DeviceCertificate& certificate);
// The 64-byte signature over device_certificate_statement(). Errors as the statement,
// plus "identity_private" (not 32 bytes).
Result<std::string> sign_device_certificate(std::string_view identity_private,
                                            const DeviceCertificate& certificate);
// True only if `signature` is `identity_public`'s signature over the certificate's
// statement. Wrong sizes or an invalid certificate are false.
bool verify_device_certificate(std::string_view identity_public, const DeviceCertificate& certificate,
                               std::string_view signature);

// "This X25519 key is the practice's record archive": signed by the practice key.
struct ArchiveKeyStatement {
  std::string practice_id;
  std::string agreement_public;  // the archive's X25519 key, 32
  std::int64_t issued_unix_ms = 0;
};
// "alliance-archive-key-v1" || len16(practice_id) || agreement_public(32) || be64(issued_unix_ms)
// kInvalidArgument naming "statement.practice_id" (empty or longer than 65535 bytes) or
// "statement.agreement_public" (not 32 bytes).
Result<std::string> archive_key_statement(const ArchiveKeyStatement& statement);
// The 64-byte signature over archive_key_statement(). Errors as the statement, plus
// "practice_private" (not 32 bytes).
Result<std::string> sign_archive_key(std::string_view practice_private, const ArchiveKeyStatement& statement);
// True only if `signature` is `practice_public`'s signature over the statement. Wrong
// sizes or an invalid statement are false.
bool verify_archive_key(std::string_view practice_public, const ArchiveKeyStatement& statement,
                        std::string_view signature);

// What a client pins for the practice key and what the practice publishes at intake: the
// first 16 bytes of SHA-256("alliance-key-fingerprint-v1" || public_key), lowercase hex in
// 8 groups of 4 separated by spaces ("3f2a 9c01 ..."; 39 characters). Hashes whatever
// bytes it is given, so distinct keys never share a fingerprint; pass the 32-byte key.
std::string key_fingerprint(std::string_view public_key);

// The safety number of two users (Signal's scheme): per user, h = be16(0) ||
// identity_public || user_id, then 5200 times h = SHA-512(h || identity_public); the first
// 30 bytes as six 5-byte big-endian integers, each mod 100000 as 5 digits. The two
// 30-digit halves sorted and joined: 60 digits in 12 groups of 5 separated by spaces.
// The same for (a, b) and (b, a); changes when either identity key or user id does.
// kInvalidArgument naming "user_a" / "user_b" (empty or longer than 65535 bytes) or
// "identity_a" / "identity_b" (not 32 bytes). Costs ~10,400 SHA-512 blocks: compute it
// when shown, not per message.
Result<std::string> safety_number(std::string_view user_a, std::string_view identity_a,
                                  std::string_view user_b, std::string_view identity_b);
// "alliance-safety-v1:" followed by the 60 digits of `safety_number` (as returned by
// safety_number()) without spaces: what a QR code carries and what is copied and pasted.
std::string safety_number_qr_text(std::string_view safety_number);

}  // namespace alliance::crypto
