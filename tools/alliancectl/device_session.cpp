#include "device_session.hpp"

#include <boost/json/value.hpp>

namespace alliance::ctl {
namespace {

// Copies the Messenger's pins into the session; true when they changed.
bool keep_pins(Context& ctx, const client::Messenger& messenger) {
  auto pins = messenger.pinned_devices();
  if (client::peer_devices_to_json(pins) == client::peer_devices_to_json(ctx.session.pins)) return false;
  ctx.session.pins = std::move(pins);
  return true;
}

bool keep_trust(Context& ctx, client::Messenger& messenger) {
  if (messenger.trust().to_json() == ctx.session.trust.to_json()) return false;
  ctx.session.trust = messenger.trust();
  return true;
}

// A conversation's state is kept once it holds anything: a fresh one (nothing seen,
// nothing sent) is what the Messenger makes anyway.
bool keep_integrity(Context& ctx, client::Messenger& messenger, const std::string& conversation) {
  const auto& now = messenger.integrity(conversation);
  auto json = now.to_json();
  auto kept = ctx.session.integrity.find(conversation);
  if (kept == ctx.session.integrity.end()) {
    if (json == client::ConversationIntegrity(conversation, now.reader_start()).to_json()) return false;
    ctx.session.integrity.emplace(conversation, now);
    return true;
  }
  if (json == kept->second.to_json()) return false;
  kept->second = now;
  return true;
}

}  // namespace

Error no_device() {
  return Error{Code::kFailedPrecondition,
               "this session has no device: run 'alliancectl device register' first", "device"};
}

Status save(Context& ctx) { return save_session(ctx.inv.session, ctx.session); }

Result<DeviceSession> device_session(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return c.error();
  if (!ctx.session.device) return no_device();
  DeviceSession out;
  out.client = std::move(*c);
  const auto& s = ctx.session;
  if (s.identity) {
    out.messenger = std::make_unique<client::Messenger>(*out.client, *s.device, *s.identity);
    out.messenger->set_trust(s.trust);
    // Our own user's key is known, not learnt: pinned as the Messenger's constructor
    // does, also in a trust store kept from before this device held the key.
    const client::PeerIdentity own{s.identity->user_id, s.identity->key.public_key, 0};
    (void)out.messenger->trust().check_identity(own);
    for (const auto& [conversation, integrity] : s.integrity) out.messenger->integrity(conversation) = integrity;
  } else {
    out.messenger = std::make_unique<client::Messenger>(*out.client, *s.device);
  }
  for (const auto& [conversation, seq] : s.cursors) out.messenger->set_last_seq(conversation, seq);
  // Pins that no longer verify are dropped here and so from the file at the next save.
  (void)out.messenger->pin_devices(s.pins);
  return out;
}

bool keep_state(Context& ctx, client::Messenger& messenger, const std::vector<std::string>& conversations) {
  bool changed = keep_pins(ctx, messenger);
  // Without the identity key the Messenger uses neither (format 1): nothing to keep.
  if (!ctx.session.identity) return changed;
  changed = keep_trust(ctx, messenger) || changed;
  for (const auto& conversation : conversations) changed = keep_integrity(ctx, messenger, conversation) || changed;
  return changed;
}

}  // namespace alliance::ctl
