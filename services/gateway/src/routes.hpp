#pragma once
// Finding the public route of a request. The routes themselves are declared in
// the .proto files (alliance/api/http_routes.hpp reads them).
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alliance/api/http_routes.hpp"

namespace alliance::gateway {

using Route = api::Route;

// The routes declared by (alliance.api.v1.http) options in the .proto files.
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
