#pragma once
// alliancectl's session file: the gateway it logged in to and the tokens, as
// JSON, mode 0600 (it holds secrets), replaced atomically.
#include <filesystem>
#include <string>

#include "alliance/client/alliance_client.hpp"
#include "alliance/core/result.hpp"

namespace alliance::ctl {

struct Session {
  std::string gateway;   // "https://127.0.0.1:8443"
  std::string ca_file;   // absolute path, or "" for the system trust store
  client::Tokens tokens;
};

// kNotFound when the file does not exist; kInvalidArgument (field "session") when it is not a session file.
Result<Session> load_session(const std::filesystem::path& path);
// Creates the parent folder (0700) if needed; the file is written 0600 via temp file + rename.
Status save_session(const std::filesystem::path& path, const Session& session);
// Removing a missing file is fine.
Status remove_session(const std::filesystem::path& path);

}  // namespace alliance::ctl
