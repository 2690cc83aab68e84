#include "alliance/client/wire.hpp"

#include <boost/json/parse.hpp>
#include <charconv>
#include <cmath>

namespace alliance::client {

namespace json = boost::json;

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

std::string camel_case(std::string_view snake) {
  std::string out;
  out.reserve(snake.size());
  bool upper = false;
  for (char c : snake) {
    if (c == '_') {
      upper = true;
    } else if (upper && c >= 'a' && c <= 'z') {
      out.push_back(static_cast<char>(c - 'a' + 'A'));
      upper = false;
    } else {
      out.push_back(c);
      upper = false;
    }
  }
  return out;
}

Error bad(std::string_view field, std::string_view what) {
  return invalid_argument(std::string(field), std::string(field) + ": " + std::string(what));
}

Result<const json::object*> object_of(const json::value& v, std::string_view what) {
  if (!v.is_object()) return bad(what, "expected a JSON object");
  return &v.as_object();
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                      static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                      static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  // Padding only at the end, at most two, and only to complete a 4-character group.
  std::size_t pad = 0;
  while (!text.empty() && text.back() == '=' && pad < 2) {
    text.remove_suffix(1);
    ++pad;
  }
  if (pad > 0 && (text.size() + pad) % 4 != 0) return std::nullopt;
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = sextet(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

namespace json_field {

const json::value* find(const json::object& o, std::string_view key) {
  if (auto* v = o.if_contains(key)) return v;
  std::string camel = camel_case(key);
  if (camel != key) return o.if_contains(camel);
  return nullptr;
}

Result<std::string> string(const json::object& o, std::string_view key) {
  const json::value* v = find(o, key);
  if (!v || v->is_null()) return std::string();
  if (!v->is_string()) return bad(key, "expected a string");
  return std::string(v->as_string());
}

Result<std::string> bytes(const json::object& o, std::string_view key) {
  auto text = string(o, key);
  if (!text) return text;
  auto raw = base64_decode(*text);
  if (!raw) return bad(key, "expected base64");
  return std::move(*raw);
}

Result<std::int64_t> int64(const json::object& o, std::string_view key) {
  const json::value* v = find(o, key);
  if (!v || v->is_null()) return std::int64_t{0};
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->as_uint64());
  }
  if (v->is_string()) {
    std::string_view s = v->as_string();
    std::int64_t out = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) return out;
  }
  return bad(key, "expected a whole number");
}

Result<bool> boolean(const json::object& o, std::string_view key) {
  const json::value* v = find(o, key);
  if (!v || v->is_null()) return false;
  if (!v->is_bool()) return bad(key, "expected true or false");
  return v->as_bool();
}

}  // namespace json_field

// Each reader below: read a field into `out.member` or return the field's error.
#define ALLIANCE_READ(kind, member, key)          \
  do {                                            \
    auto r_ = json_field::kind(*o, key);          \
    if (!r_) return std::move(r_).error();        \
    out.member = std::move(*r_);                  \
  } while (false)

Result<PeerDevice> peer_device_from_json(const json::value& v) {
  auto obj = object_of(v, "device");
  if (!obj) return std::move(obj).error();
  const json::object* o = *obj;
  PeerDevice out;
  ALLIANCE_READ(string, id, "id");
  ALLIANCE_READ(string, user_id, "user_id");
  ALLIANCE_READ(string, name, "name");
  ALLIANCE_READ(bytes, signing_public, "signing_public_key");
  ALLIANCE_READ(bytes, agreement_public, "agreement_public_key");
  ALLIANCE_READ(bytes, agreement_signature, "agreement_key_signature");
  ALLIANCE_READ(int64, revoked_unix_ms, "revoked_unix_ms");
  ALLIANCE_READ(boolean, current, "current");
  ALLIANCE_READ(bytes, certificate_signature, "certificate_signature");
  ALLIANCE_READ(int64, certificate_issued_unix_ms, "certificate_issued_unix_ms");
  ALLIANCE_READ(boolean, approved, "approved");
  ALLIANCE_READ(bytes, identity_key_box, "identity_key_box");
  if (out.id.empty()) return bad("device.id", "missing");
  return out;
}

