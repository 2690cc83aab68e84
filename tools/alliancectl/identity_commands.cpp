#include "identity_commands.hpp"

#include <boost/json/value.hpp>
#include <cctype>
#include <chrono>
#include <map>
#include <ostream>

#include "alliance/client/messenger.hpp"
#include "alliance/client/user_identity.hpp"
#include "alliance/client/wire.hpp"
#include "alliance/crypto/identity_keys.hpp"
#include "commands.hpp"
#include "device_session.hpp"
#include "table.hpp"

namespace alliance::ctl {
namespace {

namespace json = boost::json;
using client::IdentityStatus;

constexpr const char* kCompare = "compare in person or by reading it aloud; both screens must show the same 60 digits";

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Error no_identity() {
  return Error{Code::kFailedPrecondition,
               "this device holds no identity key: run 'alliancectl device identity' (once a device you already "
               "use approved it)",
               "identity"};
}

// Whether the user has an identity key already (GET /v1/users/me/identity-key): tells
// a first device, which makes it, from one that receives it.
Result<bool> user_has_identity_key(client::AllianceClient& c) {
  auto r = c.get_json("/v1/users/me/identity-key");
  if (!r) return r.error();
  const json::value& key = sub(*r, "identity_key");
  if (!key.is_object()) return false;
  auto parsed = client::identity_key_from_json(key);
  return parsed && !parsed->public_key.empty();
}

// The conversation's other participant, after asking the server for its devices so
// that the TrustStore has applied the server's current claim of every identity key.
struct Peer {
  client::Conversation conversation;
  std::string user_id;
  bool pinned_before = false;  // a key was pinned for the peer before this command
  client::VerifiedRecipients recipients;
};

Result<Peer> peer_of(Context& ctx, client::Messenger& m, const std::string& conversation_id) {
  Peer p;
  auto conv = m.conversation(conversation_id);
  if (!conv) return conv.error();
  p.conversation = std::move(*conv);
  const std::string& me = ctx.session.identity->user_id;
  p.user_id = p.conversation.client_id == me ? p.conversation.therapist_id : p.conversation.client_id;
  p.pinned_before = m.trust().identity(p.user_id) != nullptr;
  auto recipients = m.recipients(conversation_id, true);
  if (!recipients) return recipients.error();
  p.recipients = std::move(*recipients);
  return p;
}

Error no_peer_key(const std::string& peer) {
  return Error{Code::kFailedPrecondition,
               peer + " has no identity key yet (their app has not set one up): there is no safety number to compare",
               "identity"};
}

// A command on one conversation's trust: its device session with the identity key,
// and what the Messenger learnt kept in the session file whatever the outcome.
template <typename Body>
Outcome with_trust(Context& ctx, const std::string& conversation_id, Body body) {
  auto ds = device_session(ctx);
  if (!ds) return failed(ds.error());
  if (!ctx.session.identity) return failed(no_identity());
  Outcome outcome = body(*ds->messenger);
  if (keep_state(ctx, *ds->messenger, {conversation_id})) {
    if (auto st = save(ctx); !st) ctx.err << error_line(st.error()) << "\n";
  }
  return outcome;
}

// The devices and archive key the SDK left out, as "! ..." lines.
void print_rejected(std::ostream& out, const client::VerifiedRecipients& r) {
  for (std::size_t i = 0; i < r.rejected.size(); ++i) {
    const std::string reason = i < r.reasons.size() ? r.reasons[i] : std::string("keys fail verification");
    if (r.rejected[i] == "archive") {
      out << "! the practice archive key is not used: " << terminal_safe(reason) << "\n";
    } else {
      out << "! device " << terminal_safe(r.rejected[i]) << " is left out: " << terminal_safe(reason) << "\n";
    }
  }
}

json::array rejected_json(const client::VerifiedRecipients& r) {
  json::array out;
  for (std::size_t i = 0; i < r.rejected.size(); ++i) {
    out.push_back(json::object{{"id", r.rejected[i]}, {"reason", i < r.reasons.size() ? r.reasons[i] : ""}});
  }
  return out;
}

Outcome verify(Context& ctx, client::Messenger& m, const std::string& id) {
  auto peer = peer_of(ctx, m, id);
  if (!peer) return failed(peer.error());
  auto& trust = m.trust();
  const client::UserIdentity& mine = *ctx.session.identity;
  const std::string& who = peer->user_id;
  auto status = trust.identity_status(who);
  if (status == IdentityStatus::kLegacy) return failed(no_peer_key(who));

  if (client::identity_changed(status)) {
    const client::IdentityPin& pin = *trust.identity(who);
    auto fresh = crypto::safety_number(mine.user_id, mine.key.public_key, who, pin.changed_key);
    const std::string fresh_number = fresh ? *fresh : std::string();
    if (ctx.inv.json) {
      print_json(ctx.out, json::object{{"conversation_id", id},
                                       {"peer_user_id", who},
                                       {"status", "changed"},
                                       {"was_verified", pin.verified},
                                       {"new_safety_number", fresh_number}});
    } else {
      ctx.out << "conversation " << id << ": you (" << mine.user_id << ") and " << who << "\n"
              << "identity key of " << who << ": CHANGED"
              << (pin.verified ? " (you had verified the old one in person)" : "") << "\n";
      if (!fresh_number.empty()) {
        ctx.out << "safety number with the new key: " << fresh_number << "\n" << kCompare << "\n";
      }
    }
    std::string how = "alliancectl conversation accept-identity --id " + id + (pin.verified ? " --unverify" : "");
    return failed(Error{Code::kFailedPrecondition,
                        who + "'s identity key has CHANGED: nothing is sent to this conversation until you accept "
                              "the new key; check the new safety number with them, then run `" + how + "`",
                        "identity"});
  }

  const bool mark = ctx.inv.flag("mark-verified");
  if (mark && !peer->pinned_before) {
    // Marking needs a number the user has already compared: this one is shown for the first time.
    return failed(Error{Code::kFailedPrecondition,
                        who + "'s identity key is new to this device: run `alliancectl conversation verify --id " +
                            id + "`, compare the safety number with them, then add --mark-verified",
                        "mark-verified"});
  }
  if (mark && status != IdentityStatus::kVerified) {
    if (auto st = trust.mark_verified(who, trust.identity(who)->public_key); !st) return failed(st.error());
    status = IdentityStatus::kVerified;
  }
  auto number = trust.safety_number(mine.user_id, mine.key.public_key, who);
  if (!number) return failed(number.error());
  std::string qr;
  if (ctx.inv.flag("qr")) {
    auto text = trust.safety_number_qr_text(mine.user_id, mine.key.public_key, who);
    if (!text) return failed(text.error());
    qr = *text;
  }
  const auto& archive_notice = peer->recipients.archive_notice;
  const auto fingerprint = trust.practice_fingerprint(peer->conversation.practice_id);
  const std::string_view word = peer_status_word(status, peer->pinned_before);

  if (ctx.inv.json) {
    json::object o{{"conversation_id", id},
                   {"user_id", mine.user_id},
                   {"peer_user_id", who},
                   {"status", word == "CHANGED" ? "changed" : word},
                   {"safety_number", *number}};
    if (!qr.empty()) o["qr_text"] = qr;
    if (!archive_notice.empty()) {
      o["archive_notice"] = archive_notice;
      o["practice_key_fingerprint"] = fingerprint.value_or("");
    }
    if (!peer->recipients.rejected.empty()) o["rejected"] = rejected_json(peer->recipients);
    print_json(ctx.out, o);
    return {};
  }
  ctx.out << "conversation " << id << ": you (" << mine.user_id << ") and " << who << "\n"
          << "safety number: " << *number << "\n"
          << kCompare << "\n"
          << "identity key of " << who << ": " << word;
  if (status == IdentityStatus::kVerified) {
    ctx.out << (mark ? " (marked now: a change will be an error)" : " (a change will be an error)");
  } else {
    ctx.out << " (not verified: once the numbers match, run again with --mark-verified)";
  }
  ctx.out << "\n";
  if (!qr.empty()) ctx.out << "QR text: " << qr << "\n";
  if (!archive_notice.empty()) {
    ctx.out << terminal_safe(archive_notice) << "\n"
            << "practice key fingerprint: " << fingerprint.value_or("(none pinned)") << "\n";
  }
  print_rejected(ctx.out, peer->recipients);
  return {};
}

Outcome accept_identity(Context& ctx, client::Messenger& m, const std::string& id) {
  auto peer = peer_of(ctx, m, id);
  if (!peer) return failed(peer.error());
  auto& trust = m.trust();
  const std::string& who = peer->user_id;
  const client::IdentityPin* pin = trust.identity(who);
  if (!pin) return failed(no_peer_key(who));
  if (pin->changed_key.empty()) {
    if (ctx.inv.json) {
      print_json(ctx.out, json::object{{"conversation_id", id}, {"peer_user_id", who}, {"accepted", false}});
    } else {
      ctx.out << "nothing to accept: the identity key of " << who << " has not changed\n";
    }
    return {};
  }
  const std::string fresh = pin->changed_key;
  if (pin->verified) {
    if (!ctx.inv.flag("unverify")) {
      return failed(Error{Code::kFailedPrecondition,
                          "you verified " + who + "'s old identity key in person: check the new safety number "
                              "with them (alliancectl conversation verify --id " + id +
                              "), then accept it with --unverify",
                          "unverify"});
    }
    if (auto st = trust.unverify(who); !st) return failed(st.error());
  }
  if (auto st = trust.accept_identity(who, fresh); !st) return failed(st.error());
  // Their devices certified by the new key are checked (and pinned) now.
  auto recipients = m.recipients(id, true);
  if (!recipients) return failed(recipients.error());
  const client::UserIdentity& mine = *ctx.session.identity;
  auto number = trust.safety_number(mine.user_id, mine.key.public_key, who);
  if (!number) return failed(number.error());
  if (ctx.inv.json) {
    print_json(ctx.out, json::object{{"conversation_id", id},
                                     {"peer_user_id", who},
                                     {"accepted", true},
                                     {"safety_number", *number}});
    return {};
  }
  ctx.out << "accepted the new identity key of " << who << "\n"
          << "safety number: " << *number << "\n"
          << kCompare << "; then run `alliancectl conversation verify --id " << id << " --mark-verified`\n";
  print_rejected(ctx.out, *recipients);
  return {};
}

}  // namespace

std::string_view identity_state_name(IdentityState state) {
  static constexpr std::string_view kNames[] = {"first_device", "received", "held", "awaiting_approval"};
  return kNames[static_cast<int>(state)];
}

std::string identity_state_line(IdentityState state, std::string_view device_id, std::string_view code) {
  switch (state) {
    case IdentityState::kFirstDevice: return "identity key ready (this is the user's first device)\n";
    case IdentityState::kReceived: return "identity key received: this device is approved\n";
    case IdentityState::kHeld: return "identity key held: this device is approved\n";
    case IdentityState::kAwaitingApproval:
      return "this device awaits approval: on a device you already use, run `alliancectl device approve --id " +
             terminal_safe(device_id) + " --code " + std::string(code) +
             "` after checking this code: " + std::string(code) + "\n";
  }
  return "\n";
}

std::string_view peer_status_word(IdentityStatus status, bool pinned_before) {
  if (client::identity_changed(status)) return "CHANGED";
  if (status == IdentityStatus::kLegacy) return "none";
  if (status == IdentityStatus::kPinned && !pinned_before) return "new";  // pinned by this very command
  return client::identity_status_name(status);
}

Outcome set_up_device_identity(Context& ctx, client::AllianceClient& c, json::object device) {
  const client::Device& d = *ctx.session.device;
  IdentityState state = IdentityState::kHeld;
  std::string code;
  if (ctx.session.identity) {
    // Kept from an earlier sign-in of this user: it certifies this device, unless the
    // user's key was replaced since (then this device awaits approval like any other).
    auto setup = client::set_up_identity(c, d, now_unix_ms(), ctx.session.identity);
    if (!setup) return failed(setup.error());
    if (!setup->identity) {
      ctx.session.identity.reset();
      state = IdentityState::kAwaitingApproval;
      code = setup->approval_code;
      if (auto st = save(ctx); !st) return failed(st.error());
    }
  } else {
    auto had = user_has_identity_key(c);
    if (!had) return failed(had.error());
    auto setup = client::set_up_identity(c, d, now_unix_ms());
    if (!setup) return failed(setup.error());
    if (setup->identity) {
      ctx.session.identity = std::move(setup->identity);
      state = *had ? IdentityState::kReceived : IdentityState::kFirstDevice;
      if (auto st = save(ctx); !st) {
        Error e = st.error();
        e.message += " (the identity key could not be kept in the session file)";
        return failed(e);
      }
    } else {
      state = IdentityState::kAwaitingApproval;
      code = setup->approval_code;
    }
  }
  if (ctx.inv.json) {
    json::object identity{{"state", identity_state_name(state)}};
    if (!code.empty()) identity["approval_code"] = code;
    print_json(ctx.out, json::object{{"device", std::move(device)}, {"identity", std::move(identity)}});
  } else {
    ctx.out << identity_state_line(state, d.id, code);
  }
  return {};
}

Outcome device_identity(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  if (!ctx.session.device) return failed(no_device());
  const client::Device& d = *ctx.session.device;
  return set_up_device_identity(ctx, **c, json::object{{"id", d.id}, {"name", d.name}});
}

Outcome device_pending(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  auto pending = client::pending_devices(**c);
  if (!pending) return failed(pending.error());
  // The SDK's device carries no creation time: the same list as the server gives it.
  auto listed = (*c)->get_json("/v1/devices");
  if (!listed) return failed(listed.error());
  std::map<std::string, std::int64_t, std::less<>> created;  // device id -> created_unix_ms
  if (const auto& all = sub(*listed, "devices"); all.is_array()) {
    for (const auto& d : all.as_array()) created[str(d, "id")] = int64_of(d, "created_unix_ms");
  }
  if (ctx.inv.json) {
    json::array list;
    for (const auto& d : *pending) {
      list.push_back(json::object{{"id", d.id}, {"name", d.name}, {"created_unix_ms", created[d.id]}});
    }
    print_json(ctx.out, json::object{{"devices", std::move(list)}});
    return {};
  }
  if (pending->empty()) {
    ctx.out << "no devices awaiting approval\n";
    return {};
  }
  Table table({{"ID", 34}, {"NAME", 26}, {"CREATED", 0}});
  for (const auto& d : *pending) table.add({d.id, d.name, format_ms(created[d.id])});
  table.print(ctx.out);
  ctx.out << "approve one with `alliancectl device approve --id ID --code CODE`, CODE being the code that device "
             "shows (if it shows no code or another one, do not approve it)\n";
  return {};
}

Outcome device_approve(Context& ctx) {
  const auto& o = ctx.inv.options;
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  if (!ctx.session.device) return failed(no_device());
  if (!ctx.session.identity) return failed(no_identity());
  auto approved = client::approve_device(**c, *ctx.session.identity, o.at("id"), o.at("code"), now_unix_ms());
  if (!approved) return failed(approved.error());
  if (ctx.inv.json) {
    print_json(ctx.out, json::object{{"approved", o.at("id")}});
  } else {
    ctx.out << "approved device " << terminal_safe(o.at("id"))
            << ": on it, run `alliancectl device identity` to receive the identity key\n";
  }
  return {};
}

Outcome conversation_verify(Context& ctx) {
  const std::string& id = ctx.inv.options.at("id");
  return with_trust(ctx, id, [&](client::Messenger& m) { return verify(ctx, m, id); });
}

Outcome conversation_accept_identity(Context& ctx) {
  const std::string& id = ctx.inv.options.at("id");
  return with_trust(ctx, id, [&](client::Messenger& m) { return accept_identity(ctx, m, id); });
}

namespace {

std::string bare_hex(std::string_view fingerprint) {
  std::string out;
  for (char ch : fingerprint)
    if (ch != ' ') out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// --replace: the practice key the server offers now, accepted only if it has `fingerprint`.
Status accept_offered_practice_key(Context& ctx, const std::string& practice_id, const std::string& fingerprint) {
  auto c = logged_in_client(ctx);
  if (!c) return std::move(c).error();
  auto r = (*c)->get_json("/v1/practice/archive-key");
  if (!r) return std::move(r).error();
  const json::value* offered = r->is_object() ? r->as_object().if_contains("archive_key") : nullptr;
  if (!offered || offered->is_null())
    return Error{Code::kNotFound, "fingerprint: the practice has no signed archive key to accept", "fingerprint"};
  auto key = client::archive_key_from_json(*offered);
  if (!key) return std::move(key).error();
  if (key->practice_public_key.empty() ||
      bare_hex(crypto::key_fingerprint(key->practice_public_key)) != bare_hex(fingerprint)) {
    return Error{Code::kFailedPrecondition,
                 "fingerprint: the practice key the server offers has another fingerprint; do not accept it", "fingerprint"};
  }
  return ctx.session.trust.accept_practice_key(practice_id, key->practice_public_key);
}

}  // namespace

Outcome practice_trust_key(Context& ctx) {
  if (auto st = require_session(ctx); !st) return failed(st.error());
  const std::string& practice_id = ctx.session.tokens.practice_id;
  const std::string& fingerprint = ctx.inv.options.at("fingerprint");
  const auto before = ctx.session.trust.practice_fingerprint(practice_id);
  Status st = ctx.inv.flag("replace") && before && bare_hex(*before) != bare_hex(fingerprint)
                  ? accept_offered_practice_key(ctx, practice_id, fingerprint)
                  : ctx.session.trust.pin_practice_fingerprint(practice_id, fingerprint);
  if (!st) {
    Error e = st.error();
    if (e.field == "practice_id" && e.code == Code::kFailedPrecondition) {
      e.message = "fingerprint: another practice key is pinned (" + before.value_or("") +
                  "); to change it on your practice's word, add --replace";
      e.field = "fingerprint";
    }
    return failed(e);
  }
  if (auto saved = save(ctx); !saved) return failed(saved.error());
  const std::string pinned = ctx.session.trust.practice_fingerprint(practice_id).value_or("");
  if (ctx.inv.json) {
    print_json(ctx.out, json::object{{"practice_id", practice_id}, {"practice_key_fingerprint", pinned}});
  } else {
    ctx.out << "pinned the practice key " << pinned
            << ": an archive key it did not sign is refused, and messages are not sent to it\n";
  }
  return {};
}

}  // namespace alliance::ctl
