#pragma once
// What this device trusts, so that the server does not decide whom a message is
// encrypted to: each peer USER's identity key (pinned on first use of the user, or
// accepted by the user after a change), the keys of every device id seen, and each
// practice's key that signs its archive key. Pure and I/O-free: no network, no clock,
// the Messenger feeds it the server's answers and keeps to_json() in the device's
// storage. One thread at a time.
//
// The rules, in one place:
// - A user's identity key is pinned the first time the server names one for that user.
//   Another key afterwards is a change: it never replaces the pin by itself, and every
//   device of that user is refused until the user accepts the new key
//   (accept_identity), like a safety-number change.
// - Once the user has compared safety numbers and marked the key verified, a change is
//   an error that acceptance alone does not clear: accept_identity refuses another key
//   (kFailedPrecondition) until unverify() is called first, a separate step the app
//   takes only on the user's explicit word.
// - A device is accepted only if its agreement key carries its own signature, its id was
//   never seen with other keys, and its certificate verifies under its user's PINNED
//   identity key (never a key the server names in the same breath as a change).
// - Users for whom no identity key is named or pinned are "legacy" (from before identity
//   keys): their devices are checked as before (self-signature, per-id pin) and reported
//   apart; whether to encrypt to them is the Messenger's decision.
// - An archive key counts only if signed by the practice key, which is pinned per
//   practice on first use or published at intake; another practice key needs the user's
//   acceptance (accept_practice_key).
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/client/wire.hpp"
#include "alliance/core/result.hpp"

namespace alliance::client {

// The server's claims, as wire.hpp reads them (raw bytes in std::string):
using PeerIdentity = WireIdentityKey;     // {user_id, public_key, set_unix_ms}; empty key = "none"
using CertifiedDevice = PeerDevice;       // a device with certificate_signature and _issued_unix_ms
using SignedArchiveKey = WireArchiveKey;  // {practice_id, agreement_public, practice_public_key,
                                          //  signature, issued_unix_ms}

// What the pin says about a user's identity key, after the server's latest claim.
enum class IdentityStatus {
  kLegacy,           // nothing pinned and no key claimed: a user from before identity keys
  kNew,              // nothing was pinned: the claimed key is now (trust on first use)
  kPinned,           // the claim is the pinned key
  kVerified,         // ... and the user compared safety numbers for it
  kChanged,          // another key was claimed: the pin stays, the user's devices are refused
  kVerifiedChanged,  // the same, over a verified pin: show it as an error, not a notice
};
std::string_view identity_status_name(IdentityStatus status);  // "legacy", "new", ...
// kChanged or kVerifiedChanged: the user's devices are refused until the change is settled.
inline bool identity_changed(IdentityStatus s) {
  return s == IdentityStatus::kChanged || s == IdentityStatus::kVerifiedChanged;
}

// A user's pinned identity key.
struct IdentityPin {
  std::string public_key;   // 32
  bool verified = false;    // safety numbers compared for exactly this key
  std::string changed_key;  // the other key last claimed, while a change is unsettled; else empty
};

// The keys a device id was first seen with.
struct DevicePin {
  std::string user_id, signing_public, agreement_public;
};

// Why verify_devices left a device out. `reason` is one of: "reserved id archive",
// "missing id", "missing user id", "duplicate device id", "bad self-signature",
// "device id pinned with other keys", "identity key changed", "malformed identity key",
// "conflicting identity keys", "not certified by <user_id>'s identity key".
struct RejectedDevice {
  std::string id, user_id, reason;
};

// One user named in a verify_devices call (by an identity claim or a device).
struct UserVerdict {
  std::string user_id;
  IdentityStatus status = IdentityStatus::kLegacy;
  // Non-empty when the claim itself was unusable ("malformed identity key": not 32 bytes;
  // "conflicting identity keys": two keys for the user in one answer). The pin is left
  // as it was and every device of the user is refused with this reason.
  std::string problem;
  bool legacy() const { return status == IdentityStatus::kLegacy && problem.empty(); }
};

struct DeviceVerdict {
  std::vector<CertifiedDevice> accepted;  // certified under the user's pinned, unchanged key
  // Devices of legacy users that pass the self-signature and per-id pin (now pinned).
  // Trusted on the server's word for the user-to-device link: the Messenger decides.
  std::vector<CertifiedDevice> legacy;
  std::vector<RejectedDevice> rejected;
  std::vector<UserVerdict> users;  // sorted by user_id, one per user named

