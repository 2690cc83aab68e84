#include "session.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "alliance/client/wire.hpp"
#include "alliance/core/ids.hpp"
#include "alliance/crypto/ed25519.hpp"
#include "alliance/crypto/wipe.hpp"

namespace alliance::ctl {
namespace {

namespace json = boost::json;

std::string str(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

Error io_error(const std::filesystem::path& path, std::string_view what) {
  return Error{Code::kFailedPrecondition, "session file " + path.string() + ": " + std::string(what) + ": " +
                                              std::strerror(errno),
               "session"};
}

Error not_a_session(const std::filesystem::path& path, std::string_view what) {
  return invalid_argument("session", "session file " + path.string() + ": " + std::string(what));
}

// The device's keys as base64; the private ones never go anywhere but this file.
json::object device_to_json(const client::Device& d) {
  json::object o;
  o["id"] = d.id;
  o["user_id"] = d.user_id;
  o["name"] = d.name;
  o["signing_private"] = client::base64_encode(d.keys.signing_private);
  o["signing_public"] = client::base64_encode(d.keys.signing_public);
  o["agreement_private"] = client::base64_encode(d.keys.agreement_private);
  o["agreement_public"] = client::base64_encode(d.keys.agreement_public);
  o["agreement_signature"] = client::base64_encode(d.keys.agreement_signature);
  return o;
}

// `object`.`key`: exactly `size` bytes as base64.
Result<std::string> key_bytes(const std::filesystem::path& path, const json::object& o, std::string_view object,
                              std::string_view key, std::size_t size) {
  auto bytes = client::base64_decode(str(o, key));
  if (!bytes || bytes->size() != size) {
    return not_a_session(path, std::string(object) + "." + std::string(key) + " is not " + std::to_string(size) +
                                   " bytes of base64");
  }
  return std::move(*bytes);
}

Result<client::Device> device_from_json(const std::filesystem::path& path, const json::value& v) {
  if (!v.is_object()) return not_a_session(path, "\"device\" is not an object");
  const auto& o = v.as_object();
  client::Device d;
  d.id = str(o, "id");
  d.user_id = str(o, "user_id");
  d.name = str(o, "name");
  if (d.id.empty()) return not_a_session(path, "\"device\" has no id");
  struct Key {
    std::string_view name;
    std::string* into;
    std::size_t size;
  };
  const Key keys[] = {{"signing_private", &d.keys.signing_private, 32},
                      {"signing_public", &d.keys.signing_public, 32},
                      {"agreement_private", &d.keys.agreement_private, 32},
                      {"agreement_public", &d.keys.agreement_public, 32},
                      {"agreement_signature", &d.keys.agreement_signature, 64}};
  for (const auto& k : keys) {
    auto bytes = key_bytes(path, o, "device", k.name, k.size);
    if (!bytes) return bytes.error();
    *k.into = std::move(*bytes);
  }
  return d;
}

// The user's identity key: the private seed never goes anywhere but this file.
json::object identity_to_json(const client::UserIdentity& identity) {
  json::object o;
  o["user_id"] = identity.user_id;
  o["private_seed"] = client::base64_encode(identity.key.private_seed);
  o["public_key"] = client::base64_encode(identity.key.public_key);
  return o;
}

Result<client::UserIdentity> identity_from_json(const std::filesystem::path& path, const json::value& v) {
  if (!v.is_object()) return not_a_session(path, "\"identity\" is not an object");
  const auto& o = v.as_object();
  client::UserIdentity identity;
  identity.user_id = str(o, "user_id");
  if (identity.user_id.empty()) return not_a_session(path, "\"identity\" has no user_id");
  auto seed = key_bytes(path, o, "identity", "private_seed", crypto::kIdentityKeySize);
  if (!seed) return seed.error();
  identity.key.private_seed = std::move(*seed);
  auto public_key = key_bytes(path, o, "identity", "public_key", crypto::kIdentityKeySize);
  if (!public_key) return public_key.error();
  // A public key that is not the seed's would sign certificates peers then refuse.
  auto key = crypto::Ed25519PrivateKey::from_raw_seed(identity.key.private_seed);
  if (!key || key->public_key_raw() != *public_key) {
    return not_a_session(path, "identity.public_key is not the public key of identity.private_seed");
  }
  identity.key.public_key = std::move(*public_key);
  return identity;
}

json::object integrity_to_json(const std::map<std::string, client::ConversationIntegrity, std::less<>>& all) {
  json::object o;
  for (const auto& [conversation, integrity] : all) o[conversation] = integrity.to_json();
  return o;
}

Result<std::map<std::string, client::ConversationIntegrity, std::less<>>> integrity_from_json(
    const std::filesystem::path& path, const json::value& v) {
  if (!v.is_object()) return not_a_session(path, "\"integrity\" is not an object");
  std::map<std::string, client::ConversationIntegrity, std::less<>> out;
  for (const auto& [conversation, state] : v.as_object()) {
    const std::string where = "integrity." + std::string(conversation);
    auto integrity = client::ConversationIntegrity::from_json(state);
    if (!integrity) return not_a_session(path, "\"" + where + "\": " + integrity.error().message);
    if (integrity->conversation_id() != conversation) {
      return not_a_session(path, "\"" + where + "\" is the state of conversation " + integrity->conversation_id());
    }
    out.emplace(std::string(conversation), std::move(*integrity));
  }
  return out;
}

// Reads the entry `key` of `o` with `read` (a Result<T> from a JSON value) into `into`;
// a missing or null entry leaves `into` as it is (files from before it existed). An error
// not already about the session file is made one, naming the entry.
template <typename T, typename Read>
Status read_entry(const std::filesystem::path& path, const json::object& o, std::string_view key, T& into,
                  Read read) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return {};
  auto parsed = read(*v);
  if (!parsed) {
    if (parsed.error().field == "session") return parsed.error();
    return not_a_session(path, "\"" + std::string(key) + "\": " + parsed.error().message);
  }
  into = std::move(*parsed);
  return {};
}

}  // namespace

Result<Session> load_session(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) return make_error(Code::kNotFound, "no session file " + path.string());
    return io_error(path, "cannot read");
  }
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  json::value v = json::parse(text.str(), ec);
  if (ec || !v.is_object()) return invalid_argument("session", "session file " + path.string() + " is not valid JSON");
  const auto& o = v.as_object();
  Session s;
  s.gateway = str(o, "gateway");
  s.ca_file = str(o, "ca_file");
  s.tokens.access_token = str(o, "access_token");
  s.tokens.refresh_token = str(o, "refresh_token");
  s.tokens.user_id = str(o, "user_id");
  s.tokens.practice_id = str(o, "practice_id");
  s.tokens.role = str(o, "role");
  if (auto* e = o.if_contains("expires_in"); e && e->is_int64()) s.tokens.expires_in = e->as_int64();
  // A sign-in waiting for `two-factor confirm` (no tokens yet).
  if (auto challenge = str(o, "two_factor_challenge"); !challenge.empty())
    s.tokens.two_factor = client::TwoFactorChallenge{std::move(challenge), 0, true};
  auto entry = [&](std::string_view key, auto& into, auto read) { return read_entry(path, o, key, into, read); };
  auto in_file = [&path](auto read) { return [&path, read](const json::value& v) { return read(path, v); }; };
  if (auto st = entry("device", s.device, in_file(device_from_json)); !st) return st.error();
  if (auto* c = o.if_contains("cursors"); c && c->is_object()) {
    for (const auto& [conversation, seq] : c->as_object()) {
      if (seq.is_int64() && seq.as_int64() >= 0) s.cursors[std::string(conversation)] = seq.as_int64();
    }
  }
  if (auto st = entry("pins", s.pins, [](const json::value& v) { return client::peer_devices_from_json(v); }); !st) {
    return st.error();
  }
  if (auto st = entry("identity", s.identity, in_file(identity_from_json)); !st) return st.error();
  if (auto st = entry("trust", s.trust, client::TrustStore::from_json); !st) return st.error();
  if (auto st = entry("integrity", s.integrity, in_file(integrity_from_json)); !st) return st.error();
  return s;
}

