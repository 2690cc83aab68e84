#include "alliance/client/endpoint.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace alliance::client {
namespace {

Error bad_url(std::string_view why) { return invalid_argument("gateway", "gateway: " + std::string(why)); }

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  return std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
}

bool valid_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

}  // namespace

Result<Endpoint> parse_gateway_url(std::string_view url, std::filesystem::path ca_file) {
  if (url.empty()) return bad_url("is empty; expected https://HOST:PORT");
  if (!iequals_prefix(url, "https://")) {
    if (iequals_prefix(url, "http://")) return bad_url("plain http is not supported; use https://");
    return bad_url("must start with https://");
  }
  std::string_view rest = url.substr(8);
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos && rest.substr(slash) != "/") {
    return bad_url("must not have a path, query or fragment");
  }
  if (authority.find_first_of("?#") != std::string_view::npos) {
    return bad_url("must not have a path, query or fragment");
  }
  if (authority.find('@') != std::string_view::npos) return bad_url("must not contain user information");
  if (authority.empty()) return bad_url("has no host");

  Endpoint ep;
  ep.ca_file = std::move(ca_file);
  std::string_view host, port_text;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad_url("has an unterminated [IPv6] host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad_url("has junk after the [IPv6] host");
      port_text = after.substr(1);
      if (port_text.empty()) return bad_url("has an empty port");
    }
    if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos) {
      return bad_url("has an invalid IPv6 host");
    }
  } else {
    auto colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return bad_url("has an empty port");
    }
    if (host.empty()) return bad_url("has no host");
    if (!std::all_of(host.begin(), host.end(), valid_host_char)) return bad_url("has an invalid host name");
  }
  ep.host = std::string(host);
  if (port_text.empty()) {
    ep.port = 443;
  } else {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      return bad_url("port must be a number from 1 to 65535");
    }
    ep.port = static_cast<std::uint16_t>(value);
  }
  return ep;
}

}  // namespace alliance::client
