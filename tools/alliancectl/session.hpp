#pragma once
// alliancectl's session file: the gateway it logged in to, the tokens and, once
// `device register` ran, this device's private keys, the user's identity key (once
// this device holds it), what the device trusts and message cursors, as JSON,
// mode 0600 (it holds secrets), replaced atomically.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "alliance/client/alliance_client.hpp"
#include "alliance/client/conversation_integrity.hpp"
#include "alliance/client/device.hpp"
#include "alliance/client/trust.hpp"
#include "alliance/client/user_identity.hpp"
#include "alliance/client/wire.hpp"
#include "alliance/core/result.hpp"

namespace alliance::ctl {

struct Session {
  std::string gateway;   // "https://127.0.0.1:8443"
  std::string ca_file;   // absolute path, or "" for the system trust store
  client::Tokens tokens;
  // The device this session registered (its private keys too), if any. A new login
  // replaces the whole file: the device belonged to the old session.
  std::optional<client::Device> device;
  // Per conversation id, the seq up to which `message sync` has shown every message.
  std::map<std::string, std::int64_t, std::less<>> cursors;
  // Other devices' public keys the device has verified, pinned by id: loaded into
  // the Messenger before each command and saved after, so a later command refuses
  // other keys under a known id (client::Messenger::pinned_devices / pin_devices).
  std::vector<client::PeerDevice> pins;
  // The user's identity key (its private seed: as secret as the device keys), once
  // this device made it (the user's first device) or received it after approval
  // (client::set_up_identity). With it, messages are sent in format 2.
  std::optional<client::UserIdentity> identity;
  // Peers' identity keys (pinned, verified), device pins by certificate and practice
  // keys: loaded into the Messenger before each command and saved after.
  client::TrustStore trust;
  // Per conversation id, what its format 2 messages showed about its history.
  std::map<std::string, client::ConversationIntegrity, std::less<>> integrity;
};

// The "comment" every session file starts with: what it holds and that it is 0600.
inline constexpr const char* kSessionComment =
    "alliancectl session: access tokens, this device's private keys and the user's identity key (base64). "
    "Created mode 0600; keep it private, never copy it to another machine.";

// kNotFound when the file does not exist; kInvalidArgument (field "session") when it is not a session file
// (including a "device" entry whose keys are not valid base64 of the right sizes, a
// "pins" entry that is not a list of devices, an "identity" whose public key is not its
// seed's, or "trust" / "integrity" entries the SDK does not read back). Files written
// before identity keys (no "identity", "trust" or "integrity") load with none.
Result<Session> load_session(const std::filesystem::path& path);
// Creates the parent folder (0700) if needed; the file is written 0600 via temp file + rename.
Status save_session(const std::filesystem::path& path, const Session& session);
// Removing a missing file is fine.
Status remove_session(const std::filesystem::path& path);

// A new login of the same user at the same gateway (as `fresh` holds): copies the
// identity key, the trust store and the device pins of the session file at `path`
// into `fresh`. Anything else (no file, another user, gateway or practice, a file it
// cannot read) copies nothing. True when an identity key was kept.
bool carry_over_identity(const std::filesystem::path& path, Session& fresh);

}  // namespace alliance::ctl
