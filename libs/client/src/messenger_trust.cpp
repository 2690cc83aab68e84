// The Messenger's format 2 half: recipients trusted through the TrustStore (identity
// keys pinned per user, devices by their certificates, the archive key by the
// practice key), messages sealed with the signed header (counter, previous hash,
// time, recipient set) and every opened one checked by the conversation's
// ConversationIntegrity.
#include <algorithm>
#include <chrono>

#include "alliance/client/messenger.hpp"

namespace alliance::client {
namespace {

namespace json = boost::json;

constexpr std::string_view kArchive = "archive";

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string join(const std::vector<IntegrityIssue>& issues, std::vector<std::string>& lines) {
  for (const auto& i : issues) lines.push_back(i.text);
  return lines.empty() ? std::string() : lines.front();
}

bool contains(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// A signed recipient set that leaves out an expected device or names an untrusted one.
bool surprising(const DeliveredMessage& m) {
  const auto& sealed_for = m.header.recipient_device_ids;
  return std::any_of(m.expected_device_ids.begin(), m.expected_device_ids.end(),
                     [&](const std::string& id) { return !contains(sealed_for, id); }) ||
         std::any_of(sealed_for.begin(), sealed_for.end(),
                     [&](const std::string& id) { return !contains(m.trusted_device_ids, id); });
}

}  // namespace

Messenger::Messenger(AllianceClient& client, Device device, UserIdentity identity) : Messenger(client, std::move(device)) {
  // Our own user's key is known, not learned: a server claiming another one for us
  // is a change like any other.
  (void)trust_.check_identity(WireIdentityKey{identity.user_id, identity.key.public_key, 0});
  identity_ = std::move(identity);
}

ConversationIntegrity& Messenger::integrity(std::string_view conversation_id) {
  auto it = integrity_.find(conversation_id);
  if (it == integrity_.end()) {
    // Each device's first counter seen is its baseline: this device may have joined
    // after the conversation began, and its history holds only what was wrapped for it.
    it = integrity_
             .emplace(std::string(conversation_id),
                      ConversationIntegrity(std::string(conversation_id), ReaderStart::kJoinedLater))
             .first;
  }
  return it->second;
}

Result<std::string> Messenger::safety_number(std::string_view conversation_id) {
  if (!identity_) {
    return Error{Code::kFailedPrecondition, "identity: this device holds no user identity key", "identity"};
  }
  auto conv = conversation(conversation_id);
  if (!conv) return std::move(conv).error();
  const std::string& peer = conv->client_id == identity_->user_id ? conv->therapist_id : conv->client_id;
  if (!trust_.identity(peer)) (void)recipients(conversation_id, true);  // learn the peer's key
  return trust_.safety_number(identity_->user_id, identity_->key.public_key, peer);
}

void Messenger::remember_devices(const Recipients& recipients) {
  for (const auto& d : recipients.devices) listed_devices_.insert_or_assign(d.id, d);
}

std::string Messenger::practice_name(std::string_view practice_id) {
  if (practice_id_.empty()) {
    auto me = client_.me();
    const json::object* practice = nullptr;
    if (me && me->is_object()) {
      if (const auto* p = me->as_object().if_contains("practice"); p && p->is_object()) practice = &p->as_object();
    }
    const auto* id = practice ? practice->if_contains("id") : nullptr;
    const auto* name = practice ? practice->if_contains("name") : nullptr;
    if (!id || !id->is_string() || !name || !name->is_string()) return {};  // asked again next time
    practice_id_ = std::string(id->as_string());
    practice_name_ = std::string(name->as_string());
  }
  return practice_id_ == practice_id ? practice_name_ : std::string();
}

VerifiedRecipients Messenger::verify_certified(std::string_view conversation_id, const Recipients& recipients) {
  VerifiedRecipients out;
  auto verdict = trust_.verify_devices(recipients.identity_keys, recipients.devices);
  auto& certified = certified_[std::string(conversation_id)];
  for (auto& d : verdict.accepted) {
    known_devices_.try_emplace(d.id, d);  // so format 1 history from it opens too
    // Kept when the server later leaves a device out: a certified device that vanishes
    // from the list is still one messages must be encrypted to.
    certified.insert_or_assign(d.id, CertifiedTimes{d.certificate_issued_unix_ms, d.revoked_unix_ms});
    if (d.revoked_unix_ms == 0) out.devices.push_back(std::move(d));
  }
  // Users never seen with an identity key (older apps): their devices are trusted per
  // device on first use, as before identity keys. One seen with a key is never legacy
  // again (verify_devices refuses its uncertified devices): no downgrade.
  Recipients legacy;
  legacy.devices = verdict.legacy;
  VerifiedRecipients per_device = verify_recipients(legacy, known_devices_);
  for (auto& d : per_device.devices) {
    certified.insert_or_assign(d.id, CertifiedTimes{0, d.revoked_unix_ms, false});
    if (d.revoked_unix_ms != 0) continue;
    if (std::find(out.unverified_users.begin(), out.unverified_users.end(), d.user_id) == out.unverified_users.end())
      out.unverified_users.push_back(d.user_id);
    out.devices.push_back(std::move(d));
  }
  for (const auto& id : per_device.rejected) {
    out.rejected.push_back(id);
    out.reasons.push_back("keys other than those first seen for this device, or not self-signed");
  }
  for (const auto& r : verdict.rejected) {
    out.rejected.push_back(r.id);
    out.reasons.push_back(r.reason);
  }
  if (!recipients.archive_public.empty()) {
    auto archive = trust_.check_archive_key(recipients.archive, practice_name(recipients.archive.practice_id));
    if (archive.accepted()) {
      out.archive_public = archive.agreement_public;
      out.archive_notice = archive.notice;
    } else {
      out.rejected.emplace_back(kArchive);
      out.reasons.push_back("archive key: " + archive.reason);
    }
  }
  return out;
}

Result<SealedRequest> Messenger::seal_v2(SealedRequest request, const VerifiedRecipients& recipients) {
  auto& history = integrity(request.conversation_id);
  crypto::MessageHeaderV2 header;
  header.sender_user_id = device_.user_id;
  header.counter = history.next_counter(device_.id);
  header.prev_hash = history.last_hash();
  header.sent_unix_ms = now_unix_ms();
  const auto to = recipients.crypto_recipients();
  for (const auto& r : to) header.recipient_device_ids.push_back(r.device_id);
  std::sort(header.recipient_device_ids.begin(), header.recipient_device_ids.end());
  crypto::MessageContext ctx{request.conversation_id, request.message_id, request.sender_device_id};
  auto sealed = crypto::seal_message_v2(ctx, header, request.plaintext, device_.keys.signing_private, to);
  if (!sealed) return std::move(sealed).error();
  request.format = 2;
  request.ciphertext = std::move(sealed->ciphertext);
  request.keys = std::move(sealed->keys);
  request.message_hash = std::move(sealed->message_hash);
  request.header = std::move(header);
  return request;
}

bool Messenger::refresh_devices(std::string_view conversation_id, std::string_view device_id) {
  auto listed = devices_listed_at_.find(conversation_id);
  const bool fresh = listed != devices_listed_at_.end() &&
                     std::chrono::steady_clock::now() - listed->second < device_list_max_age_;
  if (fresh && listed_devices_.contains(device_id)) return false;
  learn_devices(conversation_id);
  return true;
}

void Messenger::expect_recipients(std::string_view conversation_id, DeliveredMessage& message) const {
  auto certified = certified_.find(conversation_id);
  if (certified == certified_.end()) return;
  const std::int64_t sent = message.header.sent_unix_ms;
  for (const auto& [id, times] : certified->second) {
    message.trusted_device_ids.push_back(id);
    // A device approved or revoked around the time the message was signed may or may
    // not have been on the sender's list: only the settled ones are expected.
    const bool settled_before = times.certified && times.issued_unix_ms <= sent - kIntegrityClockToleranceMs;
    const bool active_after = times.revoked_unix_ms == 0 || times.revoked_unix_ms > sent + kIntegrityClockToleranceMs;
    if (settled_before && active_after) message.expected_device_ids.push_back(id);
  }
  if (auto list = recipients_.find(conversation_id); list != recipients_.end() && !list->second.archive_public.empty())
    message.trusted_device_ids.emplace_back(kArchive);
}

ReceivedMessage Messenger::open_v2(const WireMessage& m) {
  ReceivedMessage out = envelope_of(m);
  if (m.expired) return out;
  // Revocation times must be current (the answer also pins a sender device not seen yet).
  const bool asked = refresh_devices(m.conversation_id, m.sender_device_id);
  std::string signer, signer_user;
  if (const DevicePin* pin = trust_.device(m.sender_device_id)) {
    signer = pin->signing_public;
    signer_user = pin->user_id;
  } else if (!identity_) {
    // Without a user identity of our own, devices are trusted on first use.
    if (auto known = known_devices_.find(m.sender_device_id); known != known_devices_.end()) {
      signer = known->second.signing_public;
      signer_user = known->second.user_id;
    }
  }
  if (signer.empty()) {
    out.error = "unknown sender device (not certified by its user's identity key)";
    return out;
  }
  if (signer_user != m.sender_user_id) {
    out.error = "the sender device belongs to another user";
    return out;
  }
  const WireKey* mine = nullptr;
  for (const auto& k : m.keys)
    if (k.device_id == device_.id) mine = &k;
  if (!mine) {
    out.error = "no key for this device";
    return out;
  }
  crypto::MessageContext ctx{m.conversation_id, m.message_id, m.sender_device_id};
  auto opened = crypto::open_message_v2(ctx, m.ciphertext, mine->wrapped_key, device_.id, device_.keys.agreement_private,
                                        signer);
  if (!opened) {
    out.error = opened.error().message;
    return out;
  }
  if (opened->header.sender_user_id != signer_user) {
    out.error = "the signed sender is another user";
    return out;
  }
  DeliveredMessage delivered;
  delivered.seq = m.seq;
  delivered.message_id = m.message_id;
  delivered.sender_device_id = m.sender_device_id;
  delivered.header = opened->header;
  delivered.message_hash = opened->message_hash;
  if (identity_) {
    expect_recipients(m.conversation_id, delivered);
    // A device may have been approved or revoked since the list was read: ask before saying so.
    if (!asked && surprising(delivered)) {
      learn_devices(m.conversation_id);
      delivered.trusted_device_ids.clear();
      delivered.expected_device_ids.clear();
      expect_recipients(m.conversation_id, delivered);
    }
  }
  if (auto listed = listed_devices_.find(m.sender_device_id); listed != listed_devices_.end())
    delivered.sender_revoked_unix_ms = listed->second.revoked_unix_ms;
  auto verdict = integrity(m.conversation_id).observe(delivered);
  if (!verdict) {
    out.error = verdict.error().message;
    return out;
  }
  const auto first = join(verdict->issues, out.integrity);
  switch (verdict->display) {
    case IntegrityVerdict::Display::kShow:
      out.sent_unix_ms = opened->header.sent_unix_ms;  // the signed time, not the server's
      out.plaintext = std::move(opened->plaintext);
      break;
    case IntegrityVerdict::Display::kDuplicate:
      // This device's own message, as sent, is no news but still its text.
      if (verdict->issues.empty() && m.sender_device_id == device_.id) {
        out.sent_unix_ms = opened->header.sent_unix_ms;
        out.plaintext = std::move(opened->plaintext);
      } else {
        out.duplicate = true;
      }
      break;
    case IntegrityVerdict::Display::kRefused:
      out.error = first.empty() ? "refused by the conversation's integrity checks" : first;
      break;
  }
  return out;
}

}  // namespace alliance::client