Result<WireIdentityKey> identity_key_from_json(const json::value& v) {
  auto obj = object_of(v, "identity_key");
  if (!obj) return std::move(obj).error();
  const json::object* o = *obj;
  WireIdentityKey out;
  ALLIANCE_READ(string, user_id, "user_id");
  ALLIANCE_READ(bytes, public_key, "public_key");
  ALLIANCE_READ(int64, set_unix_ms, "set_unix_ms");
  if (out.user_id.empty()) return bad("identity_key.user_id", "missing");
  return out;
}

Result<WireArchiveKey> archive_key_from_json(const json::value& v) {
  auto obj = object_of(v, "archive_key");
  if (!obj) return std::move(obj).error();
  const json::object* o = *obj;
  WireArchiveKey out;
  ALLIANCE_READ(string, practice_id, "practice_id");
  ALLIANCE_READ(bytes, agreement_public, "agreement_public_key");
  ALLIANCE_READ(bytes, practice_public_key, "practice_public_key");
  ALLIANCE_READ(bytes, signature, "archive_key_signature");
  ALLIANCE_READ(int64, issued_unix_ms, "issued_unix_ms");
  return out;
}

json::value peer_device_to_json(const PeerDevice& d) {
  json::object o;
  o["id"] = d.id;
  o["user_id"] = d.user_id;
  o["name"] = d.name;
  o["signing_public_key"] = base64_encode(d.signing_public);
  o["agreement_public_key"] = base64_encode(d.agreement_public);
  o["agreement_key_signature"] = base64_encode(d.agreement_signature);
  o["revoked_unix_ms"] = std::to_string(d.revoked_unix_ms);
  if (d.current) o["current"] = true;
  if (!d.certificate_signature.empty()) {
    o["certificate_signature"] = base64_encode(d.certificate_signature);
    o["certificate_issued_unix_ms"] = std::to_string(d.certificate_issued_unix_ms);
  }
  return o;
}

json::value peer_devices_to_json(const std::vector<PeerDevice>& devices) {
  json::array out;
  out.reserve(devices.size());
  for (const auto& d : devices) out.push_back(peer_device_to_json(d));
  return out;
}

Result<std::vector<PeerDevice>> peer_devices_from_json(const json::value& v) {
  if (!v.is_array()) return bad("devices", "expected an array");
  std::vector<PeerDevice> out;
  out.reserve(v.as_array().size());
  for (const auto& d : v.as_array()) {
    auto device = peer_device_from_json(d);
    if (!device) return std::move(device).error();
    out.push_back(std::move(*device));
  }
  return out;
}

Result<Recipients> recipients_from_json(const json::value& v) {
  auto obj = object_of(v, "recipients");
  if (!obj) return std::move(obj).error();
  const json::object* o = *obj;
  Recipients out;
  if (const json::value* devices = json_field::find(*o, "devices"); devices && !devices->is_null()) {
    if (!devices->is_array()) return bad("devices", "expected an array");
    for (const auto& d : devices->as_array()) {
      auto device = peer_device_from_json(d);
      if (!device) return std::move(device).error();
      out.devices.push_back(std::move(*device));
    }
  }
  if (const json::value* archive = json_field::find(*o, "archive_key"); archive && !archive->is_null()) {
    auto key = archive_key_from_json(*archive);
    if (!key) return std::move(key).error();
    out.archive_public = key->agreement_public;
    out.archive = std::move(*key);
  }
  if (const json::value* keys = json_field::find(*o, "identity_keys"); keys && !keys->is_null()) {
    if (!keys->is_array()) return bad("identity_keys", "expected an array");
    for (const auto& k : keys->as_array()) {
      auto key = identity_key_from_json(k);
      if (!key) return std::move(key).error();
      out.identity_keys.push_back(std::move(*key));
    }
  }
  return out;
}

