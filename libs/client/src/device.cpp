#include "alliance/client/device.hpp"

#include "alliance/client/wire.hpp"

namespace alliance::client {

namespace json = boost::json;

json::value register_device_body(std::string_view name, const crypto::DeviceKeys& keys) {
  json::object body;
  body["name"] = name;
  body["signing_public_key"] = base64_encode(keys.signing_public);
  body["agreement_public_key"] = base64_encode(keys.agreement_public);
  body["agreement_key_signature"] = base64_encode(keys.agreement_signature);
  return body;
}

Result<Device> register_device(AllianceClient& client, std::string_view name) {
  return register_device(client, name, crypto::generate_device_keys());
}

Result<Device> register_device(AllianceClient& client, std::string_view name, crypto::DeviceKeys keys) {
  auto r = client.post_json("/v1/devices", register_device_body(name, keys));
  if (!r) return std::move(r).error();
  const json::value* device = r->is_object() ? r->as_object().if_contains("device") : nullptr;
  if (!device) return make_error(Code::kInternal, "register device: the answer holds no device");
  auto peer = peer_device_from_json(*device);
  if (!peer) return make_error(Code::kInternal, "register device: " + peer.error().message);
  // The server must have stored exactly our keys; anything else would let it
  // hand out a key we do not hold.
  if (peer->signing_public != keys.signing_public || peer->agreement_public != keys.agreement_public) {
    return make_error(Code::kInternal, "register device: the server answered other keys than ours");
  }
  Device out;
  out.id = std::move(peer->id);
  out.user_id = peer->user_id.empty() ? client.tokens().user_id : std::move(peer->user_id);
  out.name = std::string(name);
  out.keys = std::move(keys);
  return out;
}

}  // namespace alliance::client
