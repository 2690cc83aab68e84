#pragma once
// This session's device as a client::Messenger, for the commands that send, read or
// check trust: built from the session file (cursors, pins, the user's identity key,
// the trust store, each conversation's integrity state) and copied back into it after
// the command, so what one command learnt holds for the next. Internal to alliancectl.
#include <memory>
#include <string>
#include <vector>

#include "alliance/client/alliance_client.hpp"
#include "alliance/client/messenger.hpp"
#include "command_context.hpp"

namespace alliance::ctl {

struct DeviceSession {
  std::unique_ptr<client::AllianceClient> client;
  std::unique_ptr<client::Messenger> messenger;  // format 2 when the session holds the identity key
};

// kFailedPrecondition (field "device") saying to run `device register` when the
// session has no device; the login's errors otherwise.
Result<DeviceSession> device_session(Context& ctx);
Error no_device();

// Copies what the Messenger holds now (pins, trust store, and the integrity state of
// `conversations`) into ctx.session; true when any of it changed (save the file).
bool keep_state(Context& ctx, client::Messenger& messenger, const std::vector<std::string>& conversations);

// Saves ctx.session to the session file.
Status save(Context& ctx);

}  // namespace alliance::ctl
