#include "routes.hpp"

namespace alliance::gateway {

const std::vector<Route>& public_routes() { return api::annotated_routes(); }

bool match_path(std::string_view pattern, std::string_view path,
                std::vector<std::pair<std::string, std::string>>& params) {
  params.clear();
  while (!pattern.empty() || !path.empty()) {
    if (pattern.empty() || path.empty() || pattern[0] != '/' || path[0] != '/') return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    auto pe = pattern.find('/');
    auto se = path.find('/');
    auto pseg = pattern.substr(0, pe);
    auto seg = path.substr(0, se);
    if (!pseg.empty() && pseg[0] == '{') {
      auto close = pseg.find('}');
      auto suffix = pseg.substr(close + 1);
      if (seg.size() <= suffix.size() || seg.substr(seg.size() - suffix.size()) != suffix) return false;
      params.emplace_back(std::string(pseg.substr(1, close - 1)),
                          std::string(seg.substr(0, seg.size() - suffix.size())));
    } else if (pseg != seg) {
      return false;
    }
    pattern = pe == std::string_view::npos ? std::string_view() : pattern.substr(pe);
    path = se == std::string_view::npos ? std::string_view() : path.substr(se);
  }
  return true;
}

RouteLookup find_route(std::string_view method, std::string_view path) {
  RouteLookup out;
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& r : public_routes()) {
    if (!match_path(r.path, path, params)) continue;
    if (r.http_method == method) {
      out.match = RouteMatch::kFound;
      out.route = &r;
      out.path_params = std::move(params);
      return out;
    }
    out.match = RouteMatch::kWrongMethod;
    if (!out.allowed_methods.empty()) out.allowed_methods += ", ";
    out.allowed_methods += r.http_method;
  }
  return out;
}

}  // namespace alliance::gateway
