#pragma once
// Hash containers keyed by std::string that are searched with a std::string_view (or a
// literal) without building a std::string: C++20 heterogeneous lookup. For hot paths
// such as routing a Redis message by its channel name.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace alliance {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

using StringSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;
template <class Value>
using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;

}  // namespace alliance