  const UserVerdict* user(std::string_view user_id) const;  // null if not named
};

// The text to show wherever a conversation has an archive key (exact wording).
// "messages in this conversation are also readable by <practice_name>'s record archive"
std::string archive_notice(std::string_view practice_name);

enum class ArchiveStatus {
  kNew,      // no practice key was pinned: it is now, and the archive key is accepted
  kPinned,   // signed by the pinned practice key (or the one whose fingerprint was pinned)
  kChanged,  // validly signed, but by another practice key: not accepted until accept_practice_key
  kRefused,  // unsigned, a bad signature or malformed: never accepted as it is
};

struct ArchiveVerdict {
  ArchiveStatus status = ArchiveStatus::kRefused;
  std::string agreement_public;      // the archive key to wrap for; empty unless accepted()
  std::string practice_public_key;   // the practice key that signed it (to accept a change)
  std::string practice_fingerprint;  // crypto::key_fingerprint of it, to show; empty if malformed
  // Not accepted: "no archive key", "missing practice id", "unsigned archive key",
  // "bad archive key signature", "practice key changed",
  // "practice key does not match the fingerprint pinned at intake".
  std::string reason;
  std::string notice;  // accepted: archive_notice(practice name)

  bool accepted() const { return status == ArchiveStatus::kNew || status == ArchiveStatus::kPinned; }
};

class TrustStore {
 public:
  TrustStore() = default;

  // ---- Identity keys, per user ------------------------------------------------------
  // Applies the server's claim of `identity.user_id`'s key (see IdentityStatus). An empty
  // public_key claims nothing: the answer is the pin's current state (kLegacy if none).
  // A claim of the pinned key settles an unsettled change (the server is back to the key
  // every accepted device is certified by). kInvalidArgument naming "identity.user_id"
  // (empty) or "identity.public_key" (not 32 bytes); the pin is then untouched.
  Result<IdentityStatus> check_identity(const PeerIdentity& identity);
  // The pin's current state without a claim.
  IdentityStatus identity_status(std::string_view user_id) const;
  const IdentityPin* identity(std::string_view user_id) const;  // null if none pinned

  // The user accepted `public_key` as `user_id`'s identity key (after a change, or one
  // learnt another way, or this user's own key): it becomes the pin, unverified, and the
  // change is settled. Accepting the key already pinned only settles the change and keeps
  // `verified`. Another key over a VERIFIED pin is kFailedPrecondition (field "user_id"):
  // call unverify() first, on the user's explicit word. kInvalidArgument naming
  // "user_id" (empty) or "public_key" (not 32 bytes).
  Status accept_identity(std::string_view user_id, std::string_view public_key);
  // The user compared safety numbers in person for `public_key`: only the currently pinned
  // key can be marked (kFailedPrecondition "public_key" otherwise, kNotFound "user_id" if
  // nothing is pinned).
  Status mark_verified(std::string_view user_id, std::string_view public_key);
  // Drops the verified mark (kNotFound "user_id" if nothing is pinned), so that a change
  // can then be accepted.
  Status unverify(std::string_view user_id);

  // The safety number of this user and `peer_user_id` with the peer's PINNED key
  // (crypto::safety_number: the same from both sides). kNotFound "peer_user_id" if no key
  // is pinned for the peer; crypto's kInvalidArgument for a bad own key or id.
  Result<std::string> safety_number(std::string_view my_user_id, std::string_view my_identity_public,
                                    std::string_view peer_user_id) const;
  // The same as crypto::safety_number_qr_text ("alliance-safety-v1:" and 60 digits).
  Result<std::string> safety_number_qr_text(std::string_view my_user_id, std::string_view my_identity_public,
                                            std::string_view peer_user_id) const;