Result<WireMessage> wire_message_from_json(const json::value& v) {
  auto obj = object_of(v, "message");
  if (!obj) return std::move(obj).error();
  const json::object* o = *obj;
  WireMessage out;
  ALLIANCE_READ(string, conversation_id, "conversation_id");
  ALLIANCE_READ(int64, seq, "seq");
  ALLIANCE_READ(string, message_id, "message_id");
  ALLIANCE_READ(string, sender_user_id, "sender_user_id");
  ALLIANCE_READ(string, sender_device_id, "sender_device_id");
  ALLIANCE_READ(bytes, ciphertext, "ciphertext");
  ALLIANCE_READ(int64, sent_unix_ms, "sent_unix_ms");
  ALLIANCE_READ(string, kind, "kind");
  ALLIANCE_READ(string, system_text, "system_text");
  ALLIANCE_READ(boolean, expired, "expired");
  std::int64_t format = 0;
  {
    auto f = json_field::int64(*o, "format");
    if (!f) return std::move(f).error();
    format = *f;
  }
  if (format != 0 && format != 1 && format != 2) return bad("format", "expected 1 or 2");
  out.format = format == 2 ? 2 : 1;
  if (const json::value* keys = json_field::find(*o, "keys"); keys && !keys->is_null()) {
    if (!keys->is_array()) return bad("keys", "expected an array");
    for (const auto& k : keys->as_array()) {
      if (!k.is_object()) return bad("keys", "expected objects");
      WireKey key;
      auto id = json_field::string(k.as_object(), "device_id");
      if (!id) return std::move(id).error();
      auto wrapped = json_field::bytes(k.as_object(), "wrapped_key");
      if (!wrapped) return std::move(wrapped).error();
      key.device_id = std::move(*id);
      key.wrapped_key = std::move(*wrapped);
      out.keys.push_back(std::move(key));
    }
  }
  if (out.conversation_id.empty()) return bad("conversation_id", "missing");
  if (out.seq < 1) return bad("seq", "must be at least 1");
  return out;
}

Result<Conversation> conversation_from_json(const json::value& v) {
  auto obj = object_of(v, "conversation");
  if (!obj) return std::move(obj).error();
  const json::object* o = *obj;
  Conversation out;
  ALLIANCE_READ(string, id, "id");
  ALLIANCE_READ(string, practice_id, "practice_id");
  ALLIANCE_READ(string, client_id, "client_id");
  ALLIANCE_READ(string, therapist_id, "therapist_id");
  ALLIANCE_READ(int64, created_unix_ms, "created_unix_ms");
  ALLIANCE_READ(int64, last_seq, "last_seq");
  ALLIANCE_READ(int64, read_seq, "read_seq");
  ALLIANCE_READ(int64, peer_read_seq, "peer_read_seq");
  ALLIANCE_READ(int64, erased_unix_ms, "erased_unix_ms");
  if (out.id.empty()) return bad("conversation.id", "missing");
  return out;
}

Result<Receipt> receipt_from_json(const json::value& v) {
  auto obj = object_of(v, "receipt");
  if (!obj) return std::move(obj).error();
  const json::object* o = *obj;
  Receipt out;
  ALLIANCE_READ(string, conversation_id, "conversation_id");
  ALLIANCE_READ(string, user_id, "user_id");
  ALLIANCE_READ(string, device_id, "device_id");
  ALLIANCE_READ(string, kind, "kind");
  ALLIANCE_READ(int64, seq, "seq");
  ALLIANCE_READ(int64, at_unix_ms, "at_unix_ms");
  if (out.conversation_id.empty()) return bad("conversation_id", "missing");
  return out;
}

Result<TypingEvent> typing_from_json(const json::value& v) {
  auto obj = object_of(v, "typing");
  if (!obj) return std::move(obj).error();
  const json::object* o = *obj;
  TypingEvent out;
  ALLIANCE_READ(string, conversation_id, "conversation_id");
  ALLIANCE_READ(string, user_id, "user_id");
  ALLIANCE_READ(boolean, typing, "typing");
  if (out.conversation_id.empty()) return bad("conversation_id", "missing");
  return out;
}

Result<PushFrame> push_frame_from_json(const json::value& v) {
  auto obj = object_of(v, "frame");
  if (!obj) return std::move(obj).error();
  const json::object* o = *obj;
  PushFrame out;
  ALLIANCE_READ(string, id, "id");
  ALLIANCE_READ(string, type, "type");
  ALLIANCE_READ(int64, sent_unix_ms, "sent_unix_ms");
  if (const json::value* body = json_field::find(*o, "body")) out.body = *body;
  if (out.type.empty()) return bad("type", "missing");
  return out;
}

#undef ALLIANCE_READ

Result<PushFrame> push_frame_from_text(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return bad("frame", "not JSON");
  return push_frame_from_json(v);
}

std::optional<json::value> error_detail(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  auto* error = v.as_object().if_contains("error");
  if (!error || !error->is_object()) return std::nullopt;
  auto* detail = error->as_object().if_contains("detail");
  if (!detail || !detail->is_object()) return std::nullopt;
  return *detail;
}

}  // namespace alliance::client
