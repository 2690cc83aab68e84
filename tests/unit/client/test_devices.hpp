#pragma once
// Devices for the SDK's unit tests: fresh keys under a given id and user, and the
// public part a server would list.
#include <string>

#include "alliance/client/device.hpp"
#include "alliance/client/wire.hpp"

namespace alliance::client {

inline Device make_device(std::string id, std::string user) {
  Device d;
  d.id = std::move(id);
  d.user_id = std::move(user);
  d.keys = crypto::generate_device_keys();
  return d;
}

inline PeerDevice public_part(const Device& d) {
  PeerDevice p;
  p.id = d.id;
  p.user_id = d.user_id;
  p.signing_public = d.keys.signing_public;
  p.agreement_public = d.keys.agreement_public;
  p.agreement_signature = d.keys.agreement_signature;
  return p;
}

}  // namespace alliance::client
