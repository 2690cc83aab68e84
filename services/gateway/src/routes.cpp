#include "routes.hpp"

#include <algorithm>
#include <cstddef>

#include "alliance/core/string_hash.hpp"

namespace alliance::gateway {

namespace {

// Walks `path` against `pattern` segment by segment; on_param(field, value) for each "{field}".
template <class OnParam>
bool walk(std::string_view pattern, std::string_view path, OnParam&& on_param) {
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
      on_param(pseg.substr(1, close - 1), seg.substr(0, seg.size() - suffix.size()));
    } else if (pseg != seg) {
      return false;
    }
    pattern = pe == std::string_view::npos ? std::string_view() : pattern.substr(pe);
    path = se == std::string_view::npos ? std::string_view() : path.substr(se);
  }
  return true;
}

// What a path shows before its third '/': "/v1/me", "/v1/conversations" (the whole path if shorter).
std::string_view leading_segments(std::string_view path) {
  std::size_t slashes = 0;
  for (std::size_t i = 0; i < path.size(); ++i)
    if (path[i] == '/' && ++slashes == 3) return path.substr(0, i);
  return path;
}

// The routes by their leading segments, so a request tries the few routes that can
// match it instead of every route's pattern. Routes with a parameter among their
// leading segments are tried for every path. Indices keep the declaration order, in
// which routes are tried.
struct RouteIndex {
  StringMap<std::vector<std::size_t>> by_leading;
  std::vector<std::size_t> anywhere;

  explicit RouteIndex(const std::vector<Route>& routes) {
    for (std::size_t i = 0; i < routes.size(); ++i) {
      const std::string_view leading = leading_segments(routes[i].path);
      if (leading.find('{') != std::string_view::npos)
        anywhere.push_back(i);
      else
        by_leading[std::string(leading)].push_back(i);
    }
  }
};

const RouteIndex& route_index() {
  static const RouteIndex index(public_routes());
  return index;
}

}  // namespace

const std::vector<Route>& public_routes() { return api::annotated_routes(); }

bool match_path(std::string_view pattern, std::string_view path,
                std::vector<std::pair<std::string, std::string>>& params) {
  params.clear();
  return walk(pattern, path, [&](std::string_view field, std::string_view value) {
    params.emplace_back(std::string(field), std::string(value));
  });
}

RouteLookup find_route(std::string_view method, std::string_view path) {
  RouteLookup out;
  const auto& routes = public_routes();
  const auto& index = route_index();
  static const std::vector<std::size_t> kNone;
  auto found = index.by_leading.find(leading_segments(path));
  const auto& listed = found == index.by_leading.end() ? kNone : found->second;
  const auto& anywhere = index.anywhere;
  // Both lists in declaration order, merged.
  auto a = listed.begin();
  auto b = anywhere.begin();
  while (a != listed.end() || b != anywhere.end()) {
    const std::size_t i = (b == anywhere.end() || (a != listed.end() && *a < *b)) ? *a++ : *b++;
    const Route& r = routes[i];
    if (!walk(r.path, path, [](std::string_view, std::string_view) {})) continue;
    if (r.http_method == method) {
      out.match = RouteMatch::kFound;
      out.route = &r;
      match_path(r.path, path, out.path_params);
      return out;
    }
    out.match = RouteMatch::kWrongMethod;
    if (!out.allowed_methods.empty()) out.allowed_methods += ", ";
    out.allowed_methods += r.http_method;
  }
  return out;
}

}  // namespace alliance::gateway
