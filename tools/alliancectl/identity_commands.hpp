#pragma once
// alliancectl's identity-key and trust commands through the SDK's user_identity.hpp
// and TrustStore: the user's identity key on this device (`device identity`, and the
// end of `device register`), approving the user's new devices (`device pending`,
// `device approve`), and a conversation's safety number (`conversation verify`,
// `conversation accept-identity`). The printers are pure so the unit tests check
// exactly what a user reads.
#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "alliance/client/alliance_client.hpp"
#include "alliance/client/trust.hpp"
#include "command_context.hpp"

namespace alliance::ctl {

// The commands; run() dispatches to them.
Outcome device_identity(Context& ctx);                // device identity
Outcome device_pending(Context& ctx);                 // device pending
Outcome device_approve(Context& ctx);                 // device approve --id ID --code CODE
Outcome conversation_verify(Context& ctx);            // conversation verify --id ID [--mark-verified] [--qr]
Outcome conversation_accept_identity(Context& ctx);  // conversation accept-identity --id ID [--unverify]
Outcome practice_trust_key(Context& ctx);            // practice trust-key --fingerprint HEX [--replace]

// Sets up the user's identity key on this session's device unless it holds it already
// (client::set_up_identity), keeps it in the session file and prints where the device
// stands: identity_state_line, or with --json {"device": `device`, "identity": {"state",
// "approval_code"?}}. The end of `device register` and all of `device identity`.
Outcome set_up_device_identity(Context& ctx, client::AllianceClient& client, boost::json::object device);

enum class IdentityState {
  kFirstDevice,       // the key was made here: the user had none
  kReceived,          // an approved device sealed the key for this one
  kHeld,              // the session file already held it
  kAwaitingApproval,  // this device shows `code` and waits for an approved device
};
std::string_view identity_state_name(IdentityState state);  // "first_device", "received", "held", "awaiting_approval"
// One line ending in "\n", e.g. "identity key ready (this is the user's first device)" or
// "this device awaits approval: on a device you already use, run `alliancectl device
// approve --id <device_id> --code <code>` after checking this code: <code>".
std::string identity_state_line(IdentityState state, std::string_view device_id, std::string_view code);

// A peer's identity key as `conversation verify` names it: "new" (first seen by this
// command), "pinned", "verified", "CHANGED" (either changed status), "none" (legacy).
std::string_view peer_status_word(client::IdentityStatus status, bool pinned_before);

}  // namespace alliance::ctl
