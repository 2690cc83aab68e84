#pragma once
// Where the gateway is and how to trust it. Plain data, no I/O.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "alliance/core/result.hpp"

namespace alliance::client {

// The gateway's address. The server certificate is verified against `ca_file`
// (the system trust store when empty) and must name `host` (an IP SAN for
// 127.0.0.1, a DNS SAN for a name).
struct Endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::filesystem::path ca_file;
};

// "https://127.0.0.1:8443" -> Endpoint. https only; the port defaults to 443;
// a trailing "/" is allowed, any other path is not. "[::1]:8443" for IPv6.
// Errors are kInvalidArgument with field "gateway".
Result<Endpoint> parse_gateway_url(std::string_view url, std::filesystem::path ca_file);

}  // namespace alliance::client
