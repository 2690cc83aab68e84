#pragma once
// The public HTTP API as data: each route maps an HTTP method and path onto one
// RPC of an internal service, with the protobuf request and response types the
// JSON body is converted from and to. Adding an endpoint is adding a row.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace alliance::gateway {

struct Route {
  std::string_view http_method;    // "GET", "POST", ...
  // The path; a segment "{field}" (optionally followed by a literal suffix,
  // "{feed_token}.ics") matches any non-empty segment and fills that string
  // field of the request message.
  std::string_view path;
  std::string_view service;        // upstream service name, e.g. "identity"
  std::string_view rpc_method;     // "alliance.identity.v1.Identity/Login"
  std::string_view request_type;   // fully qualified protobuf message name
  std::string_view response_type;
  bool requires_token = true;      // false only for login, refresh and practice creation
  int success_status = 200;
  // The response message has `content_type` and `body` fields that are served
  // as they are (e.g. an iCalendar feed) instead of as JSON.
  bool raw_response = false;
};

const std::vector<Route>& public_routes();

enum class RouteMatch { kFound, kNoSuchPath, kWrongMethod };
struct RouteLookup {
  RouteMatch match = RouteMatch::kNoSuchPath;
  const Route* route = nullptr;
  std::string allowed_methods;  // for 405: "GET, POST"
  std::vector<std::pair<std::string, std::string>> path_params;  // field -> value (still percent-encoded)
};
// Matches a path against a route pattern, collecting "{field}" segments.
bool match_path(std::string_view pattern, std::string_view path,
                std::vector<std::pair<std::string, std::string>>& params);
RouteLookup find_route(std::string_view method, std::string_view path);

}  // namespace alliance::gateway
