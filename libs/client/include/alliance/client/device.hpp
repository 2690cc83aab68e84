#pragma once
// This device's end-to-end identity: its long-term keys (private parts never leave
// it) and the id the server gave it when the session registered it.
#include <string>
#include <string_view>

#include "alliance/client/alliance_client.hpp"
#include "alliance/crypto/message_seal.hpp"

namespace alliance::client {

struct Device {
  std::string id;       // the server's device id
  std::string user_id;  // the owner
  std::string name;
  crypto::DeviceKeys keys;
};

// Generates fresh keys and registers them for the client's current session
// (POST /v1/devices). A session has at most one device: registering again with
// other keys is kAlreadyExists. Errors are the server's (e.g. kUnauthenticated).
Result<Device> register_device(AllianceClient& client, std::string_view name);
// Registers `keys` (kept, e.g. restored from the device's storage); the same keys
// again answer the same device.
Result<Device> register_device(AllianceClient& client, std::string_view name, crypto::DeviceKeys keys);

// The RegisterDeviceRequest JSON for `keys` (bytes as base64).
boost::json::value register_device_body(std::string_view name, const crypto::DeviceKeys& keys);

}  // namespace alliance::client