Status save_session(const std::filesystem::path& path, const Session& s) {
  json::object o;
  o["comment"] = kSessionComment;
  o["gateway"] = s.gateway;
  o["ca_file"] = s.ca_file;
  o["access_token"] = s.tokens.access_token;
  o["refresh_token"] = s.tokens.refresh_token;
  o["expires_in"] = s.tokens.expires_in;
  o["user_id"] = s.tokens.user_id;
  o["practice_id"] = s.tokens.practice_id;
  o["role"] = s.tokens.role;
  if (s.tokens.two_factor) o["two_factor_challenge"] = s.tokens.two_factor->challenge;
  if (s.device) o["device"] = device_to_json(*s.device);
  if (!s.cursors.empty()) {
    json::object cursors;
    for (const auto& [conversation, seq] : s.cursors) cursors[conversation] = seq;
    o["cursors"] = std::move(cursors);
  }
  if (!s.pins.empty()) o["pins"] = client::peer_devices_to_json(s.pins);
  if (s.identity) o["identity"] = identity_to_json(*s.identity);
  if (auto trust = s.trust.to_json(); trust != client::TrustStore().to_json()) o["trust"] = std::move(trust);
  if (!s.integrity.empty()) o["integrity"] = integrity_to_json(s.integrity);
  std::string text = json::serialize(o) + "\n";
  crypto::WipeOnExit wipe_text(text);  // it holds the private keys in base64

  auto parent = path.parent_path();
  if (!parent.empty() && !std::filesystem::exists(parent)) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      errno = ec.value();
      return io_error(path, "cannot create its folder");
    }
    std::filesystem::permissions(parent, std::filesystem::perms::owner_all, ec);
  }
  // The temp file is created 0600 from the start: the tokens are never readable by others.
  auto tmp = path;
  tmp += ".tmp-" + new_id().substr(0, 8);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return io_error(path, "cannot create");
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      auto err = io_error(path, "cannot write");
      ::close(fd);
      ::unlink(tmp.c_str());
      return err;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0600) != 0 || ::fsync(fd) != 0) {
    auto err = io_error(path, "cannot write");
    ::close(fd);
    ::unlink(tmp.c_str());
    return err;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = io_error(path, "cannot replace");
    ::unlink(tmp.c_str());
    return err;
  }
  return {};
}

Status remove_session(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (ec) {
    errno = ec.value();
    return io_error(path, "cannot remove");
  }
  return {};
}

bool carry_over_identity(const std::filesystem::path& path, Session& fresh) {
  auto old = load_session(path);
  if (!old) return false;
  const bool same_user = old->gateway == fresh.gateway && old->tokens.user_id == fresh.tokens.user_id &&
                         old->tokens.practice_id == fresh.tokens.practice_id && !fresh.tokens.user_id.empty();
  if (!same_user) return false;
  fresh.trust = std::move(old->trust);
  fresh.pins = std::move(old->pins);
  if (!old->identity || old->identity->user_id != fresh.tokens.user_id) return false;
  fresh.identity = std::move(old->identity);
  return true;
}

}  // namespace alliance::ctl
