#pragma once
// The messaging API's JSON, read into plain structs. Pure functions, no I/O: the
// Messenger and tests use them. Every input is treated as hostile: malformed JSON is
// an Error naming the field, never a crash. Field names are accepted both as in the
// .proto (snake_case, what the gateway prints) and in lowerCamelCase; int64 as a
// string or a number; bytes as base64 (standard or URL-safe, padding optional).
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/core/result.hpp"

namespace alliance::client {

// Standard base64 with '=' padding (protobuf's JSON form of bytes).
std::string base64_encode(std::string_view bytes);
// Accepts standard and URL-safe alphabets, with or without padding; nullopt on
// any other character, a bad length or padding in the middle.
std::optional<std::string> base64_decode(std::string_view text);

// alliance.identity.v1.Device: one device's public keys.
struct PeerDevice {
  std::string id, user_id, name;
  std::string signing_public, agreement_public, agreement_signature;  // raw bytes
  std::int64_t revoked_unix_ms = 0;
  bool current = false;  // in GET /v1/devices: the caller's own
  // The user's identity key's certificate of this device (crypto::DeviceCertificate),
  // and whether the server found it valid (the SDK checks it itself).
  std::string certificate_signature;  // raw bytes, 64 or empty
  std::int64_t certificate_issued_unix_ms = 0;
  bool approved = false;
  // Only in GET /v1/devices, for the caller's own device once approved: the user's
  // identity key sealed for it by the approving device.
  std::string identity_key_box;
};
Result<PeerDevice> peer_device_from_json(const boost::json::value& v);
// The same JSON back (proto field names, bytes as base64, revoked_unix_ms as a
// string), so a device's pinned peers can be kept in its storage and read again.
boost::json::value peer_device_to_json(const PeerDevice& d);
// A JSON array of devices, and back: any element peer_device_from_json refuses
// makes the whole list an Error naming it.
boost::json::value peer_devices_to_json(const std::vector<PeerDevice>& devices);
Result<std::vector<PeerDevice>> peer_devices_from_json(const boost::json::value& v);

// alliance.identity.v1.IdentityKey: a user's identity key as the server claims it.
struct WireIdentityKey {
  std::string user_id;
  std::string public_key;  // raw bytes, 32
  std::int64_t set_unix_ms = 0;
};
Result<WireIdentityKey> identity_key_from_json(const boost::json::value& v);

// alliance.identity.v1.ArchiveKey: the practice's archive key, signed by its practice key.
struct WireArchiveKey {
  std::string practice_id;
  std::string agreement_public;       // raw bytes, 32; empty when the practice has none
  std::string practice_public_key;    // raw bytes, 32; empty for an unsigned key
  std::string signature;              // raw bytes, 64; empty for an unsigned key
  std::int64_t issued_unix_ms = 0;
};
// Errors name the field under "archive_key", e.g. "archive_key.practice_public_key".
Result<WireArchiveKey> archive_key_from_json(const boost::json::value& v);

// alliance.messaging.v1.ListRecipientsResponse: who a message must be wrapped for.
struct Recipients {
  std::vector<PeerDevice> devices;
  std::string archive_public;  // the practice archive key (32 bytes), empty if none
  WireArchiveKey archive;      // the same key with its practice signature
  std::vector<WireIdentityKey> identity_keys;  // of the participants that have one
};
Result<Recipients> recipients_from_json(const boost::json::value& v);

// alliance.messaging.v1.WrappedKey.
struct WireKey {
  std::string device_id;    // a device id or "archive"
  std::string wrapped_key;  // raw bytes: enc(32) || ct(48)
};

// alliance.messaging.v1.Message as sent by the server.
struct WireMessage {
  std::string conversation_id;
  std::int64_t seq = 0;
  std::string message_id, sender_user_id, sender_device_id;
  std::string ciphertext;  // raw bytes; empty for system and expired messages
  std::vector<WireKey> keys;
  std::int64_t sent_unix_ms = 0;
  std::string kind;  // "user" | "system"
  std::string system_text;
  bool expired = false;
  int format = 1;  // 1 | 2 (crypto::seal_message / seal_message_v2); 0 on the wire reads as 1
};
// Requires conversation_id and seq >= 1.
Result<WireMessage> wire_message_from_json(const boost::json::value& v);

// alliance.messaging.v1.Conversation.
struct Conversation {
  std::string id, practice_id, client_id, therapist_id;
  std::int64_t created_unix_ms = 0, last_seq = 0, read_seq = 0, peer_read_seq = 0, erased_unix_ms = 0;
};
Result<Conversation> conversation_from_json(const boost::json::value& v);

// alliance.messaging.v1.Receipt.
struct Receipt {
  std::string conversation_id, user_id, device_id;
  std::string kind;  // "delivered" | "read"
  std::int64_t seq = 0;
  std::int64_t at_unix_ms = 0;
};
Result<Receipt> receipt_from_json(const boost::json::value& v);

// alliance.messaging.v1.Typing.
struct TypingEvent {
  std::string conversation_id, user_id;
  bool typing = false;
};
Result<TypingEvent> typing_from_json(const boost::json::value& v);

// alliance.push.v1.PushFrame as the gateway forwards it: {"id","type","sent_unix_ms",
// "body":{"@type":..., fields}}. `body` is the Any's JSON (null when absent).
struct PushFrame {
  std::string id, type;
  std::int64_t sent_unix_ms = 0;
  boost::json::value body;
};
Result<PushFrame> push_frame_from_json(const boost::json::value& v);
Result<PushFrame> push_frame_from_text(std::string_view text);

// The error body's "detail" object of a non-2xx answer ({"error":{..,"detail":{..}}}),
// or nullopt when there is none (or the body is not JSON).
std::optional<boost::json::value> error_detail(std::string_view body);

// Small readers shared by the codecs above: `key` is the proto (snake_case) name;
// the lowerCamelCase spelling is accepted too. Missing fields read as empty/0/false.
namespace json_field {
const boost::json::value* find(const boost::json::object& o, std::string_view key);
Result<std::string> string(const boost::json::object& o, std::string_view key);
Result<std::string> bytes(const boost::json::object& o, std::string_view key);
Result<std::int64_t> int64(const boost::json::object& o, std::string_view key);
Result<bool> boolean(const boost::json::object& o, std::string_view key);
}  // namespace json_field

}  // namespace alliance::client
