#include "client_search.hpp"

#include <unicode/uchar.h>

#include <algorithm>
#include <tuple>

#include "alliance/core/utf8.hpp"

namespace alliance::identity {
namespace {

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xc0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xe0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  }
}

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

bool before(const SearchPlace& a, const SearchPlace& b) {
  return std::tie(a.folded_name, a.id) < std::tie(b.folded_name, b.id);
}

}  // namespace

std::string fold_case(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  std::size_t i = 0;
  while (i < utf8.size()) {
    if (auto c = next_code_point(utf8, i)) {
      append_utf8(out, static_cast<char32_t>(u_foldCase(static_cast<UChar32>(*c), U_FOLD_CASE_DEFAULT)));
    } else {
      out += utf8[i++];
    }
  }
  return out;
}

SearchPlace search_place(const User& client) { return {fold_case(client.display_name), client.id}; }

std::vector<User> search_page(std::vector<User> clients, const ClientSearch& search,
                              const std::optional<SearchPlace>& after) {
  const std::string prefix = fold_case(search.prefix);
  const std::string word_prefix = " " + prefix;
  std::vector<std::pair<SearchPlace, User>> found;
  for (auto& client : clients) {
    SearchPlace place = search_place(client);
    if (after && !before(*after, place)) continue;
    const bool match = starts_with(place.folded_name, prefix) ||
                       place.folded_name.find(word_prefix) != std::string::npos ||
                       starts_with(fold_case(client.email), prefix);
    if (match) found.emplace_back(std::move(place), std::move(client));
  }
  const std::size_t keep = std::min(found.size(), static_cast<std::size_t>(search.limit) + 1);
  std::partial_sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(keep), found.end(),
                    [](const auto& a, const auto& b) { return before(a.first, b.first); });
  std::vector<User> page;
  page.reserve(keep);
  for (std::size_t i = 0; i < keep; ++i) page.push_back(std::move(found[i].second));
  return page;
}

}  // namespace alliance::identity