  // ---- Devices ----------------------------------------------------------------------
  // Checks a devices answer: `identities` are the identity keys the server named with it
  // (each applied as check_identity does; an empty key claims nothing), `devices` the
  // devices listed. Each device is accepted only if, in this order: its id is not
  // "archive", it has an id and a user id, its agreement key carries its signing key's
  // signature, its id was never pinned with other keys or another user, and its user is
  // legacy (-> `legacy`) or has a pinned key, no unsettled change and no problem claim,
  // and its certificate (user id, device id, both keys, issued time) verifies under that
  // pinned key (-> `accepted`); and it is not listed twice. Accepted and legacy
  // devices' keys are pinned by id. revoked_unix_ms is not looked at: these say whose
  // keys a device holds, not whether to wrap for it (drop revoked ones before sending,
  // keep them to check what they sent before). The user's own devices are checked the
  // same way: pin the own identity key with accept_identity first.
  DeviceVerdict verify_devices(const std::vector<PeerIdentity>& identities,
                               const std::vector<CertifiedDevice>& devices);
  const DevicePin* device(std::string_view device_id) const;  // null if never accepted

  // ---- The practice key that signs the archive key -----------------------------------
  // Checks the archive key a conversation's devices answer carried (see ArchiveStatus).
  // The signature is checked first, so only a validly signed key is ever pinned or shown
  // as a change. The archive key is not tied to a conversation here: check that
  // `key.practice_id` is the conversation's practice. `practice_name` (the server's word,
  // unsigned: falls back to the practice id when empty) only goes into the notice.
  ArchiveVerdict check_archive_key(const SignedArchiveKey& key, std::string_view practice_name = {});
  // Pins a practice key published at intake, before first use; first use must then match.
  // Pinning the key (or a fingerprint) already pinned is ok; over another pin it is
  // kFailedPrecondition "practice_id" (accept_practice_key replaces a pin).
  // kInvalidArgument naming "practice_id" (empty), "public_key" (not 32 bytes) or
  // "fingerprint" (not 32 hex digits; spaces and case are ignored).
  Status pin_practice_key(std::string_view practice_id, std::string_view public_key);
  Status pin_practice_fingerprint(std::string_view practice_id, std::string_view fingerprint);
  // The user accepted `public_key` as the practice's key (after a kChanged): it replaces
  // any pin. Errors as pin_practice_key's kInvalidArgument.
  Status accept_practice_key(std::string_view practice_id, std::string_view public_key);
  // The pinned practice key's fingerprint (as crypto::key_fingerprint), if any.
  std::optional<std::string> practice_fingerprint(std::string_view practice_id) const;

  // ---- Persistence ------------------------------------------------------------------
  // {"version":1,"identities":[{"user_id","public_key","verified","changed_key"?}],
  //  "devices":[{"id","user_id","signing_public_key","agreement_public_key"}],
  //  "practices":[{"practice_id", "public_key" | "fingerprint"}]}, keys base64.
  boost::json::value to_json() const;
  // Refuses anything to_json would not write (kInvalidArgument naming the field, e.g.
  // "identities[2].public_key"): a wrong type, bad base64, a key not 32 bytes, a
  // duplicate id, an unknown version. Never throws on any JSON value.
  static Result<TrustStore> from_json(const boost::json::value& v);

 private:
  struct PracticePin {
    std::string public_key;   // 32; empty while only the fingerprint is pinned
    std::string fingerprint;  // crypto::key_fingerprint form
  };
  // The reason a device is refused, or empty; pins it when it passes.
  // `user` is the device's user's verdict, null when the device names no user.
  std::string device_problem(const CertifiedDevice& device, const UserVerdict* user);

  std::map<std::string, IdentityPin, std::less<>> identities_;  // by user id
  std::map<std::string, DevicePin, std::less<>> devices_;       // by device id
  std::map<std::string, PracticePin, std::less<>> practices_;   // by practice id
};

}  // namespace alliance::client
